/**
 * Eigendecomposition of a Hermitian (real symmetric) matrix: A = Z diag(λ) Zᴴ, λ ascending.
 *
 * Real symmetric matrices (the fast path, when the WebAssembly kernels are available): Householder
 * tridiagonalisation in Wasm SIMD (asm/eigh.ts), Cuppen's divide and conquer on the tridiagonal matrix
 * (deflation as in LAPACK's dlaed2, secular roots kept as origin + offset, and Gu–Eisenstat's
 * recomputed z so that the merged eigenvectors stay orthogonal) with the merges as Wasm GEMMs, then the
 * back-transformation with blocked Householder reflectors (I − V T Vᵀ), again as GEMMs. Cost ≈ 4n³/3
 * (reduction, half of it memory-bound) + ≤ 4n³/3 (merges, less with deflation) + 2n³ (back-transform).
 *
 * Complex Hermitian matrices, and real ones without Wasm: Householder reduction in TypeScript, a
 * diagonal unitary scaling that makes the off-diagonal real (so a complex matrix reduces to a *real*
 * symmetric tridiagonal one), then the implicit QL iteration with Wilkinson-type shifts, with the plane
 * rotations applied to the accumulated transformation (≈ 4n³/3 + 6n³ real flops).
 *
 * Both are backward stable.
 */
import { ConvergenceError, NumericalError, ShapeError } from '../errors.js';
import { assertFinite, type Matrix, rangeScale, scale, shapeOf, transpose, zeros } from './matrix.js';
import { type WasmArena, wasmArena } from './wasm/runtime.js';

export interface EighResult {
  /** Eigenvalues in ascending order. */
  values: Float64Array;
  /** Orthonormal (unitary) eigenvectors as the columns of an n×n matrix; null when not requested. */
  vectors: Matrix | null;
}

/**
 * Eigenvalues and (optionally) eigenvectors of a Hermitian matrix. Only the lower triangle is read
 * (the upper is taken as its conjugate mirror).
 *
 * Accuracy: backward stable, so every computed eigenvalue is within about n·ε·‖A‖₂ of an exact one
 * (absolute, whatever the condition number: at cond(A) = 1e16 the largest eigenvalues are accurate to
 * ~n·ε relatively and the smallest only to ~n·ε·‖A‖₂, i.e. not at all relatively). Singular and zero
 * matrices are fine (zero eigenvalues to within n·ε·‖A‖₂); subnormal entries are computed with (gradual
 * underflow); entries near the ends of the f64 range, subnormals included, are handled by an exact
 * power-of-two rescaling; 0×0 gives no eigenvalues.
 * @throws ShapeError for a non-square matrix; NonFiniteError naming the first NaN/±Inf entry (row,
 * column); NumericalError when an eigenvalue exceeds the f64 range; ConvergenceError if QL does not converge (not seen in practice: it would take 30
 * iterations for one eigenvalue).
 * @example eigh(matrix([[2, 1], [1, 2]])).values // Float64Array [1, 3]
 */
export function eigh(A: Matrix, options: { vectors?: boolean } = {}): EighResult {
  if (A.rows !== A.cols) throw new ShapeError(`eigh: matrix is ${shapeOf(A)}, not square`);
  assertFinite(A, 'eigh: matrix');
  const wantVectors = options.vectors ?? true;
  const c = rangeScale(A);
  if (c !== 1) return unscaled(eigh(scale(A, c), options), c);
  if (A.im === null && A.rows > 0) {
    const fast = eighRealWasm(A, wantVectors);
    if (fast) return fast;
  }
  return eighReference(A, wantVectors);
}

/**
 * Eigenvalues (ascending) and orthonormal eigenvectors of a real symmetric matrix (lower triangle
 * read; an imaginary part is an error) — `eigh` with the vectors always present, for callers such as
 * K-FAC that invert or take powers of covariance factors.
 * @throws ShapeError for a non-square or complex matrix.
 * @example symmetricEigh(matrix([[2, 1], [1, 2]])).vectors.re // ±[−s, s, s, s] with s = 1/√2
 */
