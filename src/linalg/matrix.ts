/**
 * The dense matrix of riesz's f64 core, and its data layout (the one convention every kernel obeys):
 *
 * - entries are stored **row-major**: entry (i, j) of an m×n matrix lives at index `i * n + j`;
 * - a complex matrix stores its real and imaginary parts in two separate arrays (`re`, `im`) of the
 *   same layout ("split complex"); a real matrix has `im === null`;
 * - a vector is an n×1 matrix, so operators act on blocks of vectors uniformly.
 *
 * Kernels that write take explicit output arrays; the functions exported here allocate and return.
 */
import { NonFiniteError, ShapeError } from '../errors.js';

/** A dense rows×cols matrix of f64 entries, row-major, real or split complex (see the module comment). */
export interface Matrix {
  readonly rows: number;
  readonly cols: number;
  /** Real parts, row-major, length rows·cols. */
  readonly re: Float64Array;
  /** Imaginary parts (same layout), or null for a real matrix. */
  readonly im: Float64Array | null;
}

/** A complex scalar; real scalars have im = 0. */
export interface Complex {
  re: number;
  im: number;
}

/** A matrix literal: rows of reals, or rows of complex entries written as [re, im] pairs or numbers. */
export type MatrixLiteral = ReadonlyArray<ReadonlyArray<number | readonly [number, number]>>;

/** The rows×cols zero matrix, real or (with `complex`) complex. */
export function zeros(rows: number, cols: number, complex = false): Matrix {
  const size = rows * cols;
  return { rows, cols, re: new Float64Array(size), im: complex ? new Float64Array(size) : null };
}

/** The n×n identity matrix, real or (with `complex`) complex. */
export function identity(n: number, complex = false): Matrix {
  const I = zeros(n, n, complex);
  for (let i = 0; i < n; i++) I.re[i * n + i] = 1;
  return I;
}

/** A matrix from row arrays; entries given as [re, im] make it complex. */
export function matrix(rows: MatrixLiteral): Matrix {
  const m = rows.length;
  const n = m === 0 ? 0 : rows[0].length;
  const complex = rows.some((r) => r.some((v) => typeof v !== 'number'));
  const A = zeros(m, n, complex);
  for (let i = 0; i < m; i++) {
    if (rows[i].length !== n)
      throw new ShapeError(`matrix literal: row ${i} has ${rows[i].length} entries, row 0 has ${n}`);
    for (let j = 0; j < n; j++) {
      const v = rows[i][j];
      if (typeof v === 'number') A.re[i * n + j] = v;
      else {
        A.re[i * n + j] = v[0];
        A.im![i * n + j] = v[1];
      }
    }
  }
  return A;
}

/** A matrix over existing arrays (no copy). */
export function fromArrays(
  rows: number,
  cols: number,
  re: Float64Array,
  im: Float64Array | null = null,
): Matrix {
  if (re.length !== rows * cols || (im && im.length !== rows * cols)) {
    throw new ShapeError(`fromArrays: ${rows}×${cols} needs ${rows * cols} entries, got ${re.length}`);
  }
  return { rows, cols, re, im };
}

/** A column vector from its entries. */
export function vector(re: ArrayLike<number>, im?: ArrayLike<number>): Matrix {
  return { rows: re.length, cols: 1, re: Float64Array.from(re), im: im ? Float64Array.from(im) : null };
}

/** Diagonal matrix diag(d). */
export function diag(d: ArrayLike<number>): Matrix {
  const n = d.length;
  const D = zeros(n, n);
  for (let i = 0; i < n; i++) D.re[i * n + i] = d[i];
  return D;
}

export function isComplex(A: Matrix): boolean {
  return A.im !== null;
}

export function shapeOf(A: Matrix): string {
  return `${A.rows}×${A.cols}`;
}

export function clone(A: Matrix): Matrix {
  return { rows: A.rows, cols: A.cols, re: A.re.slice(), im: A.im ? A.im.slice() : null };
}

/** The same matrix with an explicit (zero) imaginary part. */
export function toComplex(A: Matrix): Matrix {
  return A.im ? A : { rows: A.rows, cols: A.cols, re: A.re, im: new Float64Array(A.re.length) };
}

export function get(A: Matrix, i: number, j: number): Complex {
  const k = i * A.cols + j;
  return { re: A.re[k], im: A.im ? A.im[k] : 0 };
}

/** Aᴴ (the transpose when A is real). */
export function conjTranspose(A: Matrix): Matrix {
  return transposeImpl(A, true);
}

