/**
 * Matmul-only matrix functions on jax-js arrays for use inside training (fast on Wasm and WebGPU):
 * Newton–Schulz polar factor, Newton–Schulz inverse, coupled Newton inverse p-th root. The f64
 * references live in linalg/matfun.ts; these are their float32, on-device counterparts.
 * Every function consumes its array arguments.
 */
import { numpy as np } from '@jax-js/jax';
import { readScalar } from '../backend/read.js';
import { NumericalError } from '../errors.js';
import {
  NEWTON_SCHULZ_CUBIC,
  NEWTON_SCHULZ_MUON,
  type NewtonSchulzCoefficients,
  type NewtonSchulzOps,
  type NewtonSchulzSchedule,
  type NewtonSchulzScheduleName,
  type NewtonSchulzSpec,
  newtonSchulzIterate,
  POLAR_EXPRESS,
  QUINTIC_MUON,
  resolveSchedule,
} from '../linalg/matfun.js';
import type { Tensor } from './types.js';

/** A numerical failure (NaN/Inf, a diverging iteration), naming the layer; defined in errors.ts. */
export { NumericalError } from '../errors.js';

/** (a, b, c) of X ← aX + b(XXᵀ)X + c(XXᵀ)²X (the same type as linalg's). */
export type PolarCoefficients = NewtonSchulzCoefficients;
/** The cubic step (1.5, −0.5, 0), which converges to the polar factor. */
export const POLAR_CUBIC: PolarCoefficients = NEWTON_SCHULZ_CUBIC;
/** Keller Jordan's fixed quintic (3.4445, −4.775, 2.0315): fast, but its singular values settle in
 * about [0.7, 1.2] rather than at 1. */
export const POLAR_MUON: PolarCoefficients = NEWTON_SCHULZ_MUON;
export { type NewtonSchulzSchedule, type NewtonSchulzScheduleName, POLAR_EXPRESS, QUINTIC_MUON };

/** float32 jax-js arrays: every operation consumes its arguments; the norm stays on the device. */
export const DEVICE_NEWTON_SCHULZ_OPS: NewtonSchulzOps<Tensor> = {
  shape: (X) => X.shape,
  keep: (X) => X.ref,
  adjoint: (X) => X.transpose(),
  matmul: (X, Y) => np.matmul(X, Y),
  axpby: (alpha, X, beta, Y) => X.mul(alpha).add(beta === 1 ? Y : Y.mul(beta)),
  scale: (X, alpha) => X.mul(alpha),
  normalize: (X, normScale, eps) => {
    // X/(‖X‖·s + ε) = Y/(‖Y‖·s + ε/m) with Y = X/m, m = max|X|: the float32 sum of squares would
    // overflow for entries beyond ~1e19 (and X₀ collapse to 0); Y's entries are at most 1.
    const m = np.maximum(np.max(np.abs(X.ref)), 1e-30);
    const Y = X.div(m.ref);
    const norm = np.sqrt(np.sum(np.square(Y.ref)));
    return Y.div((normScale === 1 ? norm : norm.mul(normScale)).add(np.reciprocal(m).mul(eps)));
  },
};

/**
 * Newton–Schulz polar factor of a 2-D jax-js array, by the shared iteration (linalg/matfun.ts,
 * `newtonSchulzIterate`; MATH.md §8). `schedule` is a name ('polar-express', 'quintic', 'cubic'), a
 * schedule, or one fixed (a, b, c) triple; the default stays the fixed quintic for existing callers
 * (Muon itself defaults to Polar Express). `steps` defaults to the schedule's length for a schedule
 * and to 5 for a triple. Consumes G.
 */
export function polarNewtonSchulz(
  G: Tensor,
  steps?: number,
  schedule: NewtonSchulzSpec = POLAR_MUON,
): Tensor {
  return newtonSchulzIterate(G, DEVICE_NEWTON_SCHULZ_OPS, resolveSchedule(schedule), steps);
}

/** Scalar on the host (used only at refresh points, never per step; asynchronous for WebGPU). */
function hostScalar(x: Tensor): Promise<number> {
  return readScalar(x);
}

/** Tᵖ by repeated squaring (⌊log₂ p⌋ + popcount(p) − 1 products; consumes T). */
function matrixPower(T: Tensor, p: number): Tensor {
  let result: Tensor | null = null;
  let base = T;
  for (let k = p; ; k >>= 1) {
    if (k & 1) result = result ? np.matmul(result, base.ref) : base.ref;
    if (k <= 1) break;
    base = np.matmul(base.ref, base);
  }
  base.dispose();
  return result!;
}

