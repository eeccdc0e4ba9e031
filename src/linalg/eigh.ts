/**
 * Eigendecomposition of a Hermitian (real symmetric) matrix: A = Z diag(λ) Zᴴ, λ ascending.
 *
 * Method: Householder reduction to a Hermitian tridiagonal matrix, a diagonal unitary scaling that
 * makes the off-diagonal real (so a complex matrix reduces to a *real* symmetric tridiagonal one),
 * then the implicit QL iteration with Wilkinson-type shifts on that tridiagonal matrix, with the plane
 * rotations applied to the accumulated transformation. Backward stable; cost ≈ 4n³/3 for the reduction
 * and ≈ 6n³ more when eigenvectors are wanted (real case).
 */
import { ConvergenceError, ShapeError } from '../errors.js';
import { type Matrix, shapeOf, transpose, zeros } from './matrix.js';

export interface EighResult {
  /** Eigenvalues in ascending order. */
  values: Float64Array;
  /** Orthonormal (unitary) eigenvectors as the columns of an n×n matrix; null when not requested. */
  vectors: Matrix | null;
}

/**
 * Eigenvalues and (optionally) eigenvectors of a Hermitian matrix. Only the lower triangle is read
 * (the upper is taken as its conjugate mirror).
 * @throws ShapeError for a non-square matrix; ConvergenceError if QL does not converge (not seen in
 * practice: it would take 30 iterations for one eigenvalue).
 * @example eigh(matrix([[2, 1], [1, 2]])).values // Float64Array [1, 3]
 */
export function eigh(A: Matrix, options: { vectors?: boolean } = {}): EighResult {
  if (A.rows !== A.cols) throw new ShapeError(`eigh: matrix is ${shapeOf(A)}, not square`);
  const wantVectors = options.vectors ?? true;
  const n = A.rows;
  if (n === 0)
    return { values: new Float64Array(0), vectors: wantVectors ? zeros(0, 0, A.im !== null) : null };
  const { d, e, Q } = tridiagonalize(A, wantVectors);
  // Rotations act on columns of Q; keep Qᵀ so that they act on contiguous rows.
  const Yt = Q ? transpose(Q) : null;
  tridiagonalQL(d, e, Yt);
  const order = Array.from(d.keys()).sort((a, b) => d[a] - d[b]);
  const values = Float64Array.from(order, (i) => d[i]);
  if (!Yt) return { values, vectors: null };
  const V = zeros(n, n, Yt.im !== null);
  for (let c = 0; c < n; c++) {
    const src = order[c] * n;
    for (let r = 0; r < n; r++) {
      V.re[r * n + c] = Yt.re[src + r];
      if (V.im) V.im[r * n + c] = Yt.im![src + r];
    }
  }
  return { values, vectors: V };
}

interface Tridiagonal {
  /** Diagonal, length n. */
  d: Float64Array;
  /** Real subdiagonal: e[i] = T[i+1, i] for i < n−1, e[n−1] = 0. */
  e: Float64Array;
  /** The unitary Q with A = Q T Qᴴ (n×n, row-major), or null. */
  Q: Matrix | null;
}

