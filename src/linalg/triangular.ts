/**
 * Products and solves with a lower-triangular factor L (n×n, as produced by `cholesky`), applied to a
 * block of columns B (n×k). The four operations geometry needs are L⁻¹B, L⁻ᴴB, LB and LᴴB; right-hand
 * forms (B L⁻ᴴ, …) follow by conjugate-transposing. Only the lower triangle of L is read.
 *
 * Real cases recurse on halves of L so that nearly all the work is GEMM (see the real kernels below);
 * complex cases use the plain row-oriented substitution.
 */
import { NumericalError, ShapeError } from '../errors.js';
import { gemmKernel } from './gemm.js';
import { assertFinite, type Matrix, shapeOf, zeros } from './matrix.js';

/** Below this many right-hand sides, plain loops beat blocking (no copies of L). */
const SMALL_K = 16;

function check(op: string, L: Matrix, B: Matrix): void {
  if (L.rows !== L.cols || L.rows !== B.rows) {
    throw new ShapeError(`${op}: triangular factor ${shapeOf(L)} does not fit right-hand side ${shapeOf(B)}`);
  }
  assertFinite(B, `${op}: right-hand side B`);
}

/**
 * The checks of a solve: L's diagonal finite and non-zero (O(n); L's off-diagonal entries are not
 * scanned, so that the solves inside Lanczos stay O(n²k) — a factor from `cholesky` is finite).
 */
function checkSolve(op: string, L: Matrix, B: Matrix): void {
  check(op, L, B);
  const n = L.rows;
  for (let i = 0; i < n; i++) {
    const dr = L.re[i * n + i];
    const di = L.im ? L.im[i * n + i] : 0;
    if (!Number.isFinite(dr) || !Number.isFinite(di) || (dr === 0 && di === 0)) {
      throw new NumericalError(
        `${op}: triangular factor L has diagonal entry ${dr === 0 && di === 0 ? 0 : `${dr}${di ? ` + ${di}i` : ''}`} at row ${i}: L is singular (or not finite), so the solve is undefined`,
      );
    }
  }
}

function copyOut(L: Matrix, B: Matrix): Matrix {
  const complex = L.im !== null || B.im !== null;
  const X = zeros(B.rows, B.cols, complex);
  X.re.set(B.re);
  if (B.im) X.im!.set(B.im);
  return X;
}

/**
 * X = L⁻¹ B (forward substitution). Cost n²k. Backward stable: X solves (L + E)X = B with
 * |E| ≤ n·ε·|L|, so the relative error of X is at most about n·ε·cond(L) (for a Cholesky factor,
 * cond(L) = √cond(V): 1e8 at cond(V) = 1e16, error ~1e-8·n).
 * @throws ShapeError; NonFiniteError naming B's first NaN/±Inf entry; NumericalError for a zero or
 * non-finite diagonal entry of L (the row).
 */
