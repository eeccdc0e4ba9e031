/**
 * A user's own supervised data — arrays in memory, a `.npy` pair or a CSV file with a header — as
 * the project's train/test {@link Dataset}s: a seeded split, inputs (and regression targets)
 * standardised with the training split's mean and deviation, and class labels mapped to 0..K−1.
 *
 * Labels decide the kind: class names, or numbers that are all integers, make a classification
 * problem; any non-integer number makes a regression one (`kind` overrides, e.g. for integer-valued
 * regression targets such as counts).
 */
import { readFileSync } from 'node:fs';
import { basename, extname } from 'node:path';
import { gunzipSync } from 'node:zlib';
import { NonFiniteError, ParseError, ShapeError, UsageError } from '../errors.js';
import { Rng } from '../linalg/random.js';
import { type Dataset, shuffled } from './dataset.js';

/** Whether the labels are classes (a classification problem) or numeric targets (regression). */
export type DataKind = 'classification' | 'regression';

/** The training split's statistics the data were standardised with (x ↦ (x − mean) / std). */
export interface Standardisation {
  /** Per input column. */
  inputMean: number[];
  /** Per input column (1 for a constant column, which becomes all zeros). */
  inputStd: number[];
  /** Regression only: the target's mean and deviation (losses scale back by targetStd²). */
  targetMean?: number;
  targetStd?: number;
}

/** A user's data set, split and scaled, ready for {@link mlpTask} (src/train/user-task.ts). */
export interface UserDataset {
  /** Where it came from: the file's base name, or `options.name` (default 'arrays'). */
  name: string;
  train: Dataset;
  test: Dataset;
  kind: DataKind;
  /** Classification: the class of each label index 0..K−1 (names, or the numbers as written). */
  classes?: string[];
  inputDim: number;
  /** Number of classes, or 1 for regression. */
  outputDim: number;
  /** Names of the input columns (CSV files only). */
  columns?: string[];
  /** Absent when `standardise: false`. */
  standardisation?: Standardisation;
}

/** How {@link datasetFromArrays} and the file readers split, scale and name the data. */
export interface UserDataOptions {
  /** Share of the rows held out as the test split (default 0.1; at least one row each side). */
  testFraction?: number;
  /** Seed of the split's shuffle (default 0). */
  seed?: number;
  /** Overrides the kind inferred from the labels. */
  kind?: DataKind;
  /** Standardise inputs (and regression targets) from the training split (default true). */
  standardise?: boolean;
  /** Name used in task names and messages (default: the file's base name, or 'arrays'). */
  name?: string;
}

/** {@link UserDataOptions} plus where a file's labels are: a CSV column, or a second `.npy`. */
export interface DataFileOptions extends UserDataOptions {
  /** CSV: the header name of the label column (default: the last column). */
  labelColumn?: string;
  /** `.npy`: the path of the labels `.npy` (1-D, or n×1) that goes with the inputs file. */
  labels?: string;
}

/** Labels as read, with a way to say where label i came from in messages. */
interface RawLabels {
  values: ArrayLike<number> | readonly string[];
  /** e.g. "y[3]", "row 4 (line 5)". */
  where: (i: number) => string;
  /** Prefix for errors about the labels: a file name, or 'y'. */
  source: string;
}

/**
 * A data set from arrays in memory: `X` as n rows of d numbers (or a flat row-major Float32Array of
 * n·d values, n = the number of labels), `y` as n labels.
 *
 * @throws ShapeError when X and y disagree in length, or X's rows in width (naming both shapes);
 * NonFiniteError for a NaN/±Inf input; UsageError for bad labels or options.
 * @example
 * ```ts
 * import { datasetFromArrays } from 'riesz/node';
 * // Is the point inside the unit circle? 400 points, names as labels.
 * const X = Array.from({ length: 400 }, (_, i) => [Math.cos(i * 2.4) * (i % 7) / 4, Math.sin(i * 2.4) * (i % 7) / 4]);
 * const y = X.map(([a, b]) => (a * a + b * b < 1 ? 'inside' : 'outside'));
 * const data = datasetFromArrays(X, y, { testFraction: 0.25, seed: 1 });
 * // data.kind === 'classification', data.classes = ['inside', 'outside'],
 * // data.train.n === 300, data.test.n === 100, inputs standardised from the 300 training rows.
 * ```
 */
