/**
 * The metric trace (MATH.md §3): for a sesquilinear form b(x, y) = xᴴ B y on X = 𝕂ⁿ with inner
 * product ⟨·,·⟩_V, tr_V b = tr(V⁻¹ B) — the trace of the endomorphism V⁻¹B that represents b through
 * the Riesz map; Σᵢ b(eᵢ, eᵢ) over any V-orthonormal basis.
 */
import { ShapeError } from '../errors.js';
import { type Complex, type Matrix, shapeOf, trace } from '../linalg/matrix.js';
import { dense } from './inner-product/dense.js';
import type { InnerProduct } from './inner-product/inner-product.js';

/**
 * tr(V⁻¹ B) for an n×n matrix B of a sesquilinear form and an inner product (or Gram matrix) V.
 * Cost: one solve with V (n³ for dense V after its Cholesky factor).
 * @example metricTrace(matrix([[1, 2], [3, 4]]), diagonal([1, 2])) // { re: 3, im: 0 }
 */
export function metricTrace(B: Matrix, V: InnerProduct | Matrix): Complex {
  const ip = 'dim' in V ? V : dense(V, 'Gram matrix V');
  if (B.rows !== B.cols || B.rows !== ip.dim) {
    throw new ShapeError(`metricTrace: form B is ${shapeOf(B)} but the space has dimension ${ip.dim}`);
  }
  return trace(ip.inverseRieszMap(B));
}
