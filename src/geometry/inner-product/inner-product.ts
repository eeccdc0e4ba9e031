/**
 * An inner product on 𝕂ⁿ, ⟨x, y⟩_V = xᴴ V y, given by its Gram matrix V (Hermitian positive definite).
 * See MATH.md §1. Every structure (identity, c·I, diagonal, dense, Kronecker, low-rank + diagonal)
 * exposes the same operations, each applied to a block of columns X (n×k):
 *
 * - the Riesz map V X and its inverse V⁻¹ X;
 * - a square-root factor R with V = R Rᴴ (Cholesky for dense V) and R X, Rᴴ X, R⁻¹ X, R⁻ᴴ X — the
 *   norms and samplers never form V⁻¹ or V^{±1/2};
 * - log det V and the dense Gram matrix (for inspection and tests).
 */
import type { Matrix } from '../../linalg/matrix.js';

/** The structure of a Gram matrix V, which decides how its operations are computed. */
export type GramKind = 'identity' | 'scaled' | 'diagonal' | 'dense' | 'kronecker' | 'low-rank';

/** An inner product ⟨x, y⟩_V = xᴴ V y on 𝕂ⁿ: its Riesz map, a square-root factor and log det V. */
export interface InnerProduct {
  readonly kind: GramKind;
  /** n, the dimension of the space. */
  readonly dim: number;
  /** Whether V has complex entries. */
  readonly complex: boolean;
  /** V X. */
  rieszMap(X: Matrix): Matrix;
  /** V⁻¹ X. */
  inverseRieszMap(X: Matrix): Matrix;
  /** R X, where V = R Rᴴ. */
  factorApply(X: Matrix): Matrix;
  /** Rᴴ X. */
  factorApplyH(X: Matrix): Matrix;
  /** R⁻¹ X. */
  factorSolve(X: Matrix): Matrix;
  /** R⁻ᴴ X (maps the Euclidean unit sphere onto the V-unit sphere). */
  factorSolveH(X: Matrix): Matrix;
  /** log det V. */
  logDet(): number;
  /** The Gram matrix V itself (n×n). */
  toDense(): Matrix;
}
