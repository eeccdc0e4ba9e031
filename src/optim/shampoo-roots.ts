/**
 * Shampoo's inverse fourth roots (S + ε(tr S/n)I)^{−1/4} of its statistics (MATH.md §8).
 *
 * - On the host (the CPU default): a symmetric eigendecomposition in f64 ({@link dampedRoot}).
 * - On the device (WebGPU): the coupled Newton iteration in f32 ({@link deviceDampedRoots}), run
 *   for a number of steps fixed in advance from the damping (no reads inside it), then judged with
 *   one read for all statistics; a statistic whose root fails the check gets the f64 host root
 *   instead, with a warning once per statistic.
 */
import { numpy as np } from '@jax-js/jax';
import { readF32, readScalars } from '../backend/read.js';
import { hermitianFunction } from '../linalg/matfun.js';
import type { Matrix } from '../linalg/matrix.js';
import { toDevice } from './host-arrays.js';
import { coupledNewtonRoot, NumericalError } from './matrix-functions.js';
import type { Tensor } from './types.js';

/** (S + ε(tr S/n)I)^{−1/4} by a symmetric eigendecomposition in f64. */
export function dampedRoot(S: Matrix, eps: number, name: string): Matrix {
  const n = S.rows;
  let tr = 0;
  for (let i = 0; i < n; i++) tr += S.re[i * n + i];
  for (let k = 0; k < S.re.length; k++) {
    if (!Number.isFinite(S.re[k])) throw new NumericalError(`${name} has NaN or Inf entries`);
  }
  const shift = eps * (tr / n) + 1e-30;
  return hermitianFunction(S, (lambda) => Math.max(lambda + shift, shift) ** -0.25);
}

/** The root's order: Shampoo takes inverse fourth roots. */
const P = 4;

/**
 * The accepted residual: the root mean square ‖M − I‖_F/√n of the iteration's own M (which tends to
 * XᵖA) after the last step. Converged iterations end near f32 round-off (about 1e-7); a diverged one
 * is far above or not finite.
 */
export const DEVICE_ROOT_TOL = 1e-3;

/**
 * Steps of the coupled Newton iteration that take every eigenvalue of M₀ in [m₀, (p+1)/2] to within
 * 1e-7 of 1: the scalar map m ← m((p+1−m)/p)ᵖ on a grid of that interval (it is monotone on (0, 1],
 * so the smallest eigenvalue converges last among those below 1), plus one step of margin.
 */
export function coupledNewtonSteps(m0: number, p = P): number {
  let worst = 0;
  const hi = (p + 1) / 2;
  const lo = Math.min(Math.max(m0, 1e-30), hi);
  for (let k = 0; k <= 16; k++) {
    let m = lo * (hi / lo) ** (k / 16);
    let steps = 0;
    while (Math.abs(m - 1) > 1e-7 && steps < 200) {
      m *= ((p + 1 - m) / p) ** p;
      steps++;
    }
    worst = Math.max(worst, steps);
  }
  return worst + 1;
}

/** Where a device root fell back to the host (reported once per statistic). */
const fallbacks = new Set<string>();
function warnOnce(key: string, message: string): void {
  if (fallbacks.has(key)) return;
  fallbacks.add(key);
  console.warn(`riesz: ${message}`);
}

/** One statistic whose root is wanted on the device: S borrowed, n×n, symmetric PSD. */
export interface DeviceStatistic {
  S: Tensor;
  /** Its name in warnings and errors, e.g. "Shampoo fc1.w (left statistic)". */
  name: string;
}

/** Options of {@link deviceDampedRoots}. */
export interface DeviceRootOptions {
  /** Statistics wider than this take the f64 host root without a warning (default: none do). */
  maxDim?: number;
  /** Called for each statistic with what happened (for tests and measurements). */
  report?: (name: string, outcome: DeviceRootOutcome) => void;
}

/** What {@link deviceDampedRoots} did for one statistic. */
export interface DeviceRootOutcome {
  /** 'device' when the f32 root passed its check, 'fallback' when the host root stood in, 'host' for one too wide. */
  path: 'device' | 'fallback' | 'host';
  /** Steps of the iteration run (0 without one). */
  steps: number;
  /** z·shift, the smallest eigenvalue of the scaled damped statistic M₀ in exact arithmetic (NaN without an iteration). */
  m0: number;
  /** ‖M − I‖_F/√n after them (NaN without an iteration or when not finite). */
  residual: number;
  /** Why it fell back. */
  why?: string;
}

async function hostRoot(S: Tensor, eps: number, name: string): Promise<Tensor> {
  const n = S.shape[0];
  const H: Matrix = { rows: n, cols: n, re: Float64Array.from(await readF32(S)), im: null };
  return toDevice(dampedRoot(H, eps, name));
}