export function symmetricEigh(A: Matrix): { values: Float64Array; vectors: Matrix } {
  if (A.im !== null) throw new ShapeError('symmetricEigh: matrix is complex; use eigh');
  const { values, vectors } = eigh(A);
  return { values, vectors: vectors! };
}

/**
 * The TypeScript path (Householder + implicit QL with accumulated rotations), for every field: what
 * `eigh` uses for complex matrices or without WebAssembly; exported to compare the two paths.
 */
export function eighReference(A: Matrix, wantVectors = true): EighResult {
  if (A.rows !== A.cols) throw new ShapeError(`eigh: matrix is ${shapeOf(A)}, not square`);
  assertFinite(A, 'eigh: matrix');
  const c = rangeScale(A);
  if (c !== 1) return unscaled(eighReference(scale(A, c), wantVectors), c);
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

/** The eigendecomposition of A from that of c·A (c a power of two: exact). */
function unscaled(r: EighResult, c: number): EighResult {
  const values = r.values.map((v) => v / c);
  if (!values.every(Number.isFinite))
    throw new NumericalError('eigh: an eigenvalue exceeds the f64 range (entries near 1e308)');
  return { values, vectors: r.vectors };
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
    // Normalise v (‖v‖² = 2α(α + |x₀|), formed without squaring α): for tiny α, vᴴv would underflow
    // and τ = 2/vᴴv overflow to ∞ (NaN eigenvalues for, e.g., the 600×600 all-ones matrix).
    const vnorm = Math.sqrt(2 * alpha) * Math.sqrt(alpha + x0abs);
    for (let i = 0; i < len; i++) {
      vr[i] /= vnorm;
      vi[i] /= vnorm;
    }
    const tau = 2;
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

// ---- real symmetric fast path ------------------------------------------------------------------

/** Subproblems at most this large are solved by QL directly (LAPACK's SMLSIZ is 25). */
const DC_LEAF = 32;
/** Reflectors per block in the back-transformation. */
const BACK_NB = 64;
const EPS = 2 ** -52;

/** Real symmetric eigh on the Wasm kernels, or null (nothing done) when they are unavailable. */
function eighRealWasm(A: Matrix, wantVectors: boolean): EighResult | null {
  const n = A.rows;
  const nb = BACK_NB;
  const pad = (v: number) => Math.ceil(v / 8) * 8; // keep every buffer 64-byte aligned
  const nn = pad(n * n);
  const vec = pad(n);
  const doubles = wantVectors ? 4 * nn + 15 * vec + 4 * pad(nb * n) + 2 * pad(nb * nb) : nn + 7 * vec;
  const arena = wasmArena(doubles * 8);
  if (!arena) return null;
  const H = arena.f64;
  const lay = { next: arena.base / 8 };
  const take = (len: number) => {
    const at = lay.next;
    lay.next += pad(len);
    return at;
  };
  const aOff = take(n * n);
  const dOff = take(n);
  const eOff = take(n);
  const tauOff = take(n);
  const workOff = take(4 * n);
  H.set(A.re, aOff);
  arena.eigh.sytrd(n, aOff * 8, dOff * 8, eOff * 8, tauOff * 8, workOff * 8);
  const d = H.slice(dOff, dOff + n);
  const e = new Float64Array(n);
  e.set(H.subarray(eOff, eOff + n - 1));
  if (!wantVectors) {
    tridiagonalQL(d, e, null);
    return { values: d.sort(), vectors: null };
  }
  const ws: Workspace = {
    arena,
    H,
    n,
    z: take(n * n),
    qc: take(n * n),
    u: take(n * n),
    a: aOff,
    tau: tauOff,
    bt: take(4 * nb * n + 2 * nb * nb),
    sec: take(8 * n),
  };
  H.fill(0, ws.z, ws.z + n * n);
  // Cuppen's method on T / ‖T‖_max (deflation tolerances are absolute, as in dstedc).
  let scale = 0;
  for (let i = 0; i < n; i++) scale = Math.max(scale, Math.abs(d[i]), Math.abs(e[i]));
  if (!Number.isFinite(scale)) return null; // NaN or ∞ entries: the reference path reports them as before
  if (scale === 0) {
    for (let i = 0; i < n; i++) H[ws.z + i * n + i] = 1;
  } else {
    for (let i = 0; i < n; i++) {
      d[i] /= scale;
      e[i] /= scale;
    }
    divideAndConquer(ws, d, e, 0, n);
    for (let i = 0; i < n; i++) d[i] *= scale;
  }
  backTransform(ws, nb);
  const order = Array.from(d.keys()).sort((p, q) => d[p] - d[q]);
  const values = Float64Array.from(order, (i) => d[i]);
  const V = zeros(n, n);
  for (let r = 0; r < n; r++) {
    const src = ws.z + r * n;
    const dst = r * n;
    for (let c = 0; c < n; c++) V.re[dst + c] = H[src + order[c]];
  }
  return { values, vectors: V };
}

/** Buffers of one fast-path call; offsets count f64 elements of H (the whole Wasm memory). */
interface Workspace {
  arena: WasmArena;
  H: Float64Array;
  n: number;
  /** Eigenvectors of T (n×n), later of A. */
  z: number;
  /** Merge scratch: gathered columns of z (n²). */
  qc: number;
  /** Merge scratch: the secular eigenvectors (k×k). */
  u: number;
  /** The reduced matrix, with reflector k in row k's strict upper part. */
  a: number;
  tau: number;
  /** Back-transformation scratch. */
  bt: number;
  /** Secular-equation scratch: 8 vectors of n f64 (the i32 vectors use half of theirs). */
  sec: number;
}

/** Eigen-decomposes T[o:o+m, o:o+m] (d, e in place) into the diagonal block z[o:o+m, o:o+m]. */
function divideAndConquer(ws: Workspace, d: Float64Array, e: Float64Array, o: number, m: number): void {
  const { H, n } = ws;
  if (m <= DC_LEAF) {
    const dl = d.slice(o, o + m);
    const el = new Float64Array(m);
    el.set(e.subarray(o, o + m - 1));
    const Yt = zeros(m, m);
    for (let i = 0; i < m; i++) Yt.re[i * m + i] = 1;
    tridiagonalQL(dl, el, Yt);
    d.set(dl, o);
    for (let r = 0; r < m; r++) {
      const row = ws.z + (o + r) * n + o;
      for (let c = 0; c < m; c++) H[row + c] = Yt.re[c * m + r];
    }
    return;
  }
  // T = diag(T₁, T₂) + ρ u uᵀ with u = e_{n1−1} + sign(β) e_{n1}, ρ = |β|.
  const n1 = m >> 1;
  const beta = e[o + n1 - 1];
  d[o + n1 - 1] -= Math.abs(beta);
  d[o + n1] -= Math.abs(beta);
  divideAndConquer(ws, d, e, o, n1);
  divideAndConquer(ws, d, e, o + n1, m - n1);
  merge(ws, d, o, n1, m, beta);
}

/**
 * One Cuppen merge: the block z[o:o+m, o:o+m] holds diag(Q₁, Q₂) (eigenvalues in d[o:o+m]); on return
 * it holds the eigenvectors of diag(D) + ρ z zᵀ mapped back, and d the new eigenvalues (unsorted).
 */
function merge(ws: Workspace, d: Float64Array, o: number, n1: number, m: number, beta: number): void {
  const { H, n } = ws;
  const n2 = m - n1;
  const zb = ws.z + o * n + o; // z[o, o]
  const sgn = beta >= 0 ? 1 : -1;
  // z = (last row of Q₁, ±first row of Q₂) / √2, and ρ = 2|β|: ‖z‖ = 1.
  const z = new Float64Array(m);
  for (let j = 0; j < n1; j++) z[j] = H[zb + (n1 - 1) * n + j] * Math.SQRT1_2;
  for (let j = n1; j < m; j++) z[j] = sgn * H[zb + n1 * n + j] * Math.SQRT1_2;
  const rho = 2 * Math.abs(beta);
  const D = d.subarray(o, o + m);
  const sorted = Array.from(D.keys()).sort((p, q) => D[p] - D[q]);
  // 1: column has rows in Q₁'s block only, 2: in Q₂'s only, 3: both (mixed by a deflating rotation).
  const kind = new Uint8Array(m);
  for (let j = 0; j < m; j++) kind[j] = j < n1 ? 1 : 2;
  let dmax = 0;
  let zmax = 0;
  for (let j = 0; j < m; j++) {
    dmax = Math.max(dmax, Math.abs(D[j]));
    zmax = Math.max(zmax, Math.abs(z[j]));
  }
  const tol = 8 * EPS * Math.max(dmax, zmax);
  // Deflation (dlaed2): negligible z components, then pairs of eigenvalues too close to separate.
  const kept: number[] = [];
  const dropped: number[] = [];
  let pj = -1;
  for (const j of sorted) {
    if (rho * Math.abs(z[j]) <= tol) {
      dropped.push(j);
      continue;
    }
    if (pj < 0) {
      pj = j;
      continue;
    }
    const r = Math.hypot(z[j], z[pj]);
    const c = z[j] / r;
    const s = -z[pj] / r;
    const t = D[j] - D[pj];
    if (Math.abs(t * c * s) <= tol) {
      // Rotate columns pj, j so that z[pj] = 0; pj's eigenpair is then exact to within tol.
      z[j] = r;
      z[pj] = 0;
      for (let i = 0; i < m; i++) {
        const p = zb + i * n;
        const x = H[p + pj];
        const y = H[p + j];
        H[p + pj] = c * x + s * y;
        H[p + j] = c * y - s * x;
      }
      const dp = D[pj] * c * c + D[j] * s * s;
      D[j] = D[pj] * s * s + D[j] * c * c;
      D[pj] = dp;
      kind[j] = kind[pj] = kind[pj] | kind[j];
      dropped.push(pj);
    } else {
      kept.push(pj);
    }
    pj = j;
  }
  if (pj >= 0) kept.push(pj);
  const k = kept.length;
  if (k === 0) return;
  if (k === 1) {
    const j = kept[0];
    D[j] += rho * z[j] * z[j];
    return;
  }
  // Secular equation 1/ρ + Σ ζᵢ²/(δᵢ − λ) = 0 on the kept (strictly ascending) δ, in Wasm; rows of U
  // ordered by kind (Q₁-only, mixed, Q₂-only) so that each half of z is one GEMM.
  let kA = 0;
  let kB = 0;
  for (const j of kept) {
    if (kind[j] === 1) kA++;
    else if (kind[j] === 3) kB++;
  }
  const fill = [0, 0, kA + kB, kA]; // next slot for kinds 1, 2, 3
  const colAt = new Int32Array(k);
  const s = ws.sec;
  const [dd, zz, sh, org, off, pos, zhat, norms] = [0, 1, 2, 3, 4, 5, 6, 7].map((i) => s + i * n);
  const I32 = new Int32Array(H.buffer);
  for (let i = 0; i < k; i++) {
    const j = kept[i];
    H[dd + i] = D[j];
    H[zz + i] = z[j];
    const p = fill[kind[j]]++;
    I32[pos * 2 + i] = p;
    colAt[p] = j;
  }
  const U = ws.u;
  const x = ws.arena.eigh;
  x.secular(k, dd * 8, zz * 8, rho, sh * 8, org * 8, off * 8);
  x.secularVectors(k, dd * 8, zz * 8, rho, org * 8, off * 8, pos * 8, U * 8, zhat * 8, norms * 8);
  // Gather the columns the products need, then overwrite the block.
  const kAB = kA + kB;
  const kBC = k - kA;
  const top = ws.qc;
  const bot = top + n1 * kAB;
  const defl = bot + n2 * kBC;
  for (let r = 0; r < n1; r++) {
    const src = zb + r * n;
    const dst = top + r * kAB;
    for (let t = 0; t < kAB; t++) H[dst + t] = H[src + colAt[t]];
  }
  for (let r = 0; r < n2; r++) {
    const src = zb + (n1 + r) * n;
    const dst = bot + r * kBC;
    for (let t = 0; t < kBC; t++) H[dst + t] = H[src + colAt[kA + t]];
  }
  const nd = dropped.length;
  for (let r = 0; r < m; r++) {
    const src = zb + r * n;
    const dst = defl + r * nd;
    for (let t = 0; t < nd; t++) H[dst + t] = H[src + dropped[t]];
  }
  for (let r = 0; r < m; r++) H.fill(0, zb + r * n, zb + r * n + k);
  const g = ws.arena.gemm;
  g(n1, k, kAB, top * 8, kAB, U * 8, k, zb * 8, n);
  g(n2, k, kBC, bot * 8, kBC, (U + kA * k) * 8, k, (zb + n1 * n) * 8, n);
  for (let r = 0; r < m; r++) {
    const src = defl + r * nd;
    const dst = zb + r * n + k;
    for (let t = 0; t < nd; t++) H[dst + t] = H[src + t];
  }
  const deflatedValues = dropped.map((j) => D[j]);
  for (let j = 0; j < k; j++) D[j] = H[dd + I32[org * 2 + j]] + H[off + j];
  for (let t = 0; t < nd; t++) D[k + t] = deflatedValues[t];
}

/** z ← Q z with Q = H₀ H₁ ⋯ H_{n−3}, applied a block of reflectors at a time as I − V T Vᵀ. */
function backTransform(ws: Workspace, nb: number): void {
  const { H, n, arena } = ws;
  const count = n - 2;
  if (count <= 0) return;
  const vt = ws.bt; // kb × mr: the block's reflectors as rows
  const v = vt + nb * n; // mr × kb
  const w = v + nb * n; // kb × n
  const w2 = w + nb * n; // kb × n
  const gram = w2 + nb * n; // kb × kb
  const T = gram + nb * nb; // kb × kb, upper triangular
  for (let k0 = Math.floor((count - 1) / nb) * nb; k0 >= 0; k0 -= nb) {
    const kb = Math.min(nb, count - k0);
    let any = false;
    for (let j = 0; j < kb; j++) any ||= H[ws.tau + k0 + j] !== 0;
    if (!any) continue; // a block of identities (e.g. already tridiagonal or diagonal input)
    const r0 = k0 + 1;
    const mr = n - r0;
    for (let j = 0; j < kb; j++) {
      const src = ws.a + (k0 + j) * n + r0;
      const dst = vt + j * mr;
      const lead = j; // v_{k0+j} vanishes on rows ≤ k0 + j, i.e. before column j here
      H.fill(0, dst, dst + lead);
      for (let c = lead; c < mr; c++) H[dst + c] = H[src + c];
      for (let c = 0; c < mr; c++) H[v + c * kb + j] = H[dst + c];
    }
    H.fill(0, gram, gram + kb * kb);
    arena.gemm(kb, kb, mr, vt * 8, mr, v * 8, kb, gram * 8, kb);
    // T: T[j, j] = τⱼ, T[0:j, j] = −τⱼ T[0:j, 0:j] (Vᵀ vⱼ)[0:j].
    H.fill(0, T, T + kb * kb);
    for (let j = 0; j < kb; j++) {
      const tj = H[ws.tau + k0 + j];
      H[T + j * kb + j] = tj;
      for (let i = 0; i < j; i++) {
        let s = 0;
        for (let l = i; l < j; l++) s += H[T + i * kb + l] * H[gram + l * kb + j];
        H[T + i * kb + j] = -tj * s;
      }
    }
    const zr = ws.z + r0 * n;
    H.fill(0, w, w + kb * n);
    H.fill(0, w2, w2 + kb * n);
    arena.gemm(kb, n, mr, vt * 8, mr, zr * 8, n, w * 8, n);
    arena.gemm(kb, n, kb, T * 8, kb, w * 8, n, w2 * 8, n);
    arena.gemm(mr, n, kb, v * 8, kb, w2 * 8, n, zr * 8, n, -1);
  }
}