export function datasetFromArrays(
  X: Float32Array | Float64Array | readonly (readonly number[])[],
  y: ArrayLike<number> | readonly string[],
  options: UserDataOptions = {},
): UserDataset {
  const n = y.length;
  if (n === 0) throw new ShapeError('y has shape (0,): no rows');
  let d: number;
  let x: Float64Array;
  if (ArrayBuffer.isView(X)) {
    if (X.length % n !== 0) {
      throw new ShapeError(
        `X has ${X.length} values, not a whole number of rows for the ${n} labels of y (shape (${n},))`,
      );
    }
    d = X.length / n;
    x = Float64Array.from(X);
  } else {
    if (X.length !== n)
      throw new ShapeError(`X has shape (${X.length}, ${X[0]?.length ?? 0}) but y has shape (${n},)`);
    d = X[0]?.length ?? 0;
    x = new Float64Array(n * d);
    X.forEach((row, i) => {
      if (row.length !== d)
        throw new ShapeError(`X row ${i} has ${row.length} values, row 0 has ${d} (X is ${n}×${d})`);
      x.set(row, i * d);
    });
  }
  if (d === 0) throw new ShapeError(`X has shape (${n}, 0): no input columns`);
  for (let k = 0; k < x.length; k++) {
    if (!Number.isFinite(x[k])) throw new NonFiniteError('X', Math.floor(k / d), k % d, x[k]);
  }
  const labels: RawLabels = { values: y, where: (i) => `y[${i}]`, source: 'y' };
  return build(options.name ?? 'arrays', x, n, d, labels, options);
}

/**
 * A data set from a file: `.csv` (also `.tsv`, `.txt`, `.csv.gz`) with a header row, or `.npy`
 * inputs with `options.labels` naming the labels `.npy`. A CSV label column may hold numbers or class
 * names; every other column must be numeric. The delimiter (`,`, `;`, tab, or else runs of spaces)
 * is read off the header.
 *
 * @throws ParseError naming the file, the row and column and the bad cell (or the columns it has,
 * when `labelColumn` is not one of them); ShapeError when the inputs and labels `.npy` disagree
 * (naming both files' shapes); UsageError for an unsupported file type or a missing labels file.
 * @example
 * ```ts
 * import { datasetFromFile } from 'riesz/node';
 * // flowers.csv:  sepal_length,sepal_width,species
 * //               5.1,3.5,setosa
 * //               ...
 * const data = datasetFromFile('flowers.csv', { labelColumn: 'species' });
 * // data.classes = ['setosa', ...]; data.columns = ['sepal_length', 'sepal_width']
 * const points = datasetFromFile('X.npy', { labels: 'y.npy', testFraction: 0.2 });
 * ```
 */
