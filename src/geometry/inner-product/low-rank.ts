/**
 * V = D + U Uᴴ: a positive diagonal D plus a rank-k term (U is n×k), as in low-rank-plus-diagonal
 * curvature estimates. With Z = D^{−1/2} U = P diag(s) Qᴴ (thin SVD), a factor is
 *   R = D^{1/2} S,   S = (I + Z Zᴴ)^{1/2} = I + P (√(1+s²) − 1) Pᴴ   (S Hermitian, V = R Rᴴ),
 * and S⁻¹ = I + P (1/√(1+s²) − 1) Pᴴ. Every operation is O(nk) per vector after an O(nk²) set-up;
 * log det V = Σ log dᵢ + Σ log(1 + sⱼ²) (the matrix determinant lemma).
 */
import { ShapeError } from '../../errors.js';
import { matmul } from '../../linalg/gemm.js';
import { add, assertFinite, conjTranspose, diag, type Matrix, shapeOf } from '../../linalg/matrix.js';
import { svd } from '../../linalg/svd.js';
import { diagonal } from './diagonal.js';
import type { InnerProduct } from './inner-product.js';

/**
 * @param d the positive diagonal (length n).
 * @param U the n×k low-rank factor (real or complex).
 * @throws ShapeError when U's rows differ from d's length; NotPositiveDefiniteError for dᵢ ≤ 0.
 * @example lowRankPlusDiagonal([1, 1], matrix([[1], [1]])).toDense() // [[2, 1], [1, 2]]
 */
export function lowRankPlusDiagonal(d: ArrayLike<number>, U: Matrix, name = 'Gram matrix'): InnerProduct {
  const D = diagonal(d, name);
  const n = D.dim;
  if (U.rows !== n)
    throw new ShapeError(`${name}: low-rank factor U is ${shapeOf(U)} but the diagonal has ${n} entries`);
  assertFinite(U, `${name} (low-rank factor U)`);
  const Z = D.factorSolve(U);
  const { U: P, s } = svd(Z);
  const PH = conjTranspose(P);
  const complex = U.im !== null;
  // (I + P diag(f(s)) Pᴴ) X
  const correct = (f: (sj: number) => number) => {
    const PF = matmul(P, diag(Array.from(s, f)));
    return (X: Matrix) => add(X, matmul(PF, matmul(PH, X)));
  };
  const S = correct((sj) => Math.sqrt(1 + sj * sj) - 1);
  const Sinv = correct((sj) => 1 / Math.sqrt(1 + sj * sj) - 1);
  return {
    kind: 'low-rank',
    dim: n,
    complex,
    rieszMap: (X) => add(D.rieszMap(X), matmul(U, matmul(conjTranspose(U), X))),
    inverseRieszMap: (X) => D.factorSolveH(Sinv(Sinv(D.factorSolve(X)))),
    factorApply: (X) => D.factorApply(S(X)),
    factorApplyH: (X) => S(D.factorApplyH(X)),
    factorSolve: (X) => Sinv(D.factorSolve(X)),
    factorSolveH: (X) => D.factorSolveH(Sinv(X)),
    logDet: () => D.logDet() + Array.from(s).reduce((acc, sj) => acc + Math.log1p(sj * sj), 0),
    toDense: () => add(D.toDense(), matmul(U, conjTranspose(U))),
  };
}
