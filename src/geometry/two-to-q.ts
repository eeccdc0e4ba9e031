/**
 * Bounds on the 2→q norm ‖X‖_{2→q} = max_{‖v‖₂=1} ‖Xv‖_q, q > 2, of a real m×d matrix X with rows xᵢ
 * (MATH.md §10). Computing it exactly is hard in general; riesz returns a certified interval:
 *
 * upper: the smallest of σ₁; (Σᵢ ‖xᵢ‖₂^q)^{1/q}; σ₁^{2/q}(maxᵢ‖xᵢ‖₂)^{1−2/q}; and, through the
 *   spectral certificate Λ ≥ λ_max(H), H = (XXᵀ)∘(XXᵀ) (entrywise square of the m×m row Gram matrix):
 *   Λ^{1/4} for q = 4, σ₁^θ Λ^{(1−θ)/4} (θ = 4/q − 1) for 2 < q < 4, Λ^{1/q}(maxᵢ‖xᵢ‖₂)^{1−4/q} for q > 4.
 *   Λ is a Collatz–Wielandt bound maxᵢ (Hz)ᵢ/zᵢ at a positive z near the Perron vector, inflated for
 *   rounding — valid whatever z is, so no eigensolver accuracy is trusted.
 * lower: the best ‖Xv‖_q over a nonlinear power iteration v ← Xᵀ(|Xv|^{q−1} ⊙ sign(Xv)), normalised,
 *   started from the top right singular vector, the largest rows' directions, the eigenvectors of
 *   Xᵀ diag(z) X (the q = 4 rounding) and random unit vectors. Each step never decreases ‖Xv‖_q.
 */
import { UsageError } from '../errors.js';
import { eigh } from '../linalg/eigh.js';
import { matmul } from '../linalg/gemm.js';
import { denseOperator, lanczosTopSingular } from '../linalg/lanczos.js';
import { assertFinite, column, type Matrix, transpose, zeros } from '../linalg/matrix.js';
import { Rng, randomNormal } from '../linalg/random.js';

/** A certified interval [lower, upper] for ‖X‖_{2→q}, with the unit vector attaining the lower bound. */
export interface TwoToQBounds {
  q: number;
  /** A certified lower bound: ‖X v‖_q at the unit vector `witness`. */
  lower: number;
  /** A certified upper bound (the smallest of the candidates). */
  upper: number;
  /** The unit vector attaining `lower`. */
  witness: Float64Array;
  /** Every upper-bound candidate, by name, for inspection. */
  upperCandidates: Record<string, number>;
}

/** Options of {@link twoToQBounds}'s lower-bound search: restarts, iterations, seed, and when to skip
 * the spectral certificate. */
export interface TwoToQOptions {
  /** Random restarts of the power iteration; default 8. */
  restarts?: number;
  /** Iterations per start; default 200. */
  iterations?: number;
  seed?: number;
  /** Skip the m×m spectral certificate above this many rows (cost m²d + m³); default 2000. */
  spectralMaxRows?: number;
}

/** ‖y‖_q, scaled to avoid overflow. */
function qNorm(y: ArrayLike<number>, q: number): number {
  let mx = 0;
  for (let i = 0; i < y.length; i++) mx = Math.max(mx, Math.abs(y[i]));
  if (mx === 0) return 0;
  let s = 0;
  for (let i = 0; i < y.length; i++) s += (Math.abs(y[i]) / mx) ** q;
  return mx * s ** (1 / q);
}

function normalise(v: Float64Array): Float64Array | null {
  let s = 0;
  for (const x of v) s += x * x;
  const n = Math.sqrt(s);
  return n > 0 ? v.map((x) => x / n) : null;
}

/**
 * Certified interval [lower, upper] for ‖X‖_{2→q} of a real matrix, q > 2.
 * Cost: Lanczos for σ₁, O(md) per power step, and O(m²d + m³) for the spectral certificate.
 * @throws UsageError for q ≤ 2 or a complex X.
 * @example twoToQBounds(matrix([[1, 1], [1, -1]]), 4) // lower = upper = √2
 */