/**
 * `steps` steps of the coupled Newton iteration for A^{−1/p} (MATH.md §12.15) from X₀ = z^{1/p} I,
 * M₀ = zA: T = ((p+1)I − M)/p; X ← XT; M ← Tᵖ M. No reads: the caller judges the result by M, which
 * tends to I (in exact arithmetic M = XᵖA). It converges when zA's eigenvalues lie in (0, p+1), e.g.
 * z = (1+p)/(2‖A‖) for any norm ‖A‖ ≥ λ_max. Consumes A; returns X and M.
 */
export function coupledNewtonRoot(A: Tensor, p: number, z: number, steps: number): { X: Tensor; M: Tensor } {
  const n = A.shape[0];
  let M = A.mul(z);
  let X = np.eye(n).mul(z ** (1 / p));
  for (let it = 0; it < steps; it++) [X, M] = coupledNewtonStep(X, M, p);
  return { X, M };
}

function coupledNewtonStep(X: Tensor, M: Tensor, p: number): [Tensor, Tensor] {
  const n = M.shape[0];
  const T = np
    .eye(n)
    .mul(p + 1)
    .sub(M.ref)
    .div(p);
  const Xn = np.matmul(X, T.ref);
  return [Xn, np.matmul(matrixPower(T, p), M)];
}

/** Options of {@link inverseRootNewton}. */
export interface InverseRootNewtonOptions {
  /** At most this many iterations (default 40). */
  iterations?: number;
  /** Stop when max|M − I| is at most this (default 1e-6). */
  tol?: number;
  /** The matrix's name in error messages. */
  name?: string;
  /** ‖A‖_F when the caller knows it (skips one read). */
  fro?: number;
  /**
   * Read max|M − I| every this many iterations (default 1). On a GPU every read is a sync; after
   * the first step M's eigenvalues lie in (0, 1] and max|M − I| ≤ 1 falls monotonically (in exact
   * arithmetic), so sparser checks still catch divergence, at the cost of a few extra iterations.
   */
  checkEvery?: number;
}

/**
 * A^{−1/p} of a symmetric positive definite A by the coupled Newton iteration (MATH.md §12.15):
 * X₀ = z^{1/p} I, M₀ = zA with z = (1+p)/(2‖A‖_F); T = ((p+1)I − M)/p; X ← XT; M ← Tᵖ M.
 * @throws NumericalError when A is not finite or the iteration diverges (‖M − I‖ grows).
 */
export async function inverseRootNewton(
  A: Tensor,
  p: number,
  {
    iterations = 40,
    tol = 1e-6,
    name = 'matrix',
    fro: knownFro,
    checkEvery = 1,
  }: InverseRootNewtonOptions = {},
): Promise<Tensor> {
  const n = A.shape[0];
  const fro = knownFro ?? (await hostScalar(np.sqrt(np.sum(np.square(A.ref)))));
  if (!Number.isFinite(fro) || fro === 0) {
    A.dispose();
    throw new NumericalError(`${name}: cannot take an inverse root of a matrix with Frobenius norm ${fro}`);
  }
  const z = (1 + p) / (2 * fro);
  let M = A.mul(z);
  let X = np.eye(n).mul(z ** (1 / p));
  let prev = Number.POSITIVE_INFINITY;
  const every = Math.max(1, Math.floor(checkEvery));
  for (let it = 0; it < iterations; it++) {
    [X, M] = coupledNewtonStep(X, M, p);
    if ((it + 1) % every !== 0 && it + 1 < iterations) continue;
    const err = await hostScalar(np.max(np.abs(M.ref.sub(np.eye(n)))));
    if (!Number.isFinite(err) || err > 10 * prev + 1) {
      M.dispose();
      X.dispose();
      throw new NumericalError(`${name}: the coupled Newton iteration for the inverse ${p}-th root diverged`);
    }
    if (err <= tol) break;
    prev = err;
  }
  M.dispose();
  return X;
}

/** Options of {@link inverseNewtonSchulz}. */
export interface InverseNewtonSchulzOptions {
  /** A previous inverse to start from (consumed); a cold start from I/‖A‖ when absent or when it fails. */
  start?: Tensor;
  /** At most this many iterations (two products and one scalar read each). */
  iterations?: number;
  /** Stop when the residual's root mean square ‖I − AX‖_F/√n is at most this. */
  tol?: number;
  /**
   * When the iteration fails, return jax-js's exact inverse (true, the default) or throw a
   * NumericalError (false: for callers with a better fallback — jax-js's inverse is an LU that runs
   * slowly on WebGPU).
   */
  exactFallback?: boolean;
}

/** A residual RMS at which float32 round-off, not the iteration, has the last word. */
const STALL_ACCEPT = 1e-3;