/**
 * (S + ε(tr S/n)I)^{−1/4} of each statistic on the device, in f32, with safeguards. One read gives
 * every statistic's trace, sum of squares and finiteness; the damped statistic is scaled by
 * z = (p+1)/(2‖S + shift·I‖) (the Frobenius norm, or the trace where the f32 sum of squares
 * overflowed), which puts its eigenvalues in [z·shift, (p+1)/2]; the coupled Newton iteration then
 * runs the steps {@link coupledNewtonSteps} says that interval needs, without reads. A second read
 * gives every root's ‖M − I‖_F/√n and Σ|X|: a root that is not finite or whose residual exceeds
 * {@link DEVICE_ROOT_TOL} is replaced by the f64 host root ({@link dampedRoot}) of the statistic read
 * back, and a warning says so once per statistic. Borrows the statistics.
 * @throws NumericalError when a statistic has NaN or Inf entries (as on the host).
 */
export async function deviceDampedRoots(
  stats: DeviceStatistic[],
  eps: number,
  { maxDim = Number.POSITIVE_INFINITY, report }: DeviceRootOptions = {},
): Promise<Tensor[]> {
  // Sums, not max or isfinite alone, judge finiteness: WGSL may assume values are finite, and on
  // SwiftShader a diverged root passed both max|M − I| (−Inf: a max over NaNs) and isfinite; NaN
  // and Inf survive sums.
  const info = await readScalars(
    stats.flatMap(({ S }) => [
      np.trace(S.ref),
      np.sum(np.square(S.ref)),
      np.sum(np.abs(S.ref)),
      np.all(np.isfinite(S.ref)),
    ]),
  );
  // Every statistic is checked before any iteration starts (nothing to release on the error).
  stats.forEach(({ name }, i) => {
    const [tr, , sumAbs, allFinite] = info.slice(4 * i, 4 * i + 4);
    if (!allFinite || !Number.isFinite(tr) || !Number.isFinite(sumAbs))
      throw new NumericalError(`${name} has NaN or Inf entries`);
  });
  const roots: (Tensor | null)[] = [];
  const pending: { i: number; X: Tensor; steps: number; m0: number }[] = [];
  const checks: Tensor[] = [];
  for (let i = 0; i < stats.length; i++) {
    const { S, name } = stats[i];
    const n = S.shape[0];
    const [tr, sumsq] = info.slice(4 * i, 4 * i + 2);
    if (n > maxDim || !(tr > 0)) {
      // Too wide for the device by choice, or a zero (or round-off negative) trace: the host root.
      roots.push(await hostRoot(S.ref, eps, name));
      report?.(name, { path: 'host', steps: 0, m0: Number.NaN, residual: Number.NaN });
      continue;
    }
    const shift = eps * (tr / n) + 1e-30;
    // ‖S + shift·I‖ from S's: the Frobenius norm when its f32 sum of squares did not overflow.
    const froSq = sumsq + 2 * shift * tr + n * shift * shift;
    const bound = Number.isFinite(sumsq) ? Math.min(Math.sqrt(froSq), tr + n * shift) : tr + n * shift;
    const z = (P + 1) / (2 * bound);
    const m0 = z * shift;
    const steps = coupledNewtonSteps(m0);
    const { X, M } = coupledNewtonRoot(S.ref.add(np.eye(n).mul(shift)), P, z, steps);
    checks.push(np.sqrt(np.sum(np.square(M.sub(np.eye(n))))).div(Math.sqrt(n)), np.sum(np.abs(X.ref)));
    pending.push({ i, X, steps, m0 });
    roots.push(null);
  }
  const results = await readScalars(checks);
  for (let k = 0; k < pending.length; k++) {
    const { i, X, steps, m0 } = pending[k];
    const [residual, sumAbsX] = results.slice(2 * k, 2 * k + 2);
    const finite = Number.isFinite(residual) && Number.isFinite(sumAbsX);
    const { S, name } = stats[i];
    if (finite && residual >= 0 && residual <= DEVICE_ROOT_TOL) {
      roots[i] = X;
      report?.(name, { path: 'device', steps, m0, residual });
      continue;
    }
    X.dispose();
    const why = finite
      ? `after ${steps} steps the RMS of M − I is ${residual.toPrecision(3)} (accepted: ${DEVICE_ROOT_TOL})`
      : `the root is not finite after ${steps} steps`;
    warnOnce(
      name,
      `${name}: the f32 coupled Newton inverse 4th root on the device failed (${why}); using the f64 eigendecomposition on the host instead`,
    );
    roots[i] = await hostRoot(S.ref, eps, name);
    report?.(name, { path: 'fallback', steps, m0, residual: finite ? residual : Number.NaN, why });
  }
  return roots as Tensor[];
}