/** Householder reduction A = Q T Qᴴ with T real symmetric tridiagonal. */
function tridiagonalize(A: Matrix, wantQ: boolean): Tridiagonal {
  const n = A.rows;
  // Work on a full Hermitian copy built from the lower triangle.
  const ar = new Float64Array(n * n);
  const ai = new Float64Array(n * n);
  for (let i = 0; i < n; i++) {
    for (let j = 0; j <= i; j++) {
      const re = A.re[i * n + j];
      const im = A.im && i !== j ? A.im[i * n + j] : 0;
      ar[i * n + j] = re;
      ai[i * n + j] = im;
      ar[j * n + i] = re;
      ai[j * n + i] = -im;
    }
  }
  const vs: { k: number; vr: Float64Array; vi: Float64Array; tau: number }[] = [];
  const pr = new Float64Array(n);
  const pi = new Float64Array(n);
  for (let k = 0; k < n - 2; k++) {
    const len = n - k - 1;
    // x = A[k+1:n, k]
    let alpha = 0;
    for (let i = 0; i < len; i++) {
      const idx = (k + 1 + i) * n + k;
      alpha = Math.hypot(alpha, ar[idx], ai[idx]);
    }
    const x0r = ar[(k + 1) * n + k];
    const x0i = ai[(k + 1) * n + k];
    const tailIsZero = alpha === Math.hypot(x0r, x0i);
    if (alpha === 0 || tailIsZero) continue; // already tridiagonal in this column
    const x0abs = Math.hypot(x0r, x0i);
    const phr = x0abs === 0 ? 1 : x0r / x0abs;
    const phi = x0abs === 0 ? 0 : x0i / x0abs;
    // v = x + φ α e₁; H = I − τ v vᴴ with τ = 2 / (vᴴv); H x = −φ α e₁.
    const vr = new Float64Array(len);
    const vi = new Float64Array(len);
    for (let i = 0; i < len; i++) {
      vr[i] = ar[(k + 1 + i) * n + k];
      vi[i] = ai[(k + 1 + i) * n + k];
    }
    vr[0] += phr * alpha;
    vi[0] += phi * alpha;
    let vnorm2 = 0;
    for (let i = 0; i < len; i++) vnorm2 += vr[i] * vr[i] + vi[i] * vi[i];
    const tau = 2 / vnorm2;
    // p = τ B v for the trailing block B = A[k+1:, k+1:]
    for (let i = 0; i < len; i++) {
      let sr = 0;
      let si = 0;
      const row = (k + 1 + i) * n + k + 1;
      for (let j = 0; j < len; j++) {
        const br = ar[row + j];
        const bi = ai[row + j];
        sr += br * vr[j] - bi * vi[j];
        si += br * vi[j] + bi * vr[j];
      }
      pr[i] = tau * sr;
      pi[i] = tau * si;
    }
    // w = p − (τ vᴴp / 2) v   (vᴴp is real for Hermitian B)
    let vp = 0;
    for (let i = 0; i < len; i++) vp += vr[i] * pr[i] + vi[i] * pi[i];
    const K = (tau * vp) / 2;
    for (let i = 0; i < len; i++) {
      pr[i] -= K * vr[i];
      pi[i] -= K * vi[i];
    }
    // B ← B − v wᴴ − w vᴴ
    for (let i = 0; i < len; i++) {
      const row = (k + 1 + i) * n + k + 1;
      const vri = vr[i];
      const vii = vi[i];
      const wri = pr[i];
      const wii = pi[i];
      for (let j = 0; j < len; j++) {
        // v_i conj(w_j) + w_i conj(v_j)
        ar[row + j] -= vri * pr[j] + vii * pi[j] + wri * vr[j] + wii * vi[j];
        ai[row + j] -= vii * pr[j] - vri * pi[j] + wii * vr[j] - wri * vi[j];
      }
    }
    // Column k below the subdiagonal becomes −φα e₁ (and row k its conjugate).
    for (let i = 0; i < len; i++) {
      const idx = (k + 1 + i) * n + k;
      const val_r = i === 0 ? -phr * alpha : 0;
      const val_i = i === 0 ? -phi * alpha : 0;
      ar[idx] = val_r;
      ai[idx] = val_i;
      ar[k * n + k + 1 + i] = val_r;
      ai[k * n + k + 1 + i] = -val_i;
    }
    vs.push({ k, vr, vi, tau });
  }
  // T's diagonal and (complex) subdiagonal; then the phases δ that make the subdiagonal real.
  const d = new Float64Array(n);
  const e = new Float64Array(n);
  const dr = new Float64Array(n);
  const di = new Float64Array(n);
  dr[0] = 1;
  for (let i = 0; i < n; i++) d[i] = ar[i * n + i];
  for (let i = 0; i < n - 1; i++) {
    const er = ar[(i + 1) * n + i];
    const ei = ai[(i + 1) * n + i];
    const mag = Math.hypot(er, ei);
    e[i] = mag;
    // δ_{i+1} = δ_i · e_i / |e_i|
    const ur = mag === 0 ? 1 : er / mag;
    const ui = mag === 0 ? 0 : ei / mag;
    dr[i + 1] = dr[i] * ur - di[i] * ui;
    di[i + 1] = dr[i] * ui + di[i] * ur;
  }
  if (!wantQ) return { d, e, Q: null };
  const complex = A.im !== null;
  const Q = zeros(n, n, complex);
  for (let i = 0; i < n; i++) Q.re[i * n + i] = 1;
  // Q = H₀ H₁ ⋯ H_K, built from the right end: Q ← H_k Q (real matrices skip every imaginary part).
  const rr = new Float64Array(n);
  const ri = new Float64Array(n);
  const qre = Q.re;
  const qim = Q.im;
  for (let t = vs.length - 1; t >= 0; t--) {
    const { k, vr, vi, tau } = vs[t];
    const len = n - k - 1;
    rr.fill(0);
    ri.fill(0);
    // r = vᴴ Q[k+1:, :]
    for (let i = 0; i < len; i++) {
      const row = (k + 1 + i) * n;
      const a = vr[i];
      if (!qim) {
        for (let j = 0; j < n; j++) rr[j] += a * qre[row + j];
        continue;
      }
      const b = -vi[i];
      for (let j = 0; j < n; j++) {
        const qr = qre[row + j];
        const qi = qim[row + j];
        rr[j] += a * qr - b * qi;
        ri[j] += a * qi + b * qr;
      }
    }
    for (let i = 0; i < len; i++) {
      const row = (k + 1 + i) * n;
      const a = tau * vr[i];
      if (!qim) {
        for (let j = 0; j < n; j++) qre[row + j] -= a * rr[j];
        continue;
      }
      const b = tau * vi[i];
      for (let j = 0; j < n; j++) {
        qre[row + j] -= a * rr[j] - b * ri[j];
        qim[row + j] -= a * ri[j] + b * rr[j];
      }
    }
  }
  // Q ← Q diag(δ) (δ = ±1 for real matrices)
  for (let r = 0; r < n; r++) {
    for (let c = 0; c < n; c++) {
      const qr = qre[r * n + c];
      const qi = qim ? qim[r * n + c] : 0;
      qre[r * n + c] = qr * dr[c] - qi * di[c];
      if (qim) qim[r * n + c] = qr * di[c] + qi * dr[c];
    }
  }
  return { d, e, Q };
}