export function datasetFromFile(path: string, options: DataFileOptions = {}): UserDataset {
  const lower = path.toLowerCase();
  const name = options.name ?? basename(path);
  if (lower.endsWith('.npy')) {
    if (!options.labels) {
      throw new UsageError(`${path}: a .npy inputs file needs its labels: pass labels: 'PATH.npy'`);
    }
    const X = readNpy(readBytes(path), path);
    if (X.strings) throw new ParseError(path, `inputs must be numbers, not strings (dtype '${X.descr}')`);
    if (X.shape.length !== 2) {
      throw new ParseError(path, `expected a 2-D array of inputs (n, d), got shape ${shapeText(X.shape)}`);
    }
    const Y = readNpy(readBytes(options.labels), options.labels);
    const [n, d] = X.shape;
    const labelsOk = Y.shape.length === 1 || (Y.shape.length === 2 && Y.shape[1] === 1);
    if (!labelsOk || Y.shape[0] !== n) {
      throw new ShapeError(
        `inputs ${path} have shape ${shapeText(X.shape)} but labels ${options.labels} have shape ${shapeText(Y.shape)}: expected (${n},) or (${n}, 1)`,
      );
    }
    const x = X.values!;
    for (let k = 0; k < x.length; k++) {
      if (!Number.isFinite(x[k]))
        throw new ParseError(path, `X[${Math.floor(k / d)}, ${k % d}] = ${x[k]} is not a finite number`);
    }
    const labels: RawLabels = {
      values: Y.strings ?? Y.values!,
      where: (i) => `labels[${i}]`,
      source: options.labels,
    };
    return build(name, x, n, d, labels, options);
  }
  if (/\.(csv|tsv|txt)(\.gz)?$/.test(lower)) {
    const raw = readBytes(path);
    const text = (lower.endsWith('.gz') ? gunzip(raw, path) : Buffer.from(raw)).toString('utf8');
    return fromCsvText(text, path, name, options);
  }
  throw new UsageError(
    `${path}: unsupported file type '${extname(path) || '(none)'}': expected .csv, .tsv, .txt (optionally .gz) or .npy`,
  );
}

/** Parses CSV text (the work of {@link datasetFromFile} for CSV files; `file` names it in errors). */
export function datasetFromCsvText(text: string, file: string, options: DataFileOptions = {}): UserDataset {
  return fromCsvText(text, file, options.name ?? basename(file), options);
}

/**
 * A loss of a regression task back in the target's original units: the squared error ½(z − t)² of
 * standardised targets times targetStd². Classification losses (and unscaled data) come back as is.
 * @example
 * ```ts
 * const s = await train(mlpTask(data), { optimizer: 'adam' });
 * lossInOriginalUnits(data, s.final_test_loss); // ½·MSE in the target's units²
 * ```
 */
export function lossInOriginalUnits(data: UserDataset, loss: number): number {
  const s = data.standardisation?.targetStd;
  return data.kind === 'regression' && s !== undefined ? loss * s * s : loss;
}

function shapeText(shape: number[]): string {
  return shape.length === 1 ? `(${shape[0]},)` : `(${shape.join(', ')})`;
}

function readBytes(path: string): Uint8Array {
  try {
    return new Uint8Array(readFileSync(path));
  } catch {
    throw new ParseError(path, 'cannot read the file (missing?)');
  }
}

function gunzip(raw: Uint8Array, path: string): Buffer {
  try {
    return gunzipSync(raw);
  } catch {
    throw new ParseError(path, 'corrupt gzip data');
  }
}

// ---------------------------------------------------------------------------------------------
// CSV

/** The cells of one line; quotes ("a,b", "say ""hi""") group and escape. */
function splitLine(line: string, sep: string, file: string, lineNo: number): string[] {
  if (sep === ' ') return line.trim().split(/\s+/);
  const cells: string[] = [];
  let cur = '';
  let quoted = false;
  for (let i = 0; i < line.length; i++) {
    const c = line[i];
    if (quoted) {
      if (c === '"' && line[i + 1] === '"') {
        cur += '"';
        i++;
      } else if (c === '"') quoted = false;
      else cur += c;
    } else if (c === '"' && cur.trim() === '') {
      quoted = true;
      cur = '';
    } else if (c === sep) {
      cells.push(cur.trim());
      cur = '';
    } else cur += c;
  }
  if (quoted) throw new ParseError(file, `line ${lineNo}: a quoted cell is not closed`);
  cells.push(cur.trim());
  return cells;
}

/**
 * The delimiter most used (outside quotes) in the header line: ',' unless ';' or tab win; runs of
 * spaces (no quoting) when the header has none of them.
 */
function delimiterOf(header: string): string {
  const bare = header.replace(/"[^"]*"/g, '');
  const count = (c: string) => bare.split(c).length - 1;
  const best = [',', ';', '\t'].reduce((b, c) => (count(c) > count(b) ? c : b), ',');
  return count(best) === 0 && /\S\s+\S/.test(bare.trim()) ? ' ' : best;
}

