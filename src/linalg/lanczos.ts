/**
 * The top singular value of a matrix-free operator: power iteration (cheap, persistent-vector use in
 * spectral normalisation) and Lanczos with full reorthogonalisation (fast and accurate to ~1e-12).
 */
import { ConvergenceError, NumericalError } from '../errors.js';
import { tridiagonalQL } from './eigh.js';
import { matmul } from './gemm.js';
import {
  assertFinite,
  conjTranspose,
  euclideanInner,
  frobeniusNorm,
  type Matrix,
  scale,
  zeros,
} from './matrix.js';
import { Rng, randomNormal } from './random.js';

/** A linear map 𝕂ⁿ → 𝕂ᵐ given by its action on blocks of columns. */
export interface LinearOperator {
  readonly rows: number;
  readonly cols: number;
  /** Whether the operator (or the vectors it needs) is complex. */
  readonly complex: boolean;
  /** A X for X of shape cols×k. */
  apply(X: Matrix): Matrix;
  /** Aᴴ Y (the Euclidean conjugate transpose) for Y of shape rows×k. */
  applyAdjoint(Y: Matrix): Matrix;
}

/** A dense matrix as an operator. */
export function denseOperator(A: Matrix): LinearOperator {
  const AH = conjTranspose(A);
  return {
    rows: A.rows,
    cols: A.cols,
    complex: A.im !== null,
    apply: (X) => matmul(A, X),
    applyAdjoint: (Y) => matmul(AH, Y),
  };
}

/** A dense matrix (checked for NaN/Inf, named `name` in errors) or an operator, as an operator. */
export function toOperator(A: Matrix | LinearOperator, name = 'A'): LinearOperator {
  if ('apply' in A) return A;
  assertFinite(A, name);
  return denseOperator(A);
}

export interface TopSingular {
  /** σ₁. */
  value: number;
  /** Unit right singular vector (cols×1): the input of maximal response. */
  v: Matrix;
  /** Unit left singular vector (rows×1), A v = σ₁ u. */
  u: Matrix;
  iterations: number;
}

/** ‖x‖ by the plain sum of squares, or the scaled one where that under- or overflows. */
function robustNorm(x: Matrix): number {
  const s = vnorm(x);
  return s > 2 ** -400 && s < 2 ** 400 ? s : frobeniusNorm(x);
}

function vnorm(x: Matrix): number {
  let s = 0;
  for (let k = 0; k < x.re.length; k++) s += x.re[k] * x.re[k];
  if (x.im) for (let k = 0; k < x.im.length; k++) s += x.im[k] * x.im[k];
  return Math.sqrt(s);
}

function scaleInPlace(x: Matrix, c: number): void {
  for (let k = 0; k < x.re.length; k++) x.re[k] *= c;
  if (x.im) for (let k = 0; k < x.im.length; k++) x.im[k] *= c;
}

/** y ← y − c·x for complex c (y must be complex when c or x is). */
function axpyInPlace(y: Matrix, c: { re: number; im: number }, x: Matrix): void {
  for (let k = 0; k < y.re.length; k++) {
    const xr = x.re[k];
    const xi = x.im ? x.im[k] : 0;
    y.re[k] -= c.re * xr - c.im * xi;
    if (y.im) y.im[k] -= c.re * xi + c.im * xr;
  }
}

/**
 * A power of two c that brings a norm far outside [2^-400, 2^400] (where AᴴA·x would under- or
 * overflow: tiny or huge operators, subnormal entries) to about 1; else 1, so that ordinary operators
 * run exactly as without it.
 */
function rescaleFor(norm: number): number {
  if (!(norm > 0) || !Number.isFinite(norm) || (norm < 2 ** 400 && norm > 2 ** -400)) return 1;
  return 2 ** Math.max(-1000, Math.min(1000, -Math.round(Math.log2(norm))));
}

/**
 * Power iteration on AᴴA: v ← Aᴴ A v / ‖·‖, `iterations` times, from `start` (or a seeded random
 * vector). Returns the Rayleigh estimate σ ≈ ‖A v‖, a lower bound on σ₁ that converges at the rate
 * (σ₂/σ₁)². Intended for few steps with a vector kept between calls (spectral normalisation).
 */
