/**
 * Cholesky factorisation A = L Lᴴ of a Hermitian positive definite matrix (real symmetric positive
 * definite when real). Only the lower triangle of A is read.
 *
 * Real matrices use a blocked left-looking algorithm: for each block column, one GEMM applies all
 * earlier columns, then a small unblocked factorisation finishes the panel. Cost n³/3 flops.
 */
import { NotPositiveDefiniteError, ShapeError } from '../errors.js';
import { gemmKernel } from './gemm.js';
import { assertFinite, type Matrix, shapeOf, zeros } from './matrix.js';
import { forwardSubstituteReal } from './triangular.js';

const NB = 64;

/**
 * The lower-triangular L with A = L Lᴴ and a positive real diagonal.
 *
 * Accuracy: backward stable, L Lᴴ = A + E with ‖E‖₂ ≲ 2n·ε·‖A‖₂ (ε = 2⁻⁵²). So the factorisation
 * succeeds whenever cond(A) ≲ 1/(2n·ε) (about 1e14 for n = 10); past that, rounding may make A
 * numerically indefinite and it either still succeeds (a factor of A + E, whose smallest eigenvalues
 * carry relative errors up to cond(A)·2n·ε) or throws NotPositiveDefiniteError — never NaN.
 * A 0×0 matrix has the 0×0 factor.
 * @param name how to call A in an error message (e.g. "domain Gram matrix V").
 * @throws NotPositiveDefiniteError naming `name`, the row where the factorisation broke and the pivot
 * (exactly singular, indefinite, zero matrices); NonFiniteError naming `name` and the first NaN/±Inf
 * entry of A; ShapeError when A is not square.
 * @example cholesky(matrix([[4, 2], [2, 5]])) // [[2, 0], [1, 2]]
 */
export function cholesky(A: Matrix, name = 'matrix'): Matrix {
  if (A.rows !== A.cols) throw new ShapeError(`cholesky: ${name} is ${shapeOf(A)}, not square`);
  assertFinite(A, name);
  const n = A.rows;
  const L = zeros(n, n, A.im !== null);
  for (let i = 0; i < n; i++) {
    for (let j = 0; j <= i; j++) {
      L.re[i * n + j] = A.re[i * n + j];
      if (A.im) L.im![i * n + j] = A.im[i * n + j];
    }
  }
  if (L.im) choleskyComplex(n, L.re, L.im, name);
  else choleskyReal(n, L.re, name);
  return L;
}

function choleskyReal(n: number, l: Float64Array, name: string): void {
  for (let j0 = 0; j0 < n; j0 += NB) {
    const j1 = Math.min(j0 + NB, n);
    const nb = j1 - j0;
    if (j0 > 0) {
      // A[j0:n, j0:j1] −= L[j0:n, 0:j0] · L[j0:j1, 0:j0]ᵀ
      const negT = new Float64Array(j0 * nb);
      for (let j = j0; j < j1; j++) for (let p = 0; p < j0; p++) negT[p * nb + (j - j0)] = -l[j * n + p];
      gemmKernel(n - j0, nb, j0, l, j0 * n, n, negT, 0, nb, l, j0 * n + j0, n);
    }
    // The diagonal block by the unblocked algorithm…
    for (let j = j0; j < j1; j++) {
      let d = l[j * n + j];
      for (let p = j0; p < j; p++) d -= l[j * n + p] * l[j * n + p];
      if (!(d > 0)) throw new NotPositiveDefiniteError(name, j, d);
      const djj = Math.sqrt(d);
      l[j * n + j] = djj;
      for (let i = j + 1; i < j1; i++) {
        let s = l[i * n + j];
        for (let p = j0; p < j; p++) s -= l[i * n + p] * l[j * n + p];
        l[i * n + j] = s / djj;
      }
    }
    // …and the rows below it as L₂₁ = A₂₁ L₁₁⁻ᵀ, i.e. L₂₁ᵀ = L₁₁⁻¹ A₂₁ᵀ: one forward substitution
    // whose work is nearly all GEMM (row loops here cost as much as the whole update).
    const below = n - j1;
    if (below > 0) {
      const t = new Float64Array(nb * below);
      for (let i = 0; i < below; i++)
        for (let j = 0; j < nb; j++) t[j * below + i] = l[(j1 + i) * n + j0 + j];
      forwardSubstituteReal(nb, below, l, t, j0 * n + j0, n);
      for (let i = 0; i < below; i++)
        for (let j = 0; j < nb; j++) l[(j1 + i) * n + j0 + j] = t[j * below + i];
    }
    // The block's upper part (rows j0..j1, columns after the diagonal) belongs to Lᴴ: clear it.
    for (let i = j0; i < j1; i++) for (let j = i + 1; j < j1; j++) l[i * n + j] = 0;
  }
}

function choleskyComplex(n: number, lr: Float64Array, li: Float64Array, name: string): void {
  for (let j = 0; j < n; j++) {
    let d = lr[j * n + j];
    for (let p = 0; p < j; p++) d -= lr[j * n + p] ** 2 + li[j * n + p] ** 2;
    if (!(d > 0)) throw new NotPositiveDefiniteError(name, j, d);
    const djj = Math.sqrt(d);
    lr[j * n + j] = djj;
    li[j * n + j] = 0;
    for (let i = j + 1; i < n; i++) {
      // L_ij = (A_ij − Σ_p L_ip conj(L_jp)) / L_jj
      let sr = lr[i * n + j];
      let si = li[i * n + j];
      for (let p = 0; p < j; p++) {
        const ar = lr[i * n + p];
        const ai = li[i * n + p];
        const br = lr[j * n + p];
        const bi = li[j * n + p];
        sr -= ar * br + ai * bi;
        si -= ai * br - ar * bi;
      }
      lr[i * n + j] = sr / djj;
      li[i * n + j] = si / djj;
    }
  }
}
