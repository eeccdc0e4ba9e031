/**
 * Average response of a linear map (MATH.md §5): matrix-free Monte Carlo estimators of E‖Ax‖²_W for
 * x uniform on the V-unit sphere, uniform in the V-unit ball, or Gaussian N(0, V⁻¹), with confidence
 * intervals, and the exact means and variances they converge to.
 *
 *   sphere: E = ‖A‖²/n;   ball: E = ‖A‖²/(n+2) real, ‖A‖²/(n+1) complex;   Gaussian: E = ‖A‖²
 *
 * Only x ↦ Ax is needed, so A may be a matrix-free operator. Samples are x = R_V⁻ᴴ u with u from the
 * Euclidean sphere / ball / standard normal ("uniform on S_V" is the image of the uniform measure on
 * the Euclidean sphere, the V-unitarily invariant one — not the ellipsoid's surface measure).
 */
import { UsageError } from '../errors.js';
import { matmul } from '../linalg/gemm.js';
import { type LinearOperator, toOperator } from '../linalg/lanczos.js';
import { conjTranspose, frobeniusNorm as euclidean, type Matrix, zeros } from '../linalg/matrix.js';
import { Rng } from '../linalg/random.js';
import { type Geometry, resolveGeometry, whiten } from './spaces.js';

/** The distribution of x: uniform on the V-unit sphere, uniform in the V-unit ball, or N(0, V⁻¹). */
export type ResponseMeasure = 'sphere' | 'ball' | 'gaussian';
/** Every {@link ResponseMeasure}, in the order messages list them. */
export const RESPONSE_MEASURES: readonly ResponseMeasure[] = ['sphere', 'ball', 'gaussian'];

/** Options of {@link averageResponse}: the geometry, the measure, the sample count and seed, and the
 * confidence level. */
export interface ResponseOptions extends Geometry {
  /** Distribution of x; default 'sphere'. */
  measure?: ResponseMeasure;
  /** Number of samples; default 1000. */
  samples?: number;
  /** Seed of the generator; default 0. */
  seed?: number;
  /** Sample complex x (default: when A or a Gram matrix is complex). */
  complex?: boolean;
  /** Two-sided confidence level of the interval; default 0.95. */
  confidence?: number;
  /** Called after each batch with the samples done so far (for progress bars). */
  onProgress?: (done: number, total: number) => void;
}

/** A Monte Carlo estimate of E‖Ax‖²_W, with its standard error, confidence interval and the implied
 * ‖A‖²_{V,W}. */
export interface ResponseEstimate {
  measure: ResponseMeasure;
  complex: boolean;
  samples: number;
  /** Sample mean of ‖Ax‖²_W. */
  mean: number;
  /** Standard error of the mean (sample standard deviation / √samples). */
  stderr: number;
  /** Confidence interval for E‖Ax‖²_W (normal approximation). */
  interval: [number, number];
  /** The factor c with E‖Ax‖²_W = ‖A‖²_{V,W} / c (n, n+2 or n+1, or 1). */
  normalizer: number;
  /** The implied estimate of ‖A‖²_{V,W} (mean·c) and its interval. */
  frobeniusSquared: { estimate: number; interval: [number, number] };
}

/** c with E‖Ax‖²_W = ‖A‖²_{V,W}/c for x from `measure` on 𝕂ⁿ. */
export function responseNormalizer(measure: ResponseMeasure, n: number, complex: boolean): number {
  if (measure === 'sphere') return n;
  if (measure === 'ball') return complex ? n + 1 : n + 2;
  return 1;
}

/** Two-sided standard normal quantile z with P(|Z| ≤ z) = level (Acklam's rational approximation). */
export function normalQuantile(level: number): number {
  if (!(level > 0 && level < 1)) throw new UsageError(`confidence level must lie in (0, 1), got ${level}`);
  const p = 0.5 + level / 2;
  const a = [
    -39.69683028665376, 220.9460984245205, -275.9285104469687, 138.357751867269, -30.66479806614716,
    2.506628277459239,
  ];
  const b = [
    -54.47609879822406, 161.5858368580409, -155.6989798598866, 66.80131188771972, -13.28068155288572,
  ];
  const c = [
    -0.007784894002430293, -0.3223964580411365, -2.400758277161838, -2.549732539343734, 4.374664141464968,
    2.938163982698783,
  ];
  const d = [0.007784695709041462, 0.3224671290700398, 2.445134137142996, 3.754408661907416];
  const q = Math.sqrt(-2 * Math.log(1 - p));
  if (p > 0.97575) {
    return (
      -(((((c[0] * q + c[1]) * q + c[2]) * q + c[3]) * q + c[4]) * q + c[5]) /
      ((((d[0] * q + d[1]) * q + d[2]) * q + d[3]) * q + 1)
    );
  }
  const r = p - 0.5;
  const s = r * r;
  return (
    ((((((a[0] * s + a[1]) * s + a[2]) * s + a[3]) * s + a[4]) * s + a[5]) * r) /
    (((((b[0] * s + b[1]) * s + b[2]) * s + b[3]) * s + b[4]) * s + 1)
  );
}

