/**
 * Matmul-only matrix functions on jax-js arrays for use inside training (fast on Wasm and WebGPU):
 * Newton–Schulz polar factor, Newton–Schulz inverse, coupled Newton inverse p-th root. The f64
 * references live in linalg/matfun.ts; these are their float32, on-device counterparts.
 * Every function consumes its array arguments.
 */
import { numpy as np } from '@jax-js/jax';
import { RieszError } from '../errors.js';
import type { Tensor } from './types.js';

/** A numerical failure inside an optimizer (NaN/Inf, a diverging iteration), naming the layer. */
export class NumericalError extends RieszError {
  constructor(message: string) {
    super('numerical', message);
  }
}

/** (a, b, c) of X ← aX + b(XXᵀ)X + c(XXᵀ)²X. */
export type PolarCoefficients = readonly [number, number, number];
export const POLAR_CUBIC: PolarCoefficients = [1.5, -0.5, 0];
export const POLAR_MUON: PolarCoefficients = [3.4445, -4.775, 2.0315];

/** Newton–Schulz polar iteration from X₀ = G/‖G‖_F on the wide orientation (MATH.md §8). */
export function polarNewtonSchulz(G: Tensor, steps = 5, [a, b, c]: PolarCoefficients = POLAR_MUON): Tensor {
  const [rows, cols] = G.shape;
  const tall = rows > cols;
  let X = tall ? G.transpose() : G;
  X = X.ref.div(np.sqrt(np.sum(np.square(X))).add(1e-7));
  for (let s = 0; s < steps; s++) {
    const A = np.matmul(X.ref, X.ref.transpose());
    const B = c === 0 ? A.mul(b) : A.ref.mul(b).add(np.matmul(A.ref, A).mul(c));
    X = X.ref.mul(a).add(np.matmul(B, X));
  }
  return tall ? X.transpose() : X;
}

/** Scalar on the host (used only at refresh points, never per step). */
function hostScalar(x: Tensor): number {
  return (x.dataSync() as Float32Array)[0];
}

/**
 * A^{−1/p} of a symmetric positive definite A by the coupled Newton iteration (MATH.md §12.15):
 * X₀ = z^{1/p} I, M₀ = zA with z = (1+p)/(2‖A‖_F); T = ((p+1)I − M)/p; X ← XT; M ← Tᵖ M.
 * @throws NumericalError when A is not finite or the iteration diverges (‖M − I‖ grows).
 */
export function inverseRootNewton(
  A: Tensor,
  p: number,
  { iterations = 40, tol = 1e-6, name = 'matrix' } = {},
): Tensor {
  const n = A.shape[0];
  const fro = hostScalar(np.sqrt(np.sum(np.square(A.ref))));
  if (!Number.isFinite(fro) || fro === 0) {
    A.dispose();
    throw new NumericalError(`${name}: cannot take an inverse root of a matrix with Frobenius norm ${fro}`);
  }
  const z = (1 + p) / (2 * fro);
  let M = A.mul(z);
  let X = np.eye(n).mul(z ** (1 / p));
  let prev = Number.POSITIVE_INFINITY;
  for (let it = 0; it < iterations; it++) {
    const T = np
      .eye(n)
      .mul(p + 1)
      .sub(M.ref)
      .div(p);
    X = np.matmul(X, T.ref);
    let Tp = T.ref;
    for (let k = 1; k < p; k++) Tp = np.matmul(Tp, T.ref);
    T.dispose();
    M = np.matmul(Tp, M);
    const err = hostScalar(np.max(np.abs(M.ref.sub(np.eye(n)))));
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

/**
 * A⁻¹ for symmetric positive definite A by Newton–Schulz, X ← X(2I − AX), warm-started from `start`
 * (a previous inverse) when given, else from I/‖A‖_F. Falls back to an exact inverse when the
 * iteration does not contract (a warm start too far off, or a badly conditioned A).
 */
export function inverseNewtonSchulz(
  A: Tensor,
  { start, iterations = 30, tol = 1e-5 }: { start?: Tensor; iterations?: number; tol?: number } = {},
): Tensor {
  const n = A.shape[0];
  let X = start ?? np.eye(n).div(hostScalar(np.sqrt(np.sum(np.square(A.ref)))));
  let prev = Number.POSITIVE_INFINITY;
  for (let it = 0; it < iterations; it++) {
    // Residual R = I − AX; R_{k+1} = R_k², so ‖R‖_F < 1 guarantees quadratic convergence.
    const R = np.eye(n).sub(np.matmul(A.ref, X.ref));
    const err = hostScalar(np.sqrt(np.sum(np.square(R.ref))));
    if (!Number.isFinite(err) || err >= prev || err >= 1) {
      R.dispose();
      X.dispose();
      return np.linalg.inv(A);
    }
    if (err <= tol) {
      R.dispose();
      A.dispose();
      return X;
    }
    prev = err;
    // X(2I − AX) = X + X(I − AX)
    X = X.ref.add(np.matmul(X, R));
  }
  A.dispose();
  return X;
}