export function solveLower(L: Matrix, B: Matrix): Matrix {
  checkSolve('solveLower', L, B);
  const X = copyOut(L, B);
  const n = L.rows;
  const k = B.cols;
  if (!X.im) {
    forwardSubstituteReal(n, k, L.re, X.re);
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

/** X = L⁻ᴴ B (back substitution with the conjugate transpose). Cost n²k. Accuracy and errors as
 * {@link solveLower}. */
export function solveLowerH(L: Matrix, B: Matrix): Matrix {
  checkSolve('solveLowerH', L, B);
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

/** Columns of L⁻¹ solved together by {@link invertLower}: wide enough for GEMM, narrow enough to skip zeros. */
const INVERSE_BLOCK = 96;

/**
 * L⁻¹ for a real lower-triangular L (only its lower triangle is read); the result is lower
 * triangular. Columns j₀…j₁ of L⁻¹ vanish above row j₀, so each block of them is a forward
 * substitution with the trailing part of L alone: about n³/6 multiply-adds, a third of
 * `solveLower(L, I)`'s n³/2. Accuracy as {@link solveLower}.
 * @throws ShapeError when L is not square or is complex; NumericalError for a zero or non-finite
 * diagonal entry (the row).
 * @example invertLower(matrix([[2, 0], [1, 4]])) // [[0.5, 0], [-0.125, 0.25]]
 */
export function invertLower(L: Matrix): Matrix {
  if (L.im)
    throw new ShapeError('invertLower: real factors only (use solveLower(L, identity) for complex ones)');
  const n = L.rows;
  checkSolve('invertLower', L, zeros(n, 0));
  const X = zeros(n, n);
  for (let j0 = 0; j0 < n; j0 += INVERSE_BLOCK) {
    const j1 = Math.min(n, j0 + INVERSE_BLOCK);
    const w = j1 - j0;
    const rows = n - j0;
    // E = the identity's columns j₀…j₁ from row j₀ down, solved in place.
    const x = new Float64Array(rows * w);
    for (let j = 0; j < w; j++) x[j * w + j] = 1;
    forwardSubstituteReal(rows, w, L.re, x, j0 * n + j0, n);
    for (let i = 0; i < rows; i++) X.re.set(x.subarray(i * w, i * w + Math.min(w, i + 1)), (j0 + i) * n + j0);
  }
  return X;
}

function triMul(L: Matrix, B: Matrix, adjoint: boolean): Matrix {
  const n = L.rows;
  const k = B.cols;
  const complex = L.im !== null || B.im !== null;
  const Y = zeros(n, k, complex);
  if (!complex) {
    if (adjoint) mulLowerTReal(n, k, L.re, B.re, Y.re);
    else mulLowerReal(n, k, L.re, B.re, Y.re);
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

function divideRow(xr: Float64Array, xi: Float64Array, off: number, k: number, dr: number, di: number): void {
  const d2 = dr * dr + di * di;
  for (let j = 0; j < k; j++) {
    const a = xr[off + j];
    const b = xi[off + j];
    xr[off + j] = (a * dr + b * di) / d2;
    xi[off + j] = (b * dr - a * di) / d2;
  }
}

/**
 * Real kernels on x (n×k, row-major, in place or into y). With few right-hand sides they are plain
 * row loops (no copies of L). Otherwise they recurse on halves of L = [L₁₁ 0; L₂₁ L₂₂]: the
 * off-diagonal block goes through `gemmKernel` (WebAssembly SIMD when available), and only diagonal
 * blocks of at most LEAF rows are left to the loops.
 */
const LEAF = 8;

function split(n0: number, n1: number): number {
  return n0 + Math.max(4, Math.floor((n1 - n0) / 8) * 4);
}

/**
 * x ← L⁻¹x in place for a real n×n lower triangle of `l` that starts at `off` with leading dimension
 * `ld`, x n×k row-major (no checks: for the factorisations' own use).
 */
export function forwardSubstituteReal(
  n: number,
  k: number,
  l: Float64Array,
  x: Float64Array,
  off = 0,
  ld = n,
): void {
  if (k === 1) {
    for (let i = 0; i < n; i++) {
      let s = x[i];
      const row = off + i * ld;
      for (let p = 0; p < i; p++) s -= l[row + p] * x[p];
      x[i] = s / l[row + i];
    }
    return;
  }
  const leaf = k < SMALL_K ? n : LEAF;
  const rec = (n0: number, n1: number): void => {
    if (n1 - n0 <= leaf) {
      for (let i = n0; i < n1; i++) {
        const ri = i * k;
        for (let p = n0; p < i; p++) {
          const a = l[off + i * ld + p];
          if (a === 0) continue;
          const rp = p * k;
          for (let j = 0; j < k; j++) x[ri + j] -= a * x[rp + j];
        }
        const d = l[off + i * ld + i];
        for (let j = 0; j < k; j++) x[ri + j] /= d;
      }
      return;
    }
    const mid = split(n0, n1);
    rec(n0, mid);
    // x₂ −= L₂₁ x₁
    gemmKernel(n1 - mid, k, mid - n0, l, off + mid * ld + n0, ld, x, n0 * k, k, x, mid * k, k, -1);
    rec(mid, n1);
  };
  rec(0, n);
}

/** x ← L⁻ᵀx. */
function backwardRealT(n: number, k: number, l: Float64Array, x: Float64Array): void {
  if (k === 1) {
    for (let i = n - 1; i >= 0; i--) {
      const row = i * n;
      const xi = x[i] / l[row + i];
      x[i] = xi;
      for (let p = 0; p < i; p++) x[p] -= l[row + p] * xi;
    }
    return;
  }
  const leaf = k < SMALL_K ? n : LEAF;
  const rec = (n0: number, n1: number): void => {
    if (n1 - n0 <= leaf) {
      // Column-oriented: finish row i, then remove its contribution from the rows above via row i of L.
      for (let i = n1 - 1; i >= n0; i--) {
        const ri = i * k;
        const d = l[i * n + i];
        for (let j = 0; j < k; j++) x[ri + j] /= d;
        for (let p = n0; p < i; p++) {
          const a = l[i * n + p];
          if (a === 0) continue;
          const rp = p * k;
          for (let j = 0; j < k; j++) x[rp + j] -= a * x[ri + j];
        }
      }
      return;
    }
    const mid = split(n0, n1);
    rec(mid, n1);
    // x₁ −= L₂₁ᵀ x₂
    gemmKernel(mid - n0, k, n1 - mid, l, mid * n + n0, n, x, mid * k, k, x, n0 * k, k, -1, true);
    rec(n0, mid);
  };
  rec(0, n);
}

/** y += L x. */
function mulLowerReal(n: number, k: number, l: Float64Array, x: Float64Array, y: Float64Array): void {
  if (k === 1) {
    for (let i = 0; i < n; i++) {
      let s = 0;
      const row = i * n;
      for (let p = 0; p <= i; p++) s += l[row + p] * x[p];
      y[i] += s;
    }
    return;
  }
  const leaf = k < SMALL_K ? n : LEAF;
  const rec = (n0: number, n1: number): void => {
    if (n1 - n0 <= leaf) {
      for (let i = n0; i < n1; i++) {
        const ri = i * k;
        for (let p = n0; p <= i; p++) {
          const a = l[i * n + p];
          if (a === 0) continue;
          const rp = p * k;
          for (let j = 0; j < k; j++) y[ri + j] += a * x[rp + j];
        }
      }
      return;
    }
    const mid = split(n0, n1);
    rec(n0, mid);
    // y₂ += L₂₁ x₁
    gemmKernel(n1 - mid, k, mid - n0, l, mid * n + n0, n, x, n0 * k, k, y, mid * k, k);
    rec(mid, n1);
  };
  rec(0, n);
}

/** y += Lᵀ x. */
function mulLowerTReal(n: number, k: number, l: Float64Array, x: Float64Array, y: Float64Array): void {
  if (k === 1) {
    for (let i = 0; i < n; i++) {
      const row = i * n;
      const xi = x[i];
      for (let p = 0; p <= i; p++) y[p] += l[row + p] * xi;
    }
    return;
  }
  const leaf = k < SMALL_K ? n : LEAF;
  const rec = (n0: number, n1: number): void => {
    if (n1 - n0 <= leaf) {
      // Row i of L scatters into rows n0..i of y.
      for (let i = n0; i < n1; i++) {
        const ri = i * k;
        for (let p = n0; p <= i; p++) {
          const a = l[i * n + p];
          if (a === 0) continue;
          const rp = p * k;
          for (let j = 0; j < k; j++) y[rp + j] += a * x[ri + j];
        }
      }
      return;
    }
    const mid = split(n0, n1);
    rec(n0, mid);
    // y₁ += L₂₁ᵀ x₂
    gemmKernel(mid - n0, k, n1 - mid, l, mid * n + n0, n, x, mid * k, k, y, n0 * k, k, 1, true);
    rec(mid, n1);
  };
  rec(0, n);
}
