/**
 * Products and solves with a lower-triangular factor L (n×n, as produced by `cholesky`), applied to a
 * block of columns B (n×k). The four operations geometry needs are L⁻¹B, L⁻ᴴB, LB and LᴴB; right-hand
 * forms (B L⁻ᴴ, …) follow by conjugate-transposing. Only the lower triangle of L is read.
 *
 * Real solves are blocked: rows are processed in blocks of NB, and everything off the diagonal block
 * goes through `gemmKernel`. Complex cases use the plain row-oriented substitution.
 */
import { ShapeError } from '../errors.js';
import { gemmKernel } from './gemm.js';
import { type Matrix, shapeOf, zeros } from './matrix.js';

const NB = 64;

function check(op: string, L: Matrix, B: Matrix): void {
  if (L.rows !== L.cols || L.rows !== B.rows) {
    throw new ShapeError(`${op}: triangular factor ${shapeOf(L)} does not fit right-hand side ${shapeOf(B)}`);
  }
}

function copyOut(L: Matrix, B: Matrix): Matrix {
  const complex = L.im !== null || B.im !== null;
  const X = zeros(B.rows, B.cols, complex);
  X.re.set(B.re);
  if (B.im) X.im!.set(B.im);
  return X;
}

/** X = L⁻¹ B (forward substitution). Cost n²k. */
export function solveLower(L: Matrix, B: Matrix): Matrix {
  check('solveLower', L, B);
  const X = copyOut(L, B);
  const n = L.rows;
  const k = B.cols;
  if (!X.im) {
    forwardReal(n, k, L.re, X.re);
    return X;
  }
  const lr = L.re;
  const li = L.im;
  const xr = X.re;
  const xi = X.im!;
  for (let i = 0; i < n; i++) {
    const ri = i * k;
    for (let p = 0; p < i; p++) {
      const a = lr[i * n + p];
      const b = li ? li[i * n + p] : 0;
      if (a === 0 && b === 0) continue;
      const rp = p * k;
      for (let j = 0; j < k; j++) {
        const yr = xr[rp + j];
        const yi = xi[rp + j];
        xr[ri + j] -= a * yr - b * yi;
        xi[ri + j] -= a * yi + b * yr;
      }
    }
    divideRow(xr, xi, ri, k, lr[i * n + i], li ? li[i * n + i] : 0);
  }
  return X;
}

/** X = L⁻ᴴ B (back substitution with the conjugate transpose). Cost n²k. */
export function solveLowerH(L: Matrix, B: Matrix): Matrix {
  check('solveLowerH', L, B);
  const X = copyOut(L, B);
  const n = L.rows;
  const k = B.cols;
  if (!X.im) {
    backwardRealT(n, k, L.re, X.re);
    return X;
  }
  const lr = L.re;
  const li = L.im;
  const xr = X.re;
  const xi = X.im!;
  for (let i = n - 1; i >= 0; i--) {
    const ri = i * k;
    for (let p = i + 1; p < n; p++) {
      // (Lᴴ)ᵢₚ = conj(Lₚᵢ)
      const a = lr[p * n + i];
      const b = li ? -li[p * n + i] : 0;
      if (a === 0 && b === 0) continue;
      const rp = p * k;
      for (let j = 0; j < k; j++) {
        const yr = xr[rp + j];
        const yi = xi[rp + j];
        xr[ri + j] -= a * yr - b * yi;
        xi[ri + j] -= a * yi + b * yr;
      }
    }
    divideRow(xr, xi, ri, k, lr[i * n + i], li ? -li[i * n + i] : 0);
  }
  return X;
}

/** Y = L B (lower part of L only). Cost n²k. */
export function mulLower(L: Matrix, B: Matrix): Matrix {
  check('mulLower', L, B);
  return triMul(L, B, false);
}

/** Y = Lᴴ B (lower part of L only). Cost n²k. */
export function mulLowerH(L: Matrix, B: Matrix): Matrix {
  check('mulLowerH', L, B);
  return triMul(L, B, true);
}