/**
 * A⁻¹ for symmetric positive definite A by Newton–Schulz, X ← X(2I − AX), warm-started from `start`
 * (a previous inverse) when given, else from I/min(‖A‖_F, ‖A‖_∞). The residual squares each step
 * (R ← R²). From the cold start every iterate is a polynomial in A, so the residual's eigenvalues
 * 1 − λ/‖A‖ lie in [0, 1) and shrink monotonically even when ‖R₀‖_F ≥ 1 (for n > 1 it nearly always
 * is): the iteration is judged by whether the residual falls, not by ‖R₀‖_F < 1. A warm start that
 * does not contract is dropped for the cold one; a residual that stops halving at float32 round-off
 * (RMS ≤ 1e-3) is accepted. Consumes A.
 * @throws NumericalError when the iteration fails and `exactFallback` is false.
 */
export async function inverseNewtonSchulz(
  A: Tensor,
  { start, iterations = 40, tol = 1e-6, exactFallback = true }: InverseNewtonSchulzOptions = {},
): Promise<Tensor> {
  const n = A.shape[0];
  // Both norms bound λ_max of a symmetric A; the ∞-norm is far tighter for a flat spectrum.
  const cold = () => {
    const fro = np.sqrt(np.sum(np.square(A.ref)));
    const inf = np.max(np.sum(np.abs(A.ref), 1));
    return np.eye(n).div(np.minimum(fro, inf));
  };
  let warm = start !== undefined;
  let X = start ?? cold();
  let prev = Number.POSITIVE_INFINITY;
  for (let it = 0; it < iterations; it++) {
    const R = np.eye(n).sub(np.matmul(A.ref, X.ref));
    const rms = (await hostScalar(np.sqrt(np.sum(np.square(R.ref))))) / Math.sqrt(n);
    const falling = rms < prev;
    // Near convergence R ← R² falls by orders of magnitude; less than half means round-off.
    if (rms <= tol || (rms > 0.5 * prev && rms <= STALL_ACCEPT)) {
      R.dispose();
      A.dispose();
      return X;
    }
    if (!falling) {
      R.dispose();
      X.dispose();
      if (warm) {
        // The warm start did not contract: begin again from the cold start, which always does.
        warm = false;
        X = cold();
        prev = Number.POSITIVE_INFINITY;
        continue;
      }
      return inverseFailed(A, exactFallback, `the residual stopped falling at RMS ${rms.toPrecision(3)}`);
    }
    prev = rms;
    // X(2I − AX) = X + X(I − AX)
    X = X.ref.add(np.matmul(X, R));
  }
  if (prev <= STALL_ACCEPT) {
    A.dispose();
    return X;
  }
  X.dispose();
  return inverseFailed(A, exactFallback, `no convergence in ${iterations} iterations`);
}

function inverseFailed(A: Tensor, exactFallback: boolean, why: string): Tensor {
  if (exactFallback) return np.linalg.inv(A);
  const n = A.shape[0];
  A.dispose();
  throw new NumericalError(`Newton–Schulz inverse of a ${n}×${n} matrix failed: ${why}`);
}

/**
 * The Cayley transform (I + H)⁻¹(I − H) = 2(I + H)⁻¹ − I of a skew-symmetric H, by Newton–Schulz:
 * I + H is normal with (I + H)(I + H)ᵀ = I + HᵀH, so from X₀ = (I − H)/(1 + ‖H‖_F²) the residual
 * I − (I + H)X₀ has eigenvalues in [0, ρ], ρ = ‖H‖_F²/(1 + ‖H‖_F²), and squares each step; the
 * iteration runs until ρ^(2^k) ≤ 2⁻³⁰, below float32 round-off. `normSq` is ‖H‖_F² (read by the
 * caller, once for many layers). Consumes H.
 */
export function cayleyNewtonSchulz(H: Tensor, normSq: number): Tensor {
  if (!Number.isFinite(normSq)) {
    H.dispose();
    throw new NumericalError(`Cayley transform: ‖H‖_F² is ${normSq}`);
  }
  const n = H.shape[0];
  const rho = normSq / (1 + normSq);
  // At most 60 steps: only an absurd step size (‖H‖_F² ≳ 1e15) needs more.
  const steps =
    rho === 0 ? 0 : Math.min(60, Math.max(0, Math.ceil(Math.log2((30 * Math.LN2) / -Math.log(rho)))));
  const B = np.eye(n).add(H.ref);
  let X = np
    .eye(n)
    .sub(H)
    .div(1 + normSq);
  for (let k = 0; k < steps; k++) X = X.ref.add(np.matmul(X.ref, np.eye(n).sub(np.matmul(B.ref, X))));
  B.dispose();
  return X.mul(2).sub(np.eye(n));
}
