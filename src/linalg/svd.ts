/**
 * Thin singular value decomposition A = U diag(σ) Vᴴ (real or complex), σ descending.
 *
 * Method: one-sided (Hestenes) Jacobi. Pairs of columns are rotated until every pair is orthogonal to
 * working precision; the column norms are then the singular values. It computes small singular values
 * to high *relative* accuracy, needs no bidiagonalisation and treats complex matrices with one extra
 * phase per rotation. Cost ≈ 5·max(m,n)·min(m,n)² flops per sweep, typically 6–10 sweeps: fine for
 * the sizes where all singular values are needed; the operator norm uses Lanczos instead.
 */
import { ConvergenceError, NumericalError } from '../errors.js';
import { assertFinite, conjTranspose, type Matrix, rangeScale, scale, zeros } from './matrix.js';

export interface SvdResult {
  /** m×r with orthonormal columns (r = min(m, n)). */
  U: Matrix;
  /** Singular values, descending, length r. */
  s: Float64Array;
  /** n×r with orthonormal columns. */
  V: Matrix;
}

const MAX_SWEEPS = 80;

/**
 * Thin SVD of an m×n matrix.
 *
 * Accuracy: each σᵢ is within a few·n·ε·σ₁ of the exact one, and (one-sided Jacobi) small σᵢ of a
 * well-scaled matrix (A = B·D with D diagonal, B well conditioned) to high relative accuracy; at
 * cond(A) = 1e16 the smallest σ carries an absolute error of order ε·σ₁. Entries anywhere in the f64
 * range, subnormals included, are handled by an exact power-of-two rescaling. The zero matrix gives σ = 0
 * (and U's columns 0 for σ = 0); an m×0 or 0×n matrix gives no singular values.
 * @throws NonFiniteError naming the first NaN/±Inf entry; NumericalError when σ₁ exceeds the f64
 * range (entries near 1e308); ConvergenceError after 80 sweeps (not seen).
 * @example svd(matrix([[3, 0], [0, -2]])).s // Float64Array [3, 2]
 */
export function svd(A: Matrix): SvdResult {
  assertFinite(A, 'svd: matrix');
  // Entries near the ends of the f64 range (the column dot products would under- or overflow):
  // decompose c·A for a power of two c and unscale σ, exactly.
  const c = rangeScale(A);
  if (c !== 1) {
    const r = svd(scale(A, c));
    const s = r.s.map((v) => v / c);
    if (!Number.isFinite(s[0]))
      throw new NumericalError(`svd: the largest singular value exceeds the f64 range (${r.s[0]}·${1 / c})`);
    return { U: r.U, s, V: r.V };
  }
  if (A.rows >= A.cols) return jacobiTall(A);
  // Wide: decompose Aᴴ = U' Σ V'ᴴ, so A = V' Σ U'ᴴ.
  const r = jacobiTall(conjTranspose(A));
  return { U: r.V, s: r.s, V: r.U };
}

/** Singular values only (descending). */
export function singularValues(A: Matrix): Float64Array {
  return svd(A).s;
}

/**
 * One-sided Jacobi on a tall matrix (m ≥ n). Works on Aᵀ's rows (A's columns, contiguous) and on Vᵀ.
 */