function triMul(L: Matrix, B: Matrix, adjoint: boolean): Matrix {
  const n = L.rows;
  const k = B.cols;
  const complex = L.im !== null || B.im !== null;
  const Y = zeros(n, k, complex);
  if (!complex) {
    // Real: the triangular product is a GEMM over the nonzero part of each row block.
    const Lpart = adjoint ? lowerTransposed(L.re, n) : lowerOnly(L.re, n);
    gemmKernel(n, k, n, Lpart, 0, n, B.re, 0, k, Y.re, 0, k);
    return Y;
  }
  for (let i = 0; i < n; i++) {
    const pStart = adjoint ? i : 0;
    const pEnd = adjoint ? n : i + 1;
    for (let p = pStart; p < pEnd; p++) {
      const idx = adjoint ? p * n + i : i * n + p;
      const a = L.re[idx];
      const b = L.im ? (adjoint ? -L.im[idx] : L.im[idx]) : 0;
      for (let j = 0; j < k; j++) {
        const br = B.re[p * k + j];
        const bi = B.im ? B.im[p * k + j] : 0;
        Y.re[i * k + j] += a * br - b * bi;
        Y.im![i * k + j] += a * bi + b * br;
      }
    }
  }
  return Y;
}

function lowerOnly(l: Float64Array, n: number): Float64Array {
  const out = new Float64Array(n * n);
  for (let i = 0; i < n; i++) for (let j = 0; j <= i; j++) out[i * n + j] = l[i * n + j];
  return out;
}

function lowerTransposed(l: Float64Array, n: number): Float64Array {
  const out = new Float64Array(n * n);
  for (let i = 0; i < n; i++) for (let j = 0; j <= i; j++) out[j * n + i] = l[i * n + j];
  return out;
}

function divideRow(xr: Float64Array, xi: Float64Array, off: number, k: number, dr: number, di: number): void {
  const d2 = dr * dr + di * di;
  for (let j = 0; j < k; j++) {
    const a = xr[off + j];
    const b = xi[off + j];
    xr[off + j] = (a * dr + b * di) / d2;
    xi[off + j] = (b * dr - a * di) / d2;
  }
}

/** Real blocked forward substitution in place: x ← L⁻¹x (x is n×k row-major). */
function forwardReal(n: number, k: number, l: Float64Array, x: Float64Array): void {
  for (let i0 = 0; i0 < n; i0 += NB) {
    const i1 = Math.min(i0 + NB, n);
    if (i0 > 0) {
      // X[i0:i1] −= L[i0:i1, 0:i0] · X[0:i0]
      const neg = new Float64Array((i1 - i0) * i0);
      for (let i = i0; i < i1; i++) for (let p = 0; p < i0; p++) neg[(i - i0) * i0 + p] = -l[i * n + p];
      gemmKernel(i1 - i0, k, i0, neg, 0, i0, x, 0, k, x, i0 * k, k);
    }
    for (let i = i0; i < i1; i++) {
      const ri = i * k;
      for (let p = i0; p < i; p++) {
        const a = l[i * n + p];
        if (a === 0) continue;
        const rp = p * k;
        for (let j = 0; j < k; j++) x[ri + j] -= a * x[rp + j];
      }
      const d = l[i * n + i];
      for (let j = 0; j < k; j++) x[ri + j] /= d;
    }
  }
}

/** Real blocked back substitution in place: x ← L⁻ᵀx. */
function backwardRealT(n: number, k: number, l: Float64Array, x: Float64Array): void {
  const lastStart = Math.floor((n - 1) / NB) * NB;
  for (let i0 = lastStart; i0 >= 0; i0 -= NB) {
    const i1 = Math.min(i0 + NB, n);
    if (i1 < n) {
      // X[i0:i1] −= (Lᵀ)[i0:i1, i1:n] · X[i1:n], with (Lᵀ)ᵢₚ = Lₚᵢ
      const w = n - i1;
      const neg = new Float64Array((i1 - i0) * w);
      for (let p = i1; p < n; p++) for (let i = i0; i < i1; i++) neg[(i - i0) * w + (p - i1)] = -l[p * n + i];
      gemmKernel(i1 - i0, k, w, neg, 0, w, x, i1 * k, k, x, i0 * k, k);
    }
    for (let i = i1 - 1; i >= i0; i--) {
      const ri = i * k;
      for (let p = i + 1; p < i1; p++) {
        const a = l[p * n + i];
        if (a === 0) continue;
        const rp = p * k;
        for (let j = 0; j < k; j++) x[ri + j] -= a * x[rp + j];
      }
      const d = l[i * n + i];
      for (let j = 0; j < k; j++) x[ri + j] /= d;
    }
  }
}
