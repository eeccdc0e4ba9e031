/**
 * Spectral norms of A: X → Y in the geometries V, W (MATH.md §5): the singular values σ₁ ≥ σ₂ ≥ … of
 * M = W^{1/2} A V^{−1/2} (computed as R_Wᴴ A R_V⁻ᴴ with Cholesky factors, which has the same σ).
 * Operator norm σ₁ = maximal response max_{x ∈ S_V} ‖Ax‖_W; nuclear Σσᵢ; Schatten-p (Σσᵢᵖ)^{1/p}.
 */
import { NumericalError, UsageError } from '../errors.js';
import { type LinearOperator, lanczosTopSingular, toOperator } from '../linalg/lanczos.js';
import { assertFinite, type Matrix, rangeScale, scale } from '../linalg/matrix.js';
import { singularValues } from '../linalg/svd.js';
import { type Geometry, type ResolvedGeometry, resolveGeometry, whiten } from './spaces.js';

/**
 * Singular values of A in the geometry (V, W), descending: those of R_Wᴴ A R_V⁻ᴴ, by one-sided
 * Jacobi SVD (high relative accuracy). Cost O(mn(m+n)) to whiten plus ≈ 5·max(m,n)·min(m,n)² per sweep.
 */
export function weightedSingularValues(A: Matrix, geometry: Geometry = {}): Float64Array {
  assertFinite(A, 'A');
  return singularValues(whiten(A, resolveGeometry(A.rows, A.cols, geometry)));
}

/** The whitened map x ↦ R_Wᴴ A R_V⁻ᴴ x as a matrix-free operator (only products with A, Aᴴ). */
export function whitenedOperator(A: LinearOperator, g: ResolvedGeometry): LinearOperator {
  return {
    rows: A.rows,
    cols: A.cols,
    complex: A.complex || g.domain.complex || g.codomain.complex,
    apply: (X) => g.codomain.factorApplyH(A.apply(g.domain.factorSolveH(X))),
    applyAdjoint: (Y) => g.domain.factorSolve(A.applyAdjoint(g.codomain.factorApply(Y))),
  };
}

/** σ₁ = ‖A‖_{op;V,W} with a unit maximiser x and its image Ax, from {@link maximalResponse}. */
export interface MaximalResponse {
  /** σ₁ = ‖A‖_{op;V,W} = max over the V-unit sphere of ‖Ax‖_W. */
  value: number;
  /** A maximiser x on the V-unit sphere (⟨x,x⟩_V = 1), n×1. */
  x: Matrix;
  /** Its image A x (m×1), with ‖Ax‖_W = value. */
  y: Matrix;
  /** Lanczos steps taken. */
  iterations: number;
}

/**
 * The maximal response of A over the V-unit sphere, σ₁, with a maximiser. Lanczos with full
 * reorthogonalisation on MᴴM, M applied matrix-free (triangular solves with L_V, products with L_W,
 * A, Aᴴ): O(mn) per step plus the Cholesky factorisations, instead of a full SVD. Accurate to ~1e-13.
 * A may be a dense matrix or a matrix-free operator.
 * @example maximalResponse(diag([3, 4])).value // 4
 */
export function maximalResponse(A: Matrix | LinearOperator, geometry: Geometry = {}): MaximalResponse {
  const op = toOperator(A);
  const g = resolveGeometry(op.rows, op.cols, geometry);
  // A dense A with entries near the ends of the f64 range (subnormal ones included, where AᴴA·x
  // would underflow whatever the vectors' scale): σ₁ of c·A for an exact power of two c, then /c.
  const c = 'apply' in A ? 1 : rangeScale(A);
  const top = lanczosTopSingular(whitenedOperator(c === 1 ? op : toOperator(scale(A as Matrix, c)), g));
  const value = top.value / c;
  if (!Number.isFinite(value))
    throw new NumericalError(`operator norm: σ₁ exceeds the f64 range (${top.value}/${c})`);
  const x = g.domain.factorSolveH(top.v);
  return { value, x, y: op.apply(x), iterations: top.iterations };
}

/**
 * ‖A‖_{op;V,W} = σ₁(W^{1/2} A V^{−1/2}) (MATH.md §5), by Lanczos (see `maximalResponse`).
 * Accuracy as {@link frobeniusNorm}'s (the same whitening), plus Lanczos' ~1e-13; 0 for the zero and
 * empty maps.
 * @throws NonFiniteError (A, V or W with NaN/±Inf), NotPositiveDefiniteError (V or W, with the pivot),
 * ShapeError.
 * @example operatorNorm(matrix([[1, [0, 1]], [0, 1]])) // 1.618033988749895 (the golden ratio)
 */
export function operatorNorm(A: Matrix | LinearOperator, geometry: Geometry = {}): number {
  return maximalResponse(A, geometry).value;
}

/**
 * Schatten-p norm (Σ σᵢᵖ)^{1/p} of A in the geometry (V, W), p ≥ 1 (p = ∞ gives σ₁, p = 2 the
 * Frobenius-type norm, p = 1 the nuclear norm). Needs all singular values: full Jacobi SVD.
 * @throws UsageError when p < 1 or p is NaN.
 * @example schattenNorm(diag([3, 4]), 3) // 91^(1/3) ≈ 4.497941445
 */
export function schattenNorm(A: Matrix, p: number, geometry: Geometry = {}): number {
  if (!(p >= 1)) throw new UsageError(`Schatten-p needs p ≥ 1 (it is not a norm below), got ${p}`);
  const s = weightedSingularValues(A, geometry);
  if (s.length === 0) return 0;
  if (p === Number.POSITIVE_INFINITY) return s[0];
  const s1 = s[0];
  if (s1 === 0) return 0;
  // Scale by σ₁ to avoid overflow in σᵖ.
  let acc = 0;
  for (const v of s) acc += (v / s1) ** p;
  return s1 * acc ** (1 / p);
}

/**
 * Nuclear norm Σ σᵢ of A in the geometry (V, W) (MATH.md §5).
 * @example nuclearNorm(diag([3, 4])) // 7
 */
export function nuclearNorm(A: Matrix, geometry: Geometry = {}): number {
  return weightedSingularValues(A, geometry).reduce((s, v) => s + v, 0);
}
