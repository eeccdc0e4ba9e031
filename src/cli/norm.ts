/**
 * `riesz norm A [--domain V|identity] [--codomain W|identity] [--kind K] [--json]` — the norm of the
 * map A: 𝕂ⁿ → 𝕂ᵐ (m×n) between inner-product spaces with Gram matrices V (n×n) and W (m×m).
 * A 1-D array given as a Gram matrix means a diagonal Gram matrix.
 */
import { UsageError } from '../errors.js';
import { frobeniusNorm } from '../geometry/frobenius.js';
import { dense } from '../geometry/inner-product/dense.js';
import { diagonal, identity } from '../geometry/inner-product/diagonal.js';
import type { InnerProduct } from '../geometry/inner-product/inner-product.js';
import { maximalResponse, nuclearNorm, schattenNorm } from '../geometry/spectral.js';
import { twoToQBounds } from '../geometry/two-to-q.js';
import { readMatrixFile } from '../io/files.js';
import { assertFinite, type Matrix } from '../linalg/matrix.js';
import { describeOptions, type OptionSpec, parseArgs } from './args.js';
import { fmt } from './table.js';

export const NORM_KINDS = ['frobenius', 'operator', 'nuclear', 'schatten:P', 'two-to-q:Q'] as const;

export const normOptions: Record<string, OptionSpec> = {
  domain: {
    type: 'string',
    value: 'V|identity',
    help: 'Gram matrix of the domain (n×n; a 1-D array = diagonal); default identity',
  },
  codomain: {
    type: 'string',
    value: 'W|identity',
    help: 'Gram matrix of the codomain (m×m; a 1-D array = diagonal); default identity',
  },
  kind: { type: 'string', value: 'K', help: `norm: ${NORM_KINDS.join(', ')}; default frobenius` },
  json: { type: 'boolean', help: 'print one JSON object' },
  debug: { type: 'boolean', help: 'show stack traces on errors' },
  help: { type: 'boolean', help: 'show this help' },
};

export const normHelp = `usage: riesz norm A [--domain V|identity] [--codomain W|identity] [--kind K] [--json]

The norm of the linear map A: 𝕂ⁿ → 𝕂ᵐ (an m×n matrix, real or complex) between inner-product
spaces with Gram matrices V (domain, n×n) and W (codomain, m×m). Files: .npy, .mtx, .csv/.txt.

  frobenius    ‖A‖_{V,W} = √tr(V⁻¹AᴴWA) — also prints the average response ‖A‖²/n over the V-unit
               sphere next to the maximal response (operator norm)
  operator     σ₁ = max ‖Ax‖_W over ⟨x,x⟩_V = 1
  nuclear      Σσᵢ;  schatten:P  (Σσᵢᴾ)^{1/P}, P ≥ 1
  two-to-q:Q   certified bounds on max ‖Ax‖_q over ‖x‖₂ = 1 (real A, Q > 2; V, W must be identity)

options:
${describeOptions(normOptions)}`;

type Kind =
  | { name: 'frobenius' | 'operator' | 'nuclear' }
  | { name: 'schatten'; p: number }
  | { name: 'two-to-q'; q: number };

function parseKind(text: string): Kind {
  const [name, param, ...rest] = text.split(':');
  const bad = () => new UsageError(`unknown --kind '${text}'; valid kinds: ${NORM_KINDS.join(', ')}`);
  if (rest.length > 0) throw bad();
  if ((name === 'frobenius' || name === 'operator' || name === 'nuclear') && param === undefined)
    return { name };
  if (name === 'schatten' || name === 'two-to-q') {
    const v = param === 'inf' ? Number.POSITIVE_INFINITY : Number(param);
    if (param === undefined || param === '' || Number.isNaN(v)) {
      throw new UsageError(
        `--kind ${name} needs a number: ${name === 'schatten' ? 'schatten:P with P ≥ 1' : 'two-to-q:Q with Q > 2'}`,
      );
    }
    if (name === 'schatten') {
      if (!(v >= 1)) throw new UsageError(`--kind schatten:P needs P ≥ 1, got ${param}`);
      return { name, p: v };
    }
    if (!(v > 2) || !Number.isFinite(v))
      throw new UsageError(`--kind two-to-q:Q needs a finite Q > 2, got ${param}`);
    return { name, q: v };
  }
  throw bad();
}

