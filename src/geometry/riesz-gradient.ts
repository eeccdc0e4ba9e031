/**
 * Gradients in a chosen geometry (MATH.md §6). For a real loss L(A) with Euclidean gradient G
 * (dL = Re tr(Gᴴ dA)), the Riesz representative with respect to Re⟨·,·⟩_{V,W} is
 *   grad_{V,W} L = W⁻¹ G V,
 * the unique D-independent map with Re⟨grad, D⟩_{V,W} = Re tr(Gᴴ D) for every D.
 * V = W = I returns G itself (plain gradient descent); V = C⁻¹, W = Γ gives K-FAC (MATH.md §7).
 */
import { assertFinite, conjTranspose, type Matrix, scale } from '../linalg/matrix.js';
import { frobeniusNorm } from './frobenius.js';
import { checkMap, type Geometry, resolveGeometry } from './spaces.js';

/**
 * W⁻¹ G V for the m×n Euclidean gradient G of a map 𝕂ⁿ → 𝕂ᵐ. Uses a Cholesky solve with W and a
 * product with V; with identity Gram matrices G is returned unchanged (bit-for-bit).
 * Accuracy: relative error ≲ m·ε·cond(W) (the solve with W). A zero G gives the zero map.
 * @throws NonFiniteError (G, V or W with NaN/±Inf, by name and position), NotPositiveDefiniteError
 * (V or W singular or indefinite: which one, and the pivot), ShapeError.
 * @example rieszGradient(matrix([[1, 2], [3, 4]]), { domain: diagonal([0.5, 0.25]), codomain: diagonal([1, 2]) })
 *   // [[0.5, 0.5], [0.75, 0.5]]
 */
export function rieszGradient(G: Matrix, geometry: Geometry = {}): Matrix {
  assertFinite(G, 'gradient G');
  const g = resolveGeometry(G.rows, G.cols, geometry);
  checkMap(G, g);
  const WinvG = g.codomain.inverseRieszMap(G);
  if (g.domain.kind === 'identity') return WinvG;
  // (W⁻¹G) V = (V (W⁻¹G)ᴴ)ᴴ since V is Hermitian.
  return conjTranspose(g.domain.rieszMap(conjTranspose(WinvG)));
}

/**
 * The steepest-descent direction of unit Frobenius-type norm, −grad / ‖grad‖_{V,W} (MATH.md §6);
 * the zero map when G = 0.
 */
export function steepestDescent(G: Matrix, geometry: Geometry = {}): Matrix {
  const grad = rieszGradient(G, geometry);
  const norm = frobeniusNorm(grad, geometry);
  return norm === 0 ? grad : scale(grad, -1 / norm);
}
