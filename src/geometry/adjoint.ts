/**
 * The adjoint of A: X → Y with respect to ⟨·,·⟩_V on X and ⟨·,·⟩_W on Y (MATH.md §2):
 * ⟨Ax, y⟩_W = ⟨x, A*y⟩_V for all x, y, i.e.  A* = V⁻¹ Aᴴ W  (n×m).
 */
import type { LinearOperator } from '../linalg/lanczos.js';
import { assertFinite, conjTranspose, type Matrix } from '../linalg/matrix.js';
import { checkMap, type Geometry, resolveGeometry } from './spaces.js';

/**
 * A* = V⁻¹ Aᴴ W as a dense n×m matrix. Uses Aᴴ W = (W A)ᴴ and a Cholesky solve with V.
 * Accuracy: relative error ≲ n·ε·cond(V) (the solve with V): ~1e-15·n at cond 1, O(1) at
 * cond(V) = 1e16, where V is numerically singular; W enters by a product (error ~m·ε).
 * @throws NonFiniteError (A, V or W with a NaN/±Inf entry, by name and position),
 * NotPositiveDefiniteError (V or W singular or indefinite: which one, and the pivot), ShapeError.
 * @example adjoint(matrix([[1, 2]]), { domain: diagonal([1, 2]), codomain: matrix([[3]]) }) // [[3], [3]]
 */
export function adjoint(A: Matrix, geometry: Geometry = {}): Matrix {
  assertFinite(A, 'A');
  const g = resolveGeometry(A.rows, A.cols, geometry);
  checkMap(A, g);
  return g.domain.inverseRieszMap(conjTranspose(g.codomain.rieszMap(A)));
}

/**
 * The metric adjoint of a matrix-free map: y ↦ V⁻¹ Aᴴ W y, as an operator from 𝕂ᵐ to 𝕂ⁿ.
 */
export function adjointOperator(A: LinearOperator, geometry: Geometry = {}): LinearOperator {
  const g = resolveGeometry(A.rows, A.cols, geometry);
  return {
    rows: A.cols,
    cols: A.rows,
    complex: A.complex || g.domain.complex || g.codomain.complex,
    apply: (Y) => g.domain.inverseRieszMap(A.applyAdjoint(g.codomain.rieszMap(Y))),
    // Euclidean adjoint of V⁻¹AᴴW is W A V⁻¹.
    applyAdjoint: (X) => g.codomain.rieszMap(A.apply(g.domain.inverseRieszMap(X))),
  };
}