function loadGram(
  spec: string | boolean | undefined,
  dim: number,
  role: 'domain' | 'codomain',
): { ip: InnerProduct; label: string } {
  const name = role === 'domain' ? 'domain Gram matrix V' : 'codomain Gram matrix W';
  if (spec === undefined || spec === 'identity') return { ip: identity(dim), label: 'identity' };
  const path = String(spec);
  const { matrix, ndim } = readMatrixFile(path);
  const fileName = `${name} (${path})`;
  if (ndim === 1 || (matrix.cols === 1 && matrix.rows === dim && dim > 1)) {
    if (matrix.im) throw new UsageError(`${fileName}: a diagonal Gram matrix must be real`);
    if (matrix.rows !== dim) {
      throw new UsageError(
        `${fileName} has ${matrix.rows} diagonal entries but A needs ${dim} (${role === 'domain' ? 'A is m×n, V is n×n' : 'A is m×n, W is m×m'})`,
      );
    }
    return { ip: diagonal(matrix.re, fileName), label: path };
  }
  if (matrix.rows !== dim || matrix.cols !== dim) {
    throw new UsageError(
      `${fileName} is ${matrix.rows}×${matrix.cols} but A needs ${dim}×${dim} (${role === 'domain' ? 'V is n×n for A m×n' : 'W is m×m for A m×n'})`,
    );
  }
  return { ip: dense(matrix, fileName), label: path };
}

export interface NormResult {
  kind: string;
  shape: [number, number];
  field: 'real' | 'complex';
  domain: string;
  codomain: string;
  value?: number;
  lower?: number;
  upper?: number;
  average_response?: number;
  operator_norm?: number;
}

/** Computes what `riesz norm` prints, from already-parsed options. */
export function computeNorm(aPath: string, opts: Parsed['options']): NormResult {
  const kind = parseKind(String(opts.kind ?? 'frobenius'));
  const { matrix: A } = readMatrixFile(aPath);
  assertFinite(A, `A (${aPath})`);
  const V = loadGram(opts.domain, A.cols, 'domain');
  const W = loadGram(opts.codomain, A.rows, 'codomain');
  const g = { domain: V.ip, codomain: W.ip };
  const base = {
    shape: [A.rows, A.cols] as [number, number],
    field: (A.im || V.ip.complex || W.ip.complex ? 'complex' : 'real') as 'real' | 'complex',
    domain: V.label,
    codomain: W.label,
  };
  switch (kind.name) {
    case 'frobenius': {
      const value = frobeniusNorm(A, g);
      const op = A.rows * A.cols === 0 ? 0 : maximalResponse(A, g).value;
      return {
        kind: 'frobenius',
        ...base,
        value,
        average_response: A.cols ? (value * value) / A.cols : 0,
        operator_norm: op,
      };
    }
    case 'operator':
      return { kind: 'operator', ...base, value: A.rows * A.cols === 0 ? 0 : maximalResponse(A, g).value };
    case 'nuclear':
      return { kind: 'nuclear', ...base, value: nuclearNorm(A, g) };
    case 'schatten':
      return { kind: `schatten:${kind.p}`, ...base, value: schattenNorm(A, kind.p, g) };
    case 'two-to-q': {
      if (V.label !== 'identity' || W.label !== 'identity') {
        throw new UsageError('--kind two-to-q uses Euclidean spaces: leave out --domain and --codomain');
      }
      const b = twoToQBounds(A as Matrix, kind.q);
      return { kind: `two-to-q:${kind.q}`, ...base, lower: b.lower, upper: b.upper };
    }
  }
}

type Parsed = ReturnType<typeof parseArgs>;

/** Human-readable rendering of a NormResult. */
export function formatNorm(r: NormResult): string {
  const [m, n] = r.shape;
  const where = `A: ${r.field} ${m}×${n}, domain ${r.domain}, codomain ${r.codomain}`;
  if (r.kind === 'frobenius') {
    const v = r.value!;
    return [
      fmt(v),
      `  Frobenius-type norm ‖A‖_{V,W}            ${fmt(v)}`,
      `  average response ‖A‖²/n on the V-sphere  ${fmt(r.average_response!)}   (n = ${n})`,
      `  maximal response σ₁² = ‖A‖²_op           ${fmt(r.operator_norm! ** 2)}   (operator norm ${fmt(r.operator_norm!)})`,
      `  ${where}`,
    ].join('\n');
  }
  if (r.lower !== undefined) {
    return `${fmt(r.lower)} ≤ ‖A‖_{2→${r.kind.split(':')[1]}} ≤ ${fmt(r.upper!)}   (${where})`;
  }
  return `${fmt(r.value!)}   (${r.kind} norm; ${where})`;
}

export function runNorm(argv: string[], print: (s: string) => void): void {
  const { options, positionals } = parseArgs(argv, normOptions, 'riesz norm');
  if (options.help) {
    print(normHelp);
    return;
  }
  if (positionals.length !== 1) {
    throw new UsageError(
      `riesz norm needs exactly one matrix file A, got ${positionals.length}; see 'riesz norm --help'`,
    );
  }
  const r = computeNorm(positionals[0], options);
  print(options.json ? JSON.stringify(r) : formatNorm(r));
}