function fromCsvText(text: string, file: string, name: string, options: DataFileOptions): UserDataset {
  const lines = text.split(/\r?\n/);
  const h = lines.findIndex((l) => l.trim() !== '');
  if (h < 0) throw new ParseError(file, 'empty file: expected a header row and data rows');
  const sep = delimiterOf(lines[h]);
  const header = splitLine(lines[h].replace(/^\uFEFF/, ''), sep, file, h + 1);
  const label = options.labelColumn === undefined ? header.length - 1 : header.indexOf(options.labelColumn);
  if (label < 0) {
    throw new ParseError(
      file,
      `no column '${options.labelColumn}' in the header; the columns are: ${header.map((c) => `'${c}'`).join(', ')}`,
    );
  }
  if (header.length < 2) {
    throw new ParseError(
      file,
      `the header has ${header.length} column ('${header[0]}'); expected input columns and a label column`,
    );
  }
  const columns = header.filter((_, j) => j !== label);
  const d = columns.length;
  const values: number[] = [];
  const cells: string[] = [];
  const lineOf: number[] = [];
  for (let i = h + 1; i < lines.length; i++) {
    if (lines[i].trim() === '') continue;
    const row = splitLine(lines[i], sep, file, i + 1);
    const r = lineOf.length + 1; // data row, 1-based (the header is row 0)
    if (row.length !== header.length) {
      throw new ParseError(
        file,
        `row ${r} (line ${i + 1}) has ${row.length} cells, the header has ${header.length} columns`,
      );
    }
    row.forEach((cell, j) => {
      if (j === label) return;
      const v = cell === '' ? Number.NaN : Number(cell);
      if (!Number.isFinite(v)) {
        throw new ParseError(
          file,
          `row ${r} (line ${i + 1}), column ${j + 1} '${header[j]}': ${cell === '' ? 'empty cell' : `'${cell}'`} is not ${Number.isNaN(v) ? 'a number' : 'a finite number'} (input columns must be numeric)`,
        );
      }
      values.push(v);
    });
    const y = row[label];
    if (y === '') {
      throw new ParseError(
        file,
        `row ${r} (line ${i + 1}), column ${label + 1} '${header[label]}': empty label`,
      );
    }
    cells.push(y);
    lineOf.push(i + 1);
  }
  const n = cells.length;
  if (n === 0) throw new ParseError(file, 'no data rows after the header');
  // Numbers when every label cell is one (finite); class names otherwise.
  const numbers = cells.map(Number);
  const numeric = numbers.every(Number.isFinite);
  const labels: RawLabels = {
    values: numeric ? numbers : cells,
    where: (i) => `row ${i + 1} (line ${lineOf[i]}), column ${label + 1} '${header[label]}'`,
    source: file,
  };
  const out = build(name, Float64Array.from(values), n, d, labels, options);
  out.columns = columns;
  return out;
}

// ---------------------------------------------------------------------------------------------
// .npy (the numeric, boolean and unicode-string dtypes NumPy writes for inputs and labels; io/npy.ts
// reads only floating and complex ones)

interface NpyTable {
  descr: string;
  shape: number[];
  /** Numeric and boolean dtypes, row-major. */
  values?: Float64Array;
  /** Unicode dtypes (`<U…`), row-major. */
  strings?: string[];
}

const NPY_MAGIC = [0x93, 0x4e, 0x55, 0x4d, 0x50, 0x59];

