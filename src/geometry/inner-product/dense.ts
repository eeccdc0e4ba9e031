/**
 * An inner product with a dense Hermitian positive definite Gram matrix V, held through its Cholesky
 * factor V = L Lᴴ (R = L). Factorisation n³/3 once; every later operation is a triangular solve or
 * product, n²k flops. See MATH.md §1.
 */
import { NotHermitianError, ShapeError } from '../../errors.js';
import { cholesky } from '../../linalg/cholesky.js';
import { matmul } from '../../linalg/gemm.js';
import { assertFinite, type Matrix, shapeOf } from '../../linalg/matrix.js';
import { mulLower, mulLowerH, solveLower, solveLowerH } from '../../linalg/triangular.js';
import type { InnerProduct } from './inner-product.js';

/** Relative tolerance on |vᵢⱼ − conj(vⱼᵢ)| / max|v| for accepting V as Hermitian. */
const HERMITIAN_TOL = 1e-10;

/**
 * @param V the n×n Gram matrix; only its lower triangle is used after the symmetry check.
 * @param name how to call V in error messages (e.g. "domain Gram matrix V").
 * @throws ShapeError (not square), NonFiniteError (NaN/Inf, with position), NotHermitianError,
 * NotPositiveDefiniteError (with the row where Cholesky broke).
 * @example dense(matrix([[4, 2], [2, 5]])).logDet() // log 16
 */
export function dense(V: Matrix, name = 'Gram matrix'): InnerProduct {
  if (V.rows !== V.cols) throw new ShapeError(`${name} must be square, got ${shapeOf(V)}`);
  assertFinite(V, name);
  checkHermitian(V, name);
  const L = cholesky(V, name);
  const n = V.rows;
  return {
    kind: 'dense',
    dim: n,
    complex: V.im !== null,
    rieszMap: (X) => matmul(V, X),
    inverseRieszMap: (X) => solveLowerH(L, solveLower(L, X)),
    factorApply: (X) => mulLower(L, X),
    factorApplyH: (X) => mulLowerH(L, X),
    factorSolve: (X) => solveLower(L, X),
    factorSolveH: (X) => solveLowerH(L, X),
    logDet: () => {
      let s = 0;
      for (let i = 0; i < n; i++) s += Math.log(L.re[i * n + i]);
      return 2 * s;
    },
    toDense: () => V,
  };
}

function checkHermitian(V: Matrix, name: string): void {
  const n = V.rows;
  const { re, im } = V;
  let maxAbs = 0;
  for (let k = 0; k < re.length; k++) maxAbs = Math.max(maxAbs, Math.abs(re[k]), im ? Math.abs(im[k]) : 0);
  let worst = 0;
  let wi = 0;
  let wj = 0;
  for (let i = 0; i < n; i++) {
    for (let j = 0; j <= i; j++) {
      // max(|Δre|, |Δim|) is within √2 of the modulus: precise enough for a tolerance check.
      const d = Math.max(
        Math.abs(re[i * n + j] - re[j * n + i]),
        im ? Math.abs(im[i * n + j] + im[j * n + i]) : 0,
      );
      if (d > worst) {
        worst = d;
        wi = i;
        wj = j;
      }
    }
  }
  if (worst > HERMITIAN_TOL * maxAbs) throw new NotHermitianError(name, wi, wj, worst);
}