export function powerIteration(
  op: LinearOperator,
  options: { iterations?: number; start?: Matrix; seed?: number } = {},
): TopSingular {
  const iterations = options.iterations ?? 50;
  let v = options.start
    ? { ...options.start, re: options.start.re.slice(), im: options.start.im?.slice() ?? null }
    : randomNormal(new Rng(options.seed ?? 1), op.cols, 1, op.complex);
  scaleInPlace(v, 1 / vnorm(v));
  let u = op.apply(v);
  const c = rescaleFor(robustNorm(u));
  for (let it = 0; it < iterations; it++) {
    v = op.applyAdjoint(c === 1 ? u : scale(u, c));
    if (c !== 1) scaleInPlace(v, c);
    const nv = vnorm(v);
    if (nv === 0) break;
    scaleInPlace(v, 1 / nv);
    u = op.apply(v);
  }
  const sigma = robustNorm(u);
  if (!Number.isFinite(sigma))
    throw new NumericalError(`power iteration: the operator returned a non-finite vector (‖Av‖ = ${sigma})`);
  if (sigma > 0) scaleInPlace(u, 1 / sigma);
  return { value: sigma, v, u, iterations };
}

/**
 * σ₁ of an operator by Lanczos on AᴴA with full reorthogonalisation. Stops when the Ritz residual
 * ‖AᴴA x − θx‖ ≤ tol·θ (default 1e-13), or when the Krylov space is exhausted (then exact).
 * Cost per step: one product with A and one with Aᴴ, plus O(n·step) for reorthogonalisation.
 * Accuracy: σ₁ to relative ~tol (absolute ~ε·σ₁ whatever cond(A)); the zero operator gives 0, an
 * operator with no rows or columns 0 (with empty or zero vectors). Operators far from norm 1 are
 * rescaled by a power of two between the two products, so ‖A‖ may be anywhere in about
 * [2^-500, 2^500]; for smaller ones (subnormal entries) AᴴA·x underflows inside the operator, so pass
 * a scaled operator (`maximalResponse` and `operatorNorm` do that for dense matrices).
 * @throws ConvergenceError if maxIterations (default min(n, 600)) is reached without convergence;
 * NumericalError when the operator returns a non-finite vector (a dense matrix with NaN/±Inf is
 * refused up front by `toOperator` with a NonFiniteError).
 */