function jacobiTall(A: Matrix): SvdResult {
  const m = A.rows;
  const n = A.cols;
  const complex = A.im !== null;
  // Row j of `cr/ci` is column j of A; row j of `vr/vi` is column j of V.
  const cr = new Float64Array(n * m);
  const ci = complex ? new Float64Array(n * m) : null;
  for (let i = 0; i < m; i++) {
    for (let j = 0; j < n; j++) {
      cr[j * m + i] = A.re[i * n + j];
      if (ci) ci[j * m + i] = A.im![i * n + j];
    }
  }
  const vr = new Float64Array(n * n);
  const vi = complex ? new Float64Array(n * n) : null;
  for (let j = 0; j < n; j++) vr[j * n + j] = 1;
  const tol = 1e-15;
  const norms = new Float64Array(n);
  for (let j = 0; j < n; j++) norms[j] = dot(cr, ci, j * m, j * m, m).re;
  let converged = n < 2;
  for (let sweep = 0; sweep < MAX_SWEEPS && !converged; sweep++) {
    let rotated = 0;
    for (let p = 0; p < n - 1; p++) {
      for (let q = p + 1; q < n; q++) {
        const alpha = norms[p];
        const beta = norms[q];
        const g = dot(cr, ci, p * m, q * m, m); // u_pᴴ u_q
        const gabs = Math.hypot(g.re, g.im);
        if (gabs === 0 || gabs <= tol * Math.sqrt(alpha * beta)) continue;
        rotated++;
        // Real 2×2 problem on [[α, |γ|], [|γ|, β]] after rotating u_q by the phase e^{−iφ}.
        const zeta = (beta - alpha) / (2 * gabs);
        const t = (zeta >= 0 ? 1 : -1) / (Math.abs(zeta) + Math.sqrt(1 + zeta * zeta));
        const c = 1 / Math.sqrt(1 + t * t);
        const s = c * t;
        const er = g.re / gabs;
        const ei = -g.im / gabs; // e^{−iφ}
        rotate(cr, ci, p * m, q * m, m, c, s, er, ei);
        rotate(vr, vi, p * n, q * n, n, c, s, er, ei);
        norms[p] = alpha - t * gabs;
        norms[q] = beta + t * gabs;
      }
    }
    // Refresh the norms from the columns so rounding in the running updates cannot accumulate.
    for (let j = 0; j < n; j++) norms[j] = dot(cr, ci, j * m, j * m, m).re;
    converged = rotated === 0;
  }
  if (!converged)
    throw new ConvergenceError(`svd: one-sided Jacobi did not converge in ${MAX_SWEEPS} sweeps`);
  const sigma = Float64Array.from(norms, (v) => Math.sqrt(Math.max(v, 0)));
  const order = Array.from(sigma.keys()).sort((a, b) => sigma[b] - sigma[a]);
  const U = zeros(m, n, complex);
  const V = zeros(n, n, complex);
  const s = new Float64Array(n);
  order.forEach((src, dst) => {
    const sv = sigma[src];
    s[dst] = sv;
    const inv = sv > 0 ? 1 / sv : 0;
    for (let i = 0; i < m; i++) {
      U.re[i * n + dst] = cr[src * m + i] * inv;
      if (ci) U.im![i * n + dst] = ci[src * m + i] * inv;
    }
    for (let i = 0; i < n; i++) {
      V.re[i * n + dst] = vr[src * n + i];
      if (vi) V.im![i * n + dst] = vi[src * n + i];
    }
  });
  return { U, s, V };
}

/** xᴴy over rows starting at a and b (length len). */
function dot(re: Float64Array, im: Float64Array | null, a: number, b: number, len: number) {
  let sr = 0;
  let si = 0;
  for (let k = 0; k < len; k++) sr += re[a + k] * re[b + k];
  if (im) {
    for (let k = 0; k < len; k++) {
      sr += im[a + k] * im[b + k];
      si += re[a + k] * im[b + k] - im[a + k] * re[b + k];
    }
  }
  return { re: sr, im: si };
}

/**
 * (x, y) ← (c·x − s·ω·y, s·x + c·ω·y) with ω = er + i·ei, a unitary map on the pair (the phase
 * ω makes xᴴ(ωy) real, so the real Jacobi angle annihilates it).
 */
function rotate(
  re: Float64Array,
  im: Float64Array | null,
  a: number,
  b: number,
  len: number,
  c: number,
  s: number,
  er: number,
  ei: number,
): void {
  if (!im) {
    // Real case: ω = ±1.
    for (let k = 0; k < len; k++) {
      const x = re[a + k];
      const y = er * re[b + k];
      re[a + k] = c * x - s * y;
      re[b + k] = s * x + c * y;
    }
    return;
  }
  for (let k = 0; k < len; k++) {
    const xr = re[a + k];
    const xi = im[a + k];
    const yr = er * re[b + k] - ei * im[b + k];
    const yi = er * im[b + k] + ei * re[b + k];
    re[a + k] = c * xr - s * yr;
    im[a + k] = c * xi - s * yi;
    re[b + k] = s * xr + c * yr;
    im[b + k] = s * xi + c * yi;
  }
}