function readNpy(bytes: Uint8Array, file: string): NpyTable {
  if (bytes.length < 10 || NPY_MAGIC.some((b, i) => bytes[i] !== b))
    throw new ParseError(file, 'not a .npy file (missing the \\x93NUMPY magic string)');
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const major = bytes[6];
  if (major < 1 || major > 3)
    throw new ParseError(file, `unsupported .npy format version ${major}.${bytes[7]}`);
  const start = major === 1 ? 10 : 12;
  if (bytes.length < start) throw new ParseError(file, 'truncated .npy header');
  const len = major === 1 ? view.getUint16(8, true) : view.getUint32(8, true);
  if (start + len > bytes.length) throw new ParseError(file, 'truncated .npy header');
  const header = new TextDecoder().decode(bytes.subarray(start, start + len));
  const descr = /'descr'\s*:\s*'([^']*)'/.exec(header)?.[1];
  const fortran = /'fortran_order'\s*:\s*(True|False)/.exec(header)?.[1] === 'True';
  const dims = /'shape'\s*:\s*\(([^)]*)\)/.exec(header)?.[1];
  if (descr === undefined || dims === undefined)
    throw new ParseError(file, `not a valid .npy header: ${header.trim()}`);
  const shape = dims
    .split(',')
    .map((s) => s.trim())
    .filter((s) => s !== '')
    .map(Number);
  if (shape.length < 1 || shape.length > 2 || shape.some((v) => !Number.isInteger(v) || v < 0))
    throw new ParseError(file, `expected a 1-D or 2-D array, got shape (${dims})`);
  const m = /^([<>|=])([fiubU])(\d+)$/.exec(descr);
  const little = m?.[1] !== '>';
  const code = m?.[2] ?? '';
  const size = Number(m?.[3]);
  const readers: Record<string, (o: number) => number> = {
    f4: (o) => view.getFloat32(o, little),
    f8: (o) => view.getFloat64(o, little),
    i1: (o) => view.getInt8(o),
    i2: (o) => view.getInt16(o, little),
    i4: (o) => view.getInt32(o, little),
    i8: (o) => Number(view.getBigInt64(o, little)),
    u1: (o) => view.getUint8(o),
    u2: (o) => view.getUint16(o, little),
    u4: (o) => view.getUint32(o, little),
    u8: (o) => Number(view.getBigUint64(o, little)),
    b1: (o) => view.getUint8(o),
  };
  const item = code === 'U' ? 4 * size : size;
  const read = readers[`${code}${size}`];
  if (!m || (code !== 'U' && !read)) {
    throw new ParseError(file, `unsupported dtype '${descr}' (expected float, integer, bool or unicode)`);
  }
  const [rows, cols] = [shape[0], shape[1] ?? 1];
  const count = rows * cols;
  const data = start + len;
  if (bytes.length - data < count * item) {
    throw new ParseError(
      file,
      `truncated data: shape ${shapeText(shape)} of ${descr} needs ${count * item} bytes, found ${bytes.length - data}`,
    );
  }
  // File element k sits at row-major index dst(k): C order is the identity.
  const dst = (k: number) => (fortran ? (k % rows) * cols + Math.floor(k / rows) : k);
  if (code === 'U') {
    const strings = new Array<string>(count);
    for (let k = 0; k < count; k++) {
      let s = '';
      for (let c = 0; c < size; c++) {
        const cp = view.getUint32(data + k * item + 4 * c, little);
        if (cp === 0) break;
        s += String.fromCodePoint(cp);
      }
      strings[dst(k)] = s;
    }
    return { descr, shape, strings };
  }
  const values = new Float64Array(count);
  for (let k = 0; k < count; k++) values[dst(k)] = read(data + k * item);
  return { descr, shape, values };
}

// ---------------------------------------------------------------------------------------------
// Labels, split and standardisation

interface Targets {
  kind: DataKind;
  /** Class index (classification) or value (regression) per row. */
  y: Float64Array;
  classes?: string[];
}