/**
 * Implicit QL iteration on a real symmetric tridiagonal matrix (diagonal d, subdiagonal e with
 * e[i] = T[i+1, i], e[n−1] ignored). On return d holds the eigenvalues (unsorted). When Yt is
 * given, each rotation acting on eigenvector columns i, i+1 is applied to *rows* i, i+1 of Yt
 * (the transposed eigenvector matrix, real or complex), so Yt's rows become the eigenvectors.
 * @throws ConvergenceError after 30·n sweeps without convergence of one eigenvalue.
 */
export function tridiagonalQL(d: Float64Array, e: Float64Array, Yt: Matrix | null): void {
  const n = d.length;
  if (n === 0) return;
  e[n - 1] = 0;
  const eps = 2 ** -52;
  const cols = Yt ? Yt.cols : 0;
  let shift = 0;
  let tst1 = 0;
  for (let l = 0; l < n; l++) {
    tst1 = Math.max(tst1, Math.abs(d[l]) + Math.abs(e[l]));
    let m = l;
    while (m < n - 1 && Math.abs(e[m]) > eps * tst1) m++;
    let iter = 0;
    while (m > l) {
      if (++iter > 30 * Math.max(n, 1))
        throw new ConvergenceError(`tridiagonal QL: eigenvalue ${l} did not converge`);
      // Shift from the leading 2×2 block.
      const g0 = d[l];
      let p = (d[l + 1] - g0) / (2 * e[l]);
      let r = Math.hypot(p, 1);
      if (p < 0) r = -r;
      d[l] = e[l] / (p + r);
      d[l + 1] = e[l] * (p + r);
      const dl1 = d[l + 1];
      const h0 = g0 - d[l];
      for (let i = l + 2; i < n; i++) d[i] -= h0;
      shift += h0;
      // QL sweep from m up to l.
      p = d[m];
      let c = 1;
      let c2 = 1;
      let c3 = 1;
      const el1 = e[l + 1];
      let s = 0;
      let s2 = 0;
      for (let i = m - 1; i >= l; i--) {
        c3 = c2;
        c2 = c;
        s2 = s;
        const g = c * e[i];
        const h = c * p;
        r = Math.hypot(p, e[i]);
        e[i + 1] = s * r;
        s = e[i] / r;
        c = p / r;
        p = c * d[i] - s * g;
        d[i + 1] = h + s * (c * g + s * d[i]);
        if (Yt) rotateRows(Yt, cols, i, c, s);
      }
      p = (-s * s2 * c3 * el1 * e[l]) / dl1;
      e[l] = s * p;
      d[l] = c * p;
      if (!(Math.abs(e[l]) > eps * tst1)) break;
    }
    d[l] += shift;
    e[l] = 0;
  }
}

/** rows (i, i+1) ← (c·yᵢ − s·yᵢ₊₁, s·yᵢ + c·yᵢ₊₁) on the real and imaginary parts alike. */
function rotateRows(Y: Matrix, cols: number, i: number, c: number, s: number): void {
  const a = i * cols;
  const b = a + cols;
  for (const part of [Y.re, Y.im]) {
    if (!part) continue;
    for (let k = 0; k < cols; k++) {
      const h = part[b + k];
      part[b + k] = s * part[a + k] + c * h;
      part[a + k] = c * part[a + k] - s * h;
    }
  }
}