export function lanczosTopSingular(
  op: LinearOperator,
  options: { tol?: number; maxIterations?: number; seed?: number } = {},
): TopSingular {
  const n = op.cols;
  const tol = options.tol ?? 1e-13;
  const maxIt = Math.min(options.maxIterations ?? 600, n);
  if (n === 0 || op.rows === 0) {
    return { value: 0, v: zeros(n, 1, op.complex), u: zeros(op.rows, 1, op.complex), iterations: 0 };
  }
  const Q: Matrix[] = [];
  const alpha: number[] = [];
  const beta: number[] = [];
  let q = randomNormal(new Rng(options.seed ?? 12345), n, 1, op.complex);
  scaleInPlace(q, 1 / vnorm(q));
  // c·A in place of A when ‖Aq‖ is near the ends of the f64 range (θ is then c²σ₁²; σ₁ itself is
  // taken from the unscaled A at the end).
  let image: Matrix | null = op.apply(q);
  const c = rescaleFor(robustNorm(image));
  const gram = (x: Matrix): Matrix => {
    const ax = image ?? op.apply(x);
    image = null;
    return c === 1 ? op.applyAdjoint(ax) : scale(op.applyAdjoint(scale(ax, c)), c);
  };
  let best: { theta: number; gap: number; y: Float64Array } = { theta: 0, gap: 0, y: new Float64Array([1]) };
  for (let j = 0; j < maxIt; j++) {
    Q.push(q);
    const w = gram(q);
    const wc = op.complex && !w.im ? { ...w, im: new Float64Array(w.re.length) } : w;
    const a = euclideanInner(q, wc).re;
    if (!Number.isFinite(a)) {
      throw new NumericalError(
        `Lanczos: the operator returned a non-finite vector at step ${j} (qᴴAᴴAq = ${a}); check the operator's entries`,
      );
    }
    alpha.push(a);
    axpyInPlace(wc, { re: a, im: 0 }, q);
    if (j > 0) axpyInPlace(wc, { re: beta[j - 1], im: 0 }, Q[j - 1]);
    // Full reorthogonalisation, twice ("twice is enough").
    for (let pass = 0; pass < 2; pass++) for (const qi of Q) axpyInPlace(wc, euclideanInner(qi, wc), qi);
    const b = vnorm(wc);
    best = topRitz(alpha, beta, false);
    const theta = best.theta;
    const residual = b * Math.abs(best.y[0]);
    if (theta === 0 && b === 0) break;
    // Error of θ: at most the residual, and at most residual²/gap (Kato–Temple) once the Ritz gap
    // θ₁ − θ₂ is a fair estimate of the true gap; the second bound is used only when the residual is
    // already small (≤ 1e-6·θ), a factor 10 of safety on the gap.
    const gapBound =
      residual <= 1e-6 * theta && best.gap > 0 ? (10 * residual * residual) / best.gap : residual;
    if (
      Math.min(residual, gapBound) <= tol * theta ||
      b <= 1e-15 * Math.max(theta, Number.MIN_VALUE) ||
      j === n - 1
    )
      break;
    if (j === maxIt - 1) {
      throw new ConvergenceError(
        `Lanczos: σ₁ not converged after ${maxIt} steps (residual ${residual.toExponential(2)})`,
      );
    }
    beta.push(b);
    scaleInPlace(wc, 1 / b);
    q = wc;
  }
  // Ritz vector x = Σ yᵢ qᵢ.
  best = topRitz(alpha, beta, true);
  const v = zeros(n, 1, op.complex);
  for (let i = 0; i < best.y.length; i++) axpyInPlace(v, { re: -best.y[i], im: 0 }, Q[i]);
  scaleInPlace(v, 1 / vnorm(v));
  const u = op.apply(v);
  const sigma = robustNorm(u);
  if (!Number.isFinite(sigma))
    throw new NumericalError(`Lanczos: σ₁ exceeds the f64 range (‖Av‖ = ${sigma})`);
  if (sigma > 0) scaleInPlace(u, 1 / sigma);
  // ‖Av‖ is the Rayleigh value of the Ritz vector: a lower bound on σ₁, accurate to second order.
  return { value: sigma, v, u, iterations: alpha.length };
}

/**
 * Largest eigenvalue θ of the Lanczos tridiagonal T (diagonal alpha, off-diagonal beta) and its
 * eigenvector y; with full = false only y's last component is tracked (O(k²) instead of O(k³)),
 * which is all the residual bound β·|y_k| needs.
 */
function topRitz(
  alpha: number[],
  beta: number[],
  full: boolean,
): { theta: number; gap: number; y: Float64Array } {
  const k = alpha.length;
  const d = Float64Array.from(alpha);
  const e = new Float64Array(k);
  for (let i = 0; i < k - 1; i++) e[i] = beta[i];
  // Rows of Yt become eigenvectors; tracking only column k−1 of Yt gives their last components.
  const cols = full ? k : 1;
  const Yt = zeros(k, cols);
  for (let i = 0; i < k; i++) if (full) Yt.re[i * k + i] = 1;
  if (!full) Yt.re[k - 1] = 1;
  tridiagonalQL(d, e, Yt);
  let top = 0;
  for (let i = 1; i < k; i++) if (d[i] > d[top]) top = i;
  let second = Number.NEGATIVE_INFINITY;
  for (let i = 0; i < k; i++) if (i !== top) second = Math.max(second, d[i]);
  // With one Ritz value there is no gap estimate yet (0 disables the gap bound).
  return { theta: d[top], gap: k > 1 ? d[top] - second : 0, y: Yt.re.slice(top * cols, top * cols + cols) };
}