/** Aᵀ (no conjugation). */
export function transpose(A: Matrix): Matrix {
  return transposeImpl(A, false);
}

function transposeImpl(A: Matrix, conjugate: boolean): Matrix {
  const { rows: m, cols: n } = A;
  const T = zeros(n, m, A.im !== null);
  const B = 32; // cache-friendly tiles
  for (let ii = 0; ii < m; ii += B) {
    for (let jj = 0; jj < n; jj += B) {
      const iEnd = Math.min(ii + B, m);
      const jEnd = Math.min(jj + B, n);
      for (let i = ii; i < iEnd; i++) {
        for (let j = jj; j < jEnd; j++) T.re[j * m + i] = A.re[i * n + j];
      }
      if (A.im) {
        const s = conjugate ? -1 : 1;
        for (let i = ii; i < iEnd; i++) {
          for (let j = jj; j < jEnd; j++) T.im![j * m + i] = s * A.im[i * n + j];
        }
      }
    }
  }
  return T;
}

/** Entrywise complex conjugate. */
export function conj(A: Matrix): Matrix {
  if (!A.im) return A;
  return { rows: A.rows, cols: A.cols, re: A.re.slice(), im: A.im.map((v) => -v) };
}

function assertSameShape(op: string, A: Matrix, B: Matrix): void {
  if (A.rows !== B.rows || A.cols !== B.cols) {
    throw new ShapeError(`${op}: shapes ${shapeOf(A)} and ${shapeOf(B)} differ`);
  }
}

/** αA + βB. */
export function axpby(alpha: number, A: Matrix, beta: number, B: Matrix): Matrix {
  assertSameShape('axpby', A, B);
  const complex = A.im !== null || B.im !== null;
  const C = zeros(A.rows, A.cols, complex);
  for (let k = 0; k < C.re.length; k++) C.re[k] = alpha * A.re[k] + beta * B.re[k];
  if (complex) {
    for (let k = 0; k < C.re.length; k++)
      C.im![k] = alpha * (A.im ? A.im[k] : 0) + beta * (B.im ? B.im[k] : 0);
  }
  return C;
}

export function add(A: Matrix, B: Matrix): Matrix {
  return axpby(1, A, 1, B);
}

export function sub(A: Matrix, B: Matrix): Matrix {
  return axpby(1, A, -1, B);
}

/** c·A for a real or complex scalar c. */
export function scale(A: Matrix, c: number | Complex): Matrix {
  const cr = typeof c === 'number' ? c : c.re;
  const ci = typeof c === 'number' ? 0 : c.im;
  if (ci === 0) {
    return {
      rows: A.rows,
      cols: A.cols,
      re: A.re.map((v) => cr * v),
      im: A.im ? A.im.map((v) => cr * v) : null,
    };
  }
  const C = zeros(A.rows, A.cols, true);
  for (let k = 0; k < C.re.length; k++) {
    const ar = A.re[k];
    const ai = A.im ? A.im[k] : 0;
    C.re[k] = cr * ar - ci * ai;
    C.im![k] = cr * ai + ci * ar;
  }
  return C;
}

/** Σ |aᵢⱼ|², accumulated with scaling so that it neither overflows nor underflows needlessly. */
export function frobeniusNormSquared(A: Matrix): number {
  const f = frobeniusNorm(A);
  return f * f;
}

/** ‖A‖_F by a scaled sum of squares (LAPACK's dnrm2 idea: robust to overflow/underflow). */
export function frobeniusNorm(A: Matrix): number {
  let scaleV = 0;
  let ssq = 1;
  const acc = (x: number) => {
    if (x === 0) return;
    const ax = Math.abs(x);
    if (scaleV < ax) {
      ssq = 1 + ssq * (scaleV / ax) * (scaleV / ax);
      scaleV = ax;
    } else {
      ssq += (ax / scaleV) * (ax / scaleV);
    }
  };
  for (let k = 0; k < A.re.length; k++) acc(A.re[k]);
  if (A.im) for (let k = 0; k < A.im.length; k++) acc(A.im[k]);
  return scaleV * Math.sqrt(ssq);
}

/** The classical Frobenius inner product Σ conj(aᵢⱼ)·bᵢⱼ (xᴴy for vectors). Shapes must agree. */
export function euclideanInner(A: Matrix, B: Matrix): Complex {
  assertSameShape('euclideanInner', A, B);
  let re = 0;
  let im = 0;
  for (let k = 0; k < A.re.length; k++) {
    const ar = A.re[k];
    const ai = A.im ? A.im[k] : 0;
    const br = B.re[k];
    const bi = B.im ? B.im[k] : 0;
    re += ar * br + ai * bi;
    im += ar * bi - ai * br;
  }
  return { re, im };
}