export function twoToQBounds(X: Matrix, q: number, options: TwoToQOptions = {}): TwoToQBounds {
  if (!(q > 2) || !Number.isFinite(q)) throw new UsageError(`two-to-q needs a finite q > 2, got ${q}`);
  if (X.im) throw new UsageError('two-to-q bounds are implemented for real matrices only');
  assertFinite(X, 'X');
  const m = X.rows;
  const d = X.cols;
  const rowNorms = new Float64Array(m);
  for (let i = 0; i < m; i++) {
    let s = 0;
    for (let j = 0; j < d; j++) s += X.re[i * d + j] ** 2;
    rowNorms[i] = Math.sqrt(s);
  }
  const maxRow = rowNorms.reduce((a, b) => Math.max(a, b), 0);
  const top = lanczosTopSingular(denseOperator(X));
  const sigma1 = top.value;
  const cand: Record<string, number> = {
    spectral: sigma1,
    rowSum: qNorm(rowNorms, q),
    interpolation: sigma1 ** (2 / q) * maxRow ** (1 - 2 / q),
  };
  const starts: Float64Array[] = [top.v.re.slice()];
  const spectralMax = options.spectralMaxRows ?? 2000;
  if (m > 0 && m <= spectralMax) {
    const { lambda, z } = spectralCertificate(X);
    if (q === 4) cand.fourthMoment = lambda ** 0.25;
    else if (q < 4) {
      const theta = 4 / q - 1;
      cand.fourthMoment = sigma1 ** theta * lambda ** ((1 - theta) / 4);
    } else cand.fourthMoment = lambda ** (1 / q) * maxRow ** (1 - 4 / q);
    // Rounding of the certificate: eigenvectors of Xᵀ diag(z) X.
    const XtZ = transpose(X);
    for (let j = 0; j < d; j++) for (let i = 0; i < m; i++) XtZ.re[j * m + i] *= z[i];
    const E = eigh(matmul(XtZ, X)).vectors!;
    for (let k = 0; k < d; k++) starts.push(column(E, k).re);
  }
  // Directions of the largest rows.
  const order = Array.from(rowNorms.keys()).sort((a, b) => rowNorms[b] - rowNorms[a]);
  for (const i of order.slice(0, Math.min(m, 8))) starts.push(X.re.slice(i * d, i * d + d));
  const rng = new Rng(options.seed ?? 7);
  for (let r = 0; r < (options.restarts ?? 8); r++) starts.push(randomNormal(rng, d, 1).re);
  let lower = 0;
  let witness: Float64Array = new Float64Array(d);
  for (const s of starts) {
    const res = powerQ(X, s, q, options.iterations ?? 200);
    if (res && res.value > lower) {
      lower = res.value;
      witness = res.v;
    }
  }
  const upper = Math.max(lower, Math.min(...Object.values(cand)));
  return { q, lower, upper, witness, upperCandidates: cand };
}

/** Nonlinear power iteration for max ‖Xv‖_q from a start; null for a zero start. */
function powerQ(X: Matrix, start: Float64Array, q: number, iterations: number) {
  const m = X.rows;
  const d = X.cols;
  let v = normalise(start);
  if (!v) return null;
  const y = new Float64Array(m);
  const apply = (u: Float64Array) => {
    for (let i = 0; i < m; i++) {
      let s = 0;
      for (let j = 0; j < d; j++) s += X.re[i * d + j] * u[j];
      y[i] = s;
    }
    return qNorm(y, q);
  };
  let value = apply(v);
  let best = { value, v };
  for (let it = 0; it < iterations; it++) {
    const mx = y.reduce((a, b) => Math.max(a, Math.abs(b)), 0);
    if (mx === 0) break;
    const w = new Float64Array(d);
    for (let i = 0; i < m; i++) {
      const t = Math.sign(y[i]) * (Math.abs(y[i]) / mx) ** (q - 1);
      if (t === 0) continue;
      for (let j = 0; j < d; j++) w[j] += X.re[i * d + j] * t;
    }
    const next = normalise(w);
    if (!next) break;
    v = next;
    const prev = value;
    value = apply(v);
    if (value > best.value) best = { value, v };
    if (Math.abs(value - prev) <= 1e-15 * value) break;
  }
  return best;
}

/**
 * Λ ≥ λ_max(H) for H = (XXᵀ)∘(XXᵀ) ≥ 0 entrywise: Collatz–Wielandt max (Hz)ᵢ/zᵢ at z = the (floored)
 * Perron vector from eigh, inflated by a rounding margin. Returns Λ and z.
 */
function spectralCertificate(X: Matrix): { lambda: number; z: Float64Array } {
  const m = X.rows;
  const G = matmul(X, transpose(X));
  const H = zeros(m, m);
  for (let k = 0; k < m * m; k++) H.re[k] = G.re[k] * G.re[k];
  const { values, vectors } = eigh(H);
  const z = new Float64Array(m);
  let zmax = 0;
  for (let i = 0; i < m; i++) {
    z[i] = Math.abs(vectors!.re[i * m + (m - 1)]);
    zmax = Math.max(zmax, z[i]);
  }
  if (zmax === 0) return { lambda: Math.max(values[m - 1], 0), z: z.fill(1) };
  const floor = 1e-12 * zmax;
  for (let i = 0; i < m; i++) z[i] = Math.max(z[i], floor);
  let ratio = 0;
  let hmax = 0;
  for (let i = 0; i < m; i++) {
    let s = 0;
    for (let j = 0; j < m; j++) {
      s += H.re[i * m + j] * z[j];
      hmax = Math.max(hmax, H.re[i * m + j]);
    }
    ratio = Math.max(ratio, s / z[i]);
  }
  // Rounding margin: each (Hz)ᵢ carries relative error ≲ m·ε; G's entries carry d·ε.
  const eps = 2 ** -52;
  const margin = 1 + 4 * (m + X.cols) * eps;
  return { lambda: ratio * margin, z };
}
