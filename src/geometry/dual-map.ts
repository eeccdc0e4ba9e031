/**
 * Dual maps (MATH.md §6, §8): the direction D of unit norm that maximises the linear functional
 * D ↦ Re tr(Gᴴ D) of a gradient G — the steepest-ascent direction in that norm (descend along −D).
 *
 * - Frobenius-type norm: D = grad/‖grad‖_{V,W} with grad = W⁻¹GV; value ‖grad‖_{V,W}.
 * - Operator norm: with G̃ = W^{−1/2} G V^{1/2} = U Σ Qᴴ, D = W^{−1/2} U Qᴴ V^{1/2}; value ‖G̃‖_nuclear.
 *   Square roots are Cholesky factors: G̃ = R_W⁻¹ G R_V, D = R_W⁻ᴴ U Qᴴ R_Vᴴ (same norms, same value).
 *   V = W = I gives the polar factor U Qᴴ — Muon's update.
 */
import { matmul } from '../linalg/gemm.js';
import { conjTranspose, type Matrix, scale } from '../linalg/matrix.js';
import { svd } from '../linalg/svd.js';
import { frobeniusNorm } from './frobenius.js';
import { rieszGradient } from './riesz-gradient.js';
import { checkMap, type Geometry, resolveGeometry } from './spaces.js';

/** A norm's dual map at G: the unit-norm direction D maximising Re tr(Gᴴ D), and that maximum. */
export interface DualMap {
  /** The maximiser D (same shape as G), of unit norm (or zero when G = 0). */
  direction: Matrix;
  /** The maximum Re tr(Gᴴ D) — the dual norm of G. */
  value: number;
}

/**
 * Dual map of the Frobenius-type norm: D = W⁻¹GV / ‖W⁻¹GV‖_{V,W}, value ‖W⁻¹GV‖_{V,W}.
 * @example frobeniusDualMap(matrix([[3, 4]])).value // 5
 */
export function frobeniusDualMap(G: Matrix, geometry: Geometry = {}): DualMap {
  const g = resolveGeometry(G.rows, G.cols, geometry);
  const grad = rieszGradient(G, g);
  const value = frobeniusNorm(grad, g);
  return { direction: value === 0 ? grad : scale(grad, 1 / value), value };
}

/**
 * Dual map of the operator norm ‖·‖_{op;V,W}: D = R_W⁻ᴴ U Qᴴ R_Vᴴ with R_W⁻¹ G R_V = U Σ Qᴴ;
 * ‖D‖_op = 1 and Re tr(Gᴴ D) = Σσᵢ. Unique when G has full rank. Cost: whitening plus a Jacobi SVD.
 * @example operatorDualMap(diag([2, 3]), { codomain: diagonal([4, 1]) }).direction // diag(1/2, 1)
 */
export function operatorDualMap(G: Matrix, geometry: Geometry = {}): DualMap {
  const g = resolveGeometry(G.rows, G.cols, geometry);
  checkMap(G, g);
  // G̃ = R_W⁻¹ G R_V, with X R_V = (R_Vᴴ Xᴴ)ᴴ.
  const Gt = conjTranspose(g.domain.factorApplyH(conjTranspose(g.codomain.factorSolve(G))));
  const { U, s, V: Q } = svd(Gt);
  const P = matmul(U, conjTranspose(Q));
  // D = R_W⁻ᴴ P R_Vᴴ, with X R_Vᴴ = (R_V Xᴴ)ᴴ.
  const D = conjTranspose(g.domain.factorApply(conjTranspose(g.codomain.factorSolveH(P))));
  return { direction: D, value: s.reduce((a, b) => a + b, 0) };
}