/** n×k block of Euclidean samples u: standard normal, then projected to the sphere or the ball. */
function euclideanSamples(
  rng: Rng,
  n: number,
  k: number,
  measure: ResponseMeasure,
  complex: boolean,
): Matrix {
  const U = zeros(n, k, complex);
  const s = complex ? Math.SQRT1_2 : 1;
  for (let q = 0; q < n * k; q++) {
    U.re[q] = s * rng.normal();
    if (U.im) U.im[q] = s * rng.normal();
  }
  if (measure === 'gaussian') return U;
  for (let j = 0; j < k; j++) {
    let r2 = 0;
    for (let i = 0; i < n; i++) r2 += U.re[i * k + j] ** 2 + (U.im ? U.im[i * k + j] ** 2 : 0);
    // Ball: radius U^{1/d} with d the real dimension (n real, 2n complex).
    const radius = measure === 'ball' ? rng.uniform() ** (1 / (complex ? 2 * n : n)) : 1;
    const f = radius / Math.sqrt(r2);
    for (let i = 0; i < n; i++) {
      U.re[i * k + j] *= f;
      if (U.im) U.im[i * k + j] *= f;
    }
  }
  return U;
}

/**
 * Monte Carlo estimate of the average response E‖Ax‖²_W (MATH.md §5), matrix-free in A.
 * Cost per sample: one product with A, one solve with R_Vᴴ and one product with R_Wᴴ.
 * @throws UsageError for a bad measure, sample count or confidence level.
 * @example averageResponse(diag([3, 4]), { samples: 4000 }).mean // ≈ 12.5 (= 25/2)
 */
export function averageResponse(A: Matrix | LinearOperator, options: ResponseOptions = {}): ResponseEstimate {
  const measure = options.measure ?? 'sphere';
  if (!RESPONSE_MEASURES.includes(measure)) {
    throw new UsageError(`unknown measure '${measure}'; valid: ${RESPONSE_MEASURES.join(', ')}`);
  }
  const samples = options.samples ?? 1000;
  if (!(Number.isInteger(samples) && samples >= 2))
    throw new UsageError(`samples must be an integer ≥ 2, got ${samples}`);
  const op = toOperator(A);
  const g = resolveGeometry(op.rows, op.cols, options);
  const complex = options.complex ?? (op.complex || g.domain.complex || g.codomain.complex);
  const n = op.cols;
  const rng = new Rng(options.seed ?? 0);
  const batch = 256;
  // Welford's running mean and variance.
  let count = 0;
  let mean = 0;
  let m2 = 0;
  for (let done = 0; done < samples; done += batch) {
    const k = Math.min(batch, samples - done);
    const X = g.domain.factorSolveH(euclideanSamples(rng, n, k, measure, complex));
    const Z = g.codomain.factorApplyH(op.apply(X));
    for (let j = 0; j < k; j++) {
      let f = 0;
      for (let i = 0; i < Z.rows; i++) f += Z.re[i * k + j] ** 2 + (Z.im ? Z.im[i * k + j] ** 2 : 0);
      count++;
      const delta = f - mean;
      mean += delta / count;
      m2 += delta * (f - mean);
    }
    options.onProgress?.(done + k, samples);
  }
  const stderr = Math.sqrt(m2 / (count - 1) / count);
  const z = normalQuantile(options.confidence ?? 0.95);
  const interval: [number, number] = [mean - z * stderr, mean + z * stderr];
  const c = responseNormalizer(measure, n, complex);
  return {
    measure,
    complex,
    samples: count,
    mean,
    stderr,
    interval,
    normalizer: c,
    frobeniusSquared: { estimate: mean * c, interval: [interval[0] * c, interval[1] * c] },
  };
}

/** The exact mean and variance of ‖Ax‖²_W under a measure. */
export interface ResponseMoments {
  mean: number;
  variance: number;
}

/**
 * Exact mean and variance of f = ‖Ax‖²_W under `measure` (MATH.md §5 table), from t₁ = tr M and
 * t₂ = tr M² with M = R_V⁻¹ Aᴴ W A R_V⁻ᴴ (so t₁ = ‖A‖²_{V,W}).
 * @example exactResponseMoments(matrix([[1, 2], [3, 4]]), 'sphere', false) // { mean: 15, variance: 110.5 }
 */
export function exactResponseMoments(
  A: Matrix,
  measure: ResponseMeasure,
  complex: boolean,
  geometry: Geometry = {},
): ResponseMoments {
  const g = resolveGeometry(A.rows, A.cols, geometry);
  const Mw = whiten(A, g);
  const M = matmul(conjTranspose(Mw), Mw);
  const t1 = euclidean(Mw) ** 2;
  const t2 = euclidean(M) ** 2;
  const n = A.cols;
  if (measure === 'sphere') {
    const variance = complex
      ? (n * t2 - t1 * t1) / (n * n * (n + 1))
      : (2 * (n * t2 - t1 * t1)) / (n * n * (n + 2));
    return { mean: t1 / n, variance };
  }
  if (measure === 'ball') {
    const mean = complex ? t1 / (n + 1) : t1 / (n + 2);
    const second = complex ? (t1 * t1 + t2) / ((n + 1) * (n + 2)) : (t1 * t1 + 2 * t2) / ((n + 2) * (n + 4));
    return { mean, variance: second - mean * mean };
  }
  return { mean: t1, variance: complex ? t2 : 2 * t2 };
}
