/**
 * Matrix functions: of Hermitian matrices through their eigendecomposition (exact, for small or rare
 * uses), and the matmul-only iterations training uses (Newton–Schulz polar factor, coupled Newton
 * inverse p-th root). See MATH.md §8.
 */
import { ConvergenceError, ShapeError } from '../errors.js';
import { eigh } from './eigh.js';
import { matmul } from './gemm.js';
import {
  axpby,
  conjTranspose,
  frobeniusNorm,
  identity,
  type Matrix,
  scale,
  shapeOf,
  zeros,
} from './matrix.js';
import { svd } from './svd.js';

/**
 * f(A) = Z diag(f(λ)) Zᴴ for Hermitian A.
 * @example hermitianFunction(matrix([[4, 0], [0, 9]]), Math.sqrt) // diag(2, 3)
 */
export function hermitianFunction(A: Matrix, f: (lambda: number) => number): Matrix {
  const { values, vectors } = eigh(A);
  const Z = vectors!;
  const n = A.rows;
  const ZF = zeros(n, n, Z.im !== null);
  for (let i = 0; i < n; i++) {
    for (let j = 0; j < n; j++) {
      const fj = f(values[j]);
      ZF.re[i * n + j] = Z.re[i * n + j] * fj;
      if (ZF.im) ZF.im[i * n + j] = Z.im![i * n + j] * fj;
    }
  }
  return matmul(ZF, conjTranspose(Z));
}

/**
 * The polar factor U Qᴴ of G = U Σ Qᴴ (thin SVD), exact. For full-rank G it is the unique
 * maximiser of Re tr(Gᴴ D) over ‖D‖_op ≤ 1 (MATH.md §8).
 * @example polar(matrix([[3, 4]])) // [[0.6, 0.8]]
 */
export function polar(G: Matrix): Matrix {
  const { U, V } = svd(G);
  return matmul(U, conjTranspose(V));
}

/** Coefficients (a, b, c) of X ← aX + b(XXᴴ)X + c(XXᴴ)²X. */
export type NewtonSchulzCoefficients = readonly [number, number, number];
/** Converges to the polar factor itself (singular values → 1). */
export const NEWTON_SCHULZ_CUBIC: NewtonSchulzCoefficients = [1.5, -0.5, 0];
/** Muon's quintic: fast, singular values end in roughly [0.7, 1.2] rather than at 1. */
export const NEWTON_SCHULZ_MUON: NewtonSchulzCoefficients = [3.4445, -4.775, 2.0315];

/**
 * Newton–Schulz polar iteration from X₀ = G/‖G‖_F, iterating on the wide orientation (fewer rows
 * than columns) so that XXᴴ is the smaller Gram matrix. Matmul-only. See MATH.md §8.
 */
export function newtonSchulzPolar(
  G: Matrix,
  options: { steps?: number; coefficients?: NewtonSchulzCoefficients } = {},
): Matrix {
  const [a, b, c] = options.coefficients ?? NEWTON_SCHULZ_CUBIC;
  const steps = options.steps ?? 30;
  const tall = G.rows > G.cols;
  const norm = frobeniusNorm(G);
  if (norm === 0) return zeros(G.rows, G.cols, G.im !== null);
  let X = scale(tall ? conjTranspose(G) : G, 1 / norm);
  for (let s = 0; s < steps; s++) {
    const A = matmul(X, conjTranspose(X));
    const B = c === 0 ? scale(A, b) : axpby(b, A, c, matmul(A, A));
    X = axpby(a, X, 1, matmul(B, X));
  }
  return tall ? conjTranspose(X) : X;
}

/**
 * A^{−1/p} of a Hermitian positive definite A by the coupled Newton iteration (matmul-only):
 * X₀ = I/c, M₀ = A/cᵖ with cᵖ = 2‖A‖_F/(1+p) (so M₀'s spectrum lies in (0, (1+p)/2]); then
 * T = ((p+1)I − M)/p, X ← X T, M ← Tᵖ M, until M ≈ I, when X ≈ A^{−1/p}. See MATH.md §8 (Shampoo).
 * @example inverseRoot(diag([16, 81]), 4) // diag(1/2, 1/3)
 * @throws ConvergenceError when M does not reach I within maxIterations.
 */
export function inverseRoot(
  A: Matrix,
  p: number,
  options: { tol?: number; maxIterations?: number } = {},
): Matrix {
  if (A.rows !== A.cols) throw new ShapeError(`inverseRoot: matrix is ${shapeOf(A)}, not square`);
  const n = A.rows;
  const tol = options.tol ?? 1e-13;
  const maxIt = options.maxIterations ?? 100;
  const complex = A.im !== null;
  const I = identity(n, complex);
  // Scaling: with z = (1+p)/(2‖A‖_F), M₀ = zA has spectrum in (0, (1+p)/2], inside the region where
  // the iteration converges; then A^{−1/p} = z^{1/p} X.
  const z = (1 + p) / (2 * frobeniusNorm(A));
  let M = scale(A, z);
  let X = scale(I, z ** (1 / p));
  for (let it = 0; it < maxIt; it++) {
    const T = scale(axpby(p + 1, I, -1, M), 1 / p);
    X = matmul(X, T);
    let Tp = T;
    for (let k = 1; k < p; k++) Tp = matmul(Tp, T);
    M = matmul(Tp, M);
    if (frobeniusNorm(axpby(1, M, -1, I)) <= tol * Math.sqrt(n)) return X;
  }
  throw new ConvergenceError(
    `inverseRoot: coupled Newton iteration for p=${p} did not converge in ${maxIt} steps`,
  );
}
