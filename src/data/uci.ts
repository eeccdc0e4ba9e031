/**
 * The small UCI data sets vendored in data/uci/ (see its ATTRIBUTION.md): iris, wine, breast cancer
 * and 8×8 digits (classification) and diabetes (regression). Features are standardised with the
 * training split's mean and deviation; the split is seeded (80% train, 20% test).
 */
import { readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { gunzipSync } from 'node:zlib';
import { ParseError, UsageError } from '../errors.js';
import { Rng } from '../linalg/random.js';
import { type Dataset, gather, shuffled } from './dataset.js';

export const UCI_SETS = ['iris', 'wine', 'breast-cancer', 'digits', 'diabetes'] as const;
export type UciName = (typeof UCI_SETS)[number];

const dir = () => join(dirname(fileURLToPath(import.meta.url)), '..', '..', 'data', 'uci');

function text(file: string): string {
  const path = join(dir(), file);
  const raw = readFileSync(path);
  return (file.endsWith('.gz') ? gunzipSync(raw) : raw).toString('utf8');
}

function rows(src: string, file: string, sep: RegExp): number[][] {
  return src
    .trim()
    .split('\n')
    .map((line, i) => {
      const v = line.trim().split(sep).map(Number);
      if (v.some(Number.isNaN)) throw new ParseError(file, `line ${i + 1}: not all numbers`);
      return v;
    });
}

/** Rows of features with the label in the last column (sklearn's header line skipped when present). */
function labelled(file: string, header: boolean): { x: number[][]; y: number[] } {
  const lines = text(file).trim().split('\n');
  const data = rows((header ? lines.slice(1) : lines).join('\n'), file, /,/);
  return { x: data.map((r) => r.slice(0, -1)), y: data.map((r) => r[r.length - 1]) };
}

/** The whole data set (unsplit, unscaled). */
export function loadUciRaw(name: string): { x: number[][]; y: number[]; classification: boolean } {
  switch (name as UciName) {
    case 'iris':
      return { ...labelled('iris.csv', true), classification: true };
    case 'wine':
      return { ...labelled('wine_data.csv', true), classification: true };
    case 'breast-cancer':
      return { ...labelled('breast_cancer.csv', true), classification: true };
    case 'digits':
      return { ...labelled('digits.csv.gz', false), classification: true };
    case 'diabetes': {
      const x = rows(text('diabetes_data_raw.csv.gz'), 'diabetes_data_raw.csv.gz', /\s+/);
      const y = rows(text('diabetes_target.csv.gz'), 'diabetes_target.csv.gz', /\s+/).map((r) => r[0]);
      return { x, y, classification: false };
    }
    default:
      throw new UsageError(`unknown UCI data set '${name}'; valid: ${UCI_SETS.join(', ')}`);
  }
}

/** A seeded 80/20 split with standardised features (targets: int labels, or float regression values). */
export function loadUci(name: string, seed = 0): { train: Dataset; test: Dataset } {
  const { x, y, classification } = loadUciRaw(name);
  const n = x.length;
  const d = x[0].length;
  const all: Dataset = {
    n,
    x: Float32Array.from(x.flat()),
    xDim: d,
    y: classification ? Int32Array.from(y) : Float32Array.from(y),
    yDim: 1,
  };
  const order = shuffled(n, new Rng(seed));
  const nTrain = Math.round(0.8 * n);
  const pick = (idx: Uint32Array): Dataset => {
    const b = gather(all, idx);
    return { n: b.size, x: b.x, xDim: d, y: b.y, yDim: 1 };
  };
  const train = pick(order.subarray(0, nTrain));
  const test = pick(order.subarray(nTrain));
  for (let j = 0; j < d; j++) {
    let mean = 0;
    for (let i = 0; i < train.n; i++) mean += train.x[i * d + j] / train.n;
    let v = 0;
    for (let i = 0; i < train.n; i++) v += (train.x[i * d + j] - mean) ** 2 / train.n;
    const sd = Math.sqrt(v) || 1;
    for (const s of [train, test])
      for (let i = 0; i < s.n; i++) s.x[i * d + j] = (s.x[i * d + j] - mean) / sd;
  }
  return { train, test };
}

/**
 * The class names of a classification set, index k naming label k (sklearn's header line
 * `n,d,name0,name1,…`; the digits are their own names); undefined for the regression set.
 * @example
 * ```ts
 * uciClassNames('iris'); // ['setosa', 'versicolor', 'virginica']
 * ```
 */
export function uciClassNames(name: string): string[] | undefined {
  const files: Partial<Record<UciName, string>> = {
    iris: 'iris.csv',
    wine: 'wine_data.csv',
    'breast-cancer': 'breast_cancer.csv',
  };
  if (name === 'digits') return Array.from({ length: 10 }, (_, k) => String(k));
  if (name === 'diabetes') return undefined;
  const file = files[name as UciName];
  if (!file) throw new UsageError(`unknown UCI data set '${name}'; valid: ${UCI_SETS.join(', ')}`);
  const header = text(file).split('\n', 1)[0].trim().split(',');
  return header.slice(2);
}