function targetsOf(labels: RawLabels, kind: DataKind | undefined): Targets {
  const { values, where, source } = labels;
  const n = values.length;
  const at = (i: number) => `${source}: ${where(i)}`;
  if (n > 0 && typeof values[0] === 'string') {
    const names = Array.from(values as readonly string[], String);
    if (kind === 'regression') {
      throw new UsageError(`${at(0)}: class name '${names[0]}' cannot be a regression target`);
    }
    const classes = [...new Set(names)].sort();
    const index = new Map(classes.map((c, k) => [c, k]));
    return { kind: 'classification', y: Float64Array.from(names, (s) => index.get(s)!), classes };
  }
  const nums = Float64Array.from(values as ArrayLike<number>);
  for (let i = 0; i < n; i++) {
    if (!Number.isFinite(nums[i]))
      throw new UsageError(`${at(i)}: label ${values[i]} is not a finite number`);
  }
  const firstFraction = nums.findIndex((v) => !Number.isInteger(v));
  const k = kind ?? (firstFraction < 0 ? 'classification' : 'regression');
  if (k === 'regression') return { kind: k, y: nums };
  if (firstFraction >= 0) {
    throw new UsageError(`${at(firstFraction)}: label ${nums[firstFraction]} is not an integer class label`);
  }
  const distinct = [...new Set(nums)].sort((a, b) => a - b);
  const index = new Map(distinct.map((c, j) => [c, j]));
  return {
    kind: 'classification',
    y: nums.map((v) => index.get(v)!),
    classes: distinct.map(String),
  };
}

/** Mean and (population) deviation of column j of row-major rows `idx` of an n×d array. */
function moments(a: Float64Array, d: number, j: number, idx: ArrayLike<number>): [number, number] {
  let mean = 0;
  for (let r = 0; r < idx.length; r++) mean += a[idx[r] * d + j];
  mean /= idx.length;
  let v = 0;
  for (let r = 0; r < idx.length; r++) v += (a[idx[r] * d + j] - mean) ** 2;
  const sd = Math.sqrt(v / idx.length);
  // A constant column (sd 0, or rounding noise on it) would blow up: leave it centred at zero.
  return [mean, sd > 1e-12 * Math.max(1, Math.abs(mean)) ? sd : 1];
}

function build(
  name: string,
  x: Float64Array,
  n: number,
  d: number,
  labels: RawLabels,
  options: UserDataOptions,
): UserDataset {
  const f = options.testFraction ?? 0.1;
  if (!(f > 0 && f < 1)) throw new UsageError(`testFraction must be between 0 and 1 (exclusive), got ${f}`);
  const nTest = Math.max(1, Math.round(f * n));
  if (n - nTest < 1) {
    throw new UsageError(
      `${name}: ${n} rows are too few to hold out ${nTest} for testFraction ${f} and train on the rest`,
    );
  }
  const t = targetsOf(labels, options.kind);
  if (t.classes && t.classes.length < 2) {
    throw new UsageError(
      `${labels.source}: every label is '${t.classes[0]}': classification needs two classes`,
    );
  }
  const order = shuffled(n, new Rng(options.seed ?? 0));
  const trainIdx = order.subarray(0, n - nTest);
  const testIdx = order.subarray(n - nTest);
  const standardise = options.standardise ?? true;
  let std: Standardisation | undefined;
  const xs = new Float64Array(d).fill(0);
  const xd = new Float64Array(d).fill(1);
  let ym = 0;
  let ysd = 1;
  if (standardise) {
    for (let j = 0; j < d; j++) [xs[j], xd[j]] = moments(x, d, j, trainIdx);
    std = { inputMean: Array.from(xs), inputStd: Array.from(xd) };
    if (t.kind === 'regression') {
      [ym, ysd] = moments(t.y, 1, 0, trainIdx);
      std.targetMean = ym;
      std.targetStd = ysd;
    }
  }
  const pick = (idx: Uint32Array): Dataset => {
    const m = idx.length;
    const xo = new Float32Array(m * d);
    const yo = t.kind === 'classification' ? new Int32Array(m) : new Float32Array(m);
    for (let r = 0; r < m; r++) {
      const i = idx[r];
      for (let j = 0; j < d; j++) xo[r * d + j] = (x[i * d + j] - xs[j]) / xd[j];
      yo[r] = t.kind === 'classification' ? t.y[i] : (t.y[i] - ym) / ysd;
    }
    return { n: m, x: xo, xDim: d, y: yo, yDim: 1 };
  };
  return {
    name,
    train: pick(trainIdx),
    test: pick(testIdx),
    kind: t.kind,
    ...(t.classes ? { classes: t.classes } : {}),
    inputDim: d,
    outputDim: t.classes ? t.classes.length : 1,
    ...(std ? { standardisation: std } : {}),
  };
}