/** max |A − B| over entries (complex modulus). */
export function maxAbsDiff(A: Matrix, B: Matrix): number {
  assertSameShape('maxAbsDiff', A, B);
  let d = 0;
  for (let k = 0; k < A.re.length; k++) {
    const dr = A.re[k] - B.re[k];
    const di = (A.im ? A.im[k] : 0) - (B.im ? B.im[k] : 0);
    d = Math.max(d, Math.hypot(dr, di));
  }
  return d;
}

/** Σᵢ aᵢᵢ of a square matrix. */
export function trace(A: Matrix): Complex {
  if (A.rows !== A.cols) throw new ShapeError(`trace: matrix is ${shapeOf(A)}, not square`);
  let re = 0;
  let im = 0;
  for (let i = 0; i < A.rows; i++) {
    re += A.re[i * A.cols + i];
    if (A.im) im += A.im[i * A.cols + i];
  }
  return { re, im };
}

/**
 * A power of two c such that c·max|aᵢⱼ| lies in [1/2, 1) (or as near as 2^±1000 allows) when the entries are far outside the range
 * where sums of squares are safe (max|aᵢⱼ| above 2^400 or below 2^-400, subnormals included), else 1
 * (and 1 for the zero matrix). Kernels whose inner products square entries (Jacobi SVD, Householder
 * QR, eigh) run on c·A and unscale, which is exact: multiplying by a power of two only moves the
 * exponent (entries that drop below 2^-1074·… were below ε·max|a| anyway). One O(mn) pass.
 */
export function rangeScale(A: Matrix): number {
  let m = 0;
  for (let k = 0; k < A.re.length; k++) m = Math.max(m, Math.abs(A.re[k]));
  if (A.im) for (let k = 0; k < A.im.length; k++) m = Math.max(m, Math.abs(A.im[k]));
  if (m === 0 || !Number.isFinite(m) || (m < 2 ** 400 && m > 2 ** -400)) return 1;
  // m = f·2^e with f in [1/2, 1): c = 2^-e, kept within 2^±1000 (so that c itself is a normal
  // number; for subnormal m, c·m is then about 2^-60, still far from under- or overflow when squared).
  const e = Math.floor(Math.log2(m)) + 1;
  return 2 ** Math.max(-1000, Math.min(1000, -e));
}

/** Refuse NaN/±Inf, naming the matrix and the entry. */
export function assertFinite(A: Matrix, name: string): void {
  for (const part of [A.re, A.im]) {
    if (!part) continue;
    for (let k = 0; k < part.length; k++) {
      const v = part[k];
      if (!Number.isFinite(v)) throw new NonFiniteError(name, Math.floor(k / A.cols), k % A.cols, v);
    }
  }
}

/** A square matrix's deviation from Hermitian symmetry, max |aᵢⱼ − conj(aⱼᵢ)|. */
export function hermitianDefect(A: Matrix): number {
  if (A.rows !== A.cols) throw new ShapeError(`hermitianDefect: matrix is ${shapeOf(A)}, not square`);
  const n = A.rows;
  let d = 0;
  for (let i = 0; i < n; i++) {
    for (let j = 0; j <= i; j++) {
      const dr = A.re[i * n + j] - A.re[j * n + i];
      const di = A.im ? A.im[i * n + j] + A.im[j * n + i] : 0;
      d = Math.max(d, Math.hypot(dr, di));
    }
  }
  return d;
}

/** Column j of A as an m×1 matrix. */
export function column(A: Matrix, j: number): Matrix {
  const c = zeros(A.rows, 1, A.im !== null);
  for (let i = 0; i < A.rows; i++) {
    c.re[i] = A.re[i * A.cols + j];
    if (A.im) c.im![i] = A.im[i * A.cols + j];
  }
  return c;
}

/** Rows of A as nested arrays (reals) or [re, im] pairs (complex), for printing and JSON. */
export function toNested(A: Matrix): number[][] | [number, number][][] {
  const out: (number | [number, number])[][] = [];
  for (let i = 0; i < A.rows; i++) {
    const row: (number | [number, number])[] = [];
    for (let j = 0; j < A.cols; j++) {
      const k = i * A.cols + j;
      row.push(A.im ? [A.re[k], A.im[k]] : A.re[k]);
    }
    out.push(row);
  }
  return out as number[][] | [number, number][][];
}
