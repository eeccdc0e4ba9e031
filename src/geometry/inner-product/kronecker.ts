/**
 * The Kronecker product V = V₁ ⊗ V₂ of two inner products (dimension n₁n₂), the structure of K-FAC's
 * Fisher factors. A vector's index is i = i₁·n₂ + i₂, so x ↔ the n₁×n₂ row-major matrix X and
 * (F₁ ⊗ F₂) x ↔ F₁ X F₂ᵀ. With V₁ = R₁R₁ᴴ and V₂ = R₂R₂ᴴ, R = R₁ ⊗ R₂ is a factor of V.
 * Cost per vector: the factors' costs on n₂ and n₁ columns (e.g. n₁n₂(n₁+n₂) for dense factors).
 */
import { kron } from '../../linalg/kron.js';
import { type Matrix, transpose, zeros } from '../../linalg/matrix.js';
import type { InnerProduct } from './inner-product.js';

type Op = (X: Matrix) => Matrix;

/** Applies F₁ ⊗ F₂ to each column of X. */
function kronApply(f1: Op, f2: Op, n1: number, n2: number, X: Matrix, complex: boolean): Matrix {
  const k = X.cols;
  const out = zeros(n1 * n2, k, complex || X.im !== null);
  for (let c = 0; c < k; c++) {
    const Xc = zeros(n1, n2, X.im !== null);
    for (let i = 0; i < n1 * n2; i++) {
      Xc.re[i] = X.re[i * k + c];
      if (X.im) Xc.im![i] = X.im[i * k + c];
    }
    // F₁ X F₂ᵀ = (F₂ (F₁X)ᵀ)ᵀ
    const Y = transpose(f2(transpose(f1(Xc))));
    for (let i = 0; i < n1 * n2; i++) {
      out.re[i * k + c] = Y.re[i];
      if (out.im) out.im[i * k + c] = Y.im ? Y.im[i] : 0;
    }
  }
  return out;
}

/**
 * V = V₁ ⊗ V₂. (F₁ ⊗ F₂)x = F₁ X F₂ᵀ holds with the plain transpose for complex factors too, and
 * (R₁ ⊗ R₂)ᴴ = R₁ᴴ ⊗ R₂ᴴ, so every operation lifts factor-wise.
 * @example kronecker(diagonal([1, 2]), diagonal([3, 4])).toDense() // diag(3, 4, 6, 8)
 */
export function kronecker(V1: InnerProduct, V2: InnerProduct): InnerProduct {
  const n1 = V1.dim;
  const n2 = V2.dim;
  const complex = V1.complex || V2.complex;
  const lift = (f1: Op, f2: Op) => (X: Matrix) => kronApply(f1, f2, n1, n2, X, complex);
  return {
    kind: 'kronecker',
    dim: n1 * n2,
    complex,
    rieszMap: lift(V1.rieszMap, V2.rieszMap),
    inverseRieszMap: lift(V1.inverseRieszMap, V2.inverseRieszMap),
    factorApply: lift(V1.factorApply, V2.factorApply),
    factorApplyH: lift(V1.factorApplyH, V2.factorApplyH),
    factorSolve: lift(V1.factorSolve, V2.factorSolve),
    factorSolveH: lift(V1.factorSolveH, V2.factorSolveH),
    logDet: () => n2 * V1.logDet() + n1 * V2.logDet(),
    toDense: () => kron(V1.toDense(), V2.toDense()),
  };
}
