/**
 * The metric trace (MATH.md §3): for a sesquilinear form b(x, y) = xᴴ B y on X = 𝕂ⁿ with inner
 * product ⟨·,·⟩_V, tr_V b = tr(V⁻¹ B) — the trace of the endomorphism V⁻¹B that represents b through
 * the Riesz map; Σᵢ b(eᵢ, eᵢ) over any V-orthonormal basis.
 */
import { ShapeError } from '../errors.js';
import { assertFinite, type Complex, type Matrix, shapeOf, trace } from '../linalg/matrix.js';
import { dense } from './inner-product/dense.js';
import type { InnerProduct } from './inner-product/inner-product.js';

/**
 * tr(V⁻¹ B) for an n×n matrix B of a sesquilinear form and an inner product (or Gram matrix) V.
 * Cost: one solve with V (n³ for dense V after its Cholesky factor). Accuracy: relative to
 * ‖V⁻¹‖·‖B‖, an error ≲ n·ε·cond(V). The 0×0 form has trace 0.
 * @throws NonFiniteError (B or V with NaN/±Inf, by name and position), NotPositiveDefiniteError
 * (V singular or indefinite, with the pivot), ShapeError.
 * @example metricTrace(matrix([[1, 2], [3, 4]]), diagonal([1, 2])) // { re: 3, im: 0 }
 */
export function metricTrace(B: Matrix, V: InnerProduct | Matrix): Complex {
  assertFinite(B, 'form B');
  const ip = 'dim' in V ? V : dense(V, 'Gram matrix V');
  if (B.rows !== B.cols || B.rows !== ip.dim) {
    throw new ShapeError(`metricTrace: form B is ${shapeOf(B)} but the space has dimension ${ip.dim}`);
  }
  return trace(ip.inverseRieszMap(B));
}
