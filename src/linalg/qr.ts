/**
 * Thin QR factorisation A = Q R of an m×n matrix with m ≥ n (real or complex) by Householder
 * reflections: Q is m×n with orthonormal columns, R is n×n upper triangular. Cost ≈ 4mn² flops.
 */
import { ShapeError } from '../errors.js';
import { assertFinite, type Matrix, rangeScale, scale, shapeOf, zeros } from './matrix.js';

export interface QrResult {
  Q: Matrix;
  R: Matrix;
}

/**
 * Backward stable: Q R = A + E with ‖E‖_F ≲ 4mn·ε·‖A‖_F whatever cond(A); a rank-deficient (or zero)
 * A gives zeros (to within that error) on R's diagonal, and Q stays orthonormal. Entries anywhere in
 * the f64 range, subnormals included, are handled by an exact power-of-two rescaling. m×0 gives m×0 and 0×0.
 * @throws ShapeError when A has more columns than rows; NonFiniteError naming the first NaN/±Inf entry.
 * @example qr(matrix([[3], [4]])).R // [[-5]]
 */
export function qr(A: Matrix): QrResult {
  const m = A.rows;
  const n = A.cols;
  if (m < n) throw new ShapeError(`qr: needs rows ≥ columns, got ${shapeOf(A)}`);
  assertFinite(A, 'qr: matrix');
  // Entries near the ends of the f64 range (vᴴv would under- or overflow): factor c·A for a power of
  // two c, then R/c, exactly.
  const c = rangeScale(A);
  if (c !== 1) {
    const r = qr(scale(A, c));
    return { Q: r.Q, R: scale(r.R, 1 / c) };
  }
  const complex = A.im !== null;
  // Work on columns: row j of (wr, wi) is column j of A.
  const wr = new Float64Array(n * m);
  const wi = new Float64Array(n * m);
  for (let i = 0; i < m; i++) {
    for (let j = 0; j < n; j++) {
      wr[j * m + i] = A.re[i * n + j];
      if (A.im) wi[j * m + i] = A.im[i * n + j];
    }
  }
  const reflectors: { vr: Float64Array; vi: Float64Array; tau: number }[] = [];
  for (let k = 0; k < n; k++) {
    const off = k * m;
    let alpha = 0;
    for (let i = k; i < m; i++) alpha = Math.hypot(alpha, wr[off + i], wi[off + i]);
    const x0r = wr[off + k];
    const x0i = wi[off + k];
    const x0abs = Math.hypot(x0r, x0i);
    const phr = x0abs === 0 ? 1 : x0r / x0abs;
    const phi = x0abs === 0 ? 0 : x0i / x0abs;
    const vr = new Float64Array(m - k);
    const vi = new Float64Array(m - k);
    for (let i = k; i < m; i++) {
      vr[i - k] = wr[off + i];
      vi[i - k] = wi[off + i];
    }
    vr[0] += phr * alpha;
    vi[0] += phi * alpha;
    let vn2 = 0;
    for (let i = 0; i < m - k; i++) vn2 += vr[i] * vr[i] + vi[i] * vi[i];
    const tau = vn2 === 0 ? 0 : 2 / vn2;
    reflectors.push({ vr, vi, tau });
    // Apply H = I − τ v vᴴ to columns k..n−1.
    for (let j = k; j < n; j++) applyReflector(wr, wi, j * m + k, vr, vi, tau);
  }
  const R = zeros(n, n, complex);
  for (let i = 0; i < n; i++) {
    for (let j = i; j < n; j++) {
      R.re[i * n + j] = wr[j * m + i];
      if (R.im) R.im[i * n + j] = wi[j * m + i];
    }
  }
  // Q = H₀ ⋯ H_{n−1} applied to the first n columns of I.
  const qr_ = new Float64Array(n * m);
  const qi_ = new Float64Array(n * m);
  for (let j = 0; j < n; j++) qr_[j * m + j] = 1;
  for (let k = n - 1; k >= 0; k--) {
    const { vr, vi, tau } = reflectors[k];
    for (let j = 0; j < n; j++) applyReflector(qr_, qi_, j * m + k, vr, vi, tau);
  }
  const Q = zeros(m, n, complex);
  for (let i = 0; i < m; i++) {
    for (let j = 0; j < n; j++) {
      Q.re[i * n + j] = qr_[j * m + i];
      if (Q.im) Q.im[i * n + j] = qi_[j * m + i];
    }
  }
  return { Q, R };
}

/** x ← x − τ v (vᴴ x) for the vector x starting at `off` (length of v). */
function applyReflector(
  xr: Float64Array,
  xi: Float64Array,
  off: number,
  vr: Float64Array,
  vi: Float64Array,
  tau: number,
): void {
  if (tau === 0) return;
  let sr = 0;
  let si = 0;
  for (let i = 0; i < vr.length; i++) {
    sr += vr[i] * xr[off + i] + vi[i] * xi[off + i];
    si += vr[i] * xi[off + i] - vi[i] * xr[off + i];
  }
  sr *= tau;
  si *= tau;
  for (let i = 0; i < vr.length; i++) {
    xr[off + i] -= vr[i] * sr - vi[i] * si;
    xi[off + i] -= vr[i] * si + vi[i] * sr;
  }
}
