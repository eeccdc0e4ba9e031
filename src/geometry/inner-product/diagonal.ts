/**
 * Inner products with diagonal Gram matrices: the identity (classical Euclidean inner product),
 * c·I and diag(d). All operations cost O(nk) on an n×k block. See MATH.md §1.
 */
import { NonFiniteError, NotPositiveDefiniteError, UsageError } from '../../errors.js';
import { diag, identity as identityMatrix, type Matrix } from '../../linalg/matrix.js';
import type { InnerProduct } from './inner-product.js';

/** X with row i multiplied by s[i]. */
function scaleRows(X: Matrix, s: Float64Array): Matrix {
  const { rows, cols } = X;
  const re = new Float64Array(rows * cols);
  const im = X.im ? new Float64Array(rows * cols) : null;
  for (let i = 0; i < rows; i++) {
    const f = s[i];
    for (let j = 0; j < cols; j++) {
      re[i * cols + j] = f * X.re[i * cols + j];
      if (im) im[i * cols + j] = f * X.im![i * cols + j];
    }
  }
  return { rows, cols, re, im };
}

function fromDiagonal(kind: 'identity' | 'scaled' | 'diagonal', d: Float64Array): InnerProduct {
  const n = d.length;
  const sqrt = d.map(Math.sqrt);
  const inv = d.map((v) => 1 / v);
  const invSqrt = sqrt.map((v) => 1 / v);
  if (kind === 'identity') {
    const same = (X: Matrix) => X;
    return {
      kind,
      dim: n,
      complex: false,
      rieszMap: same,
      inverseRieszMap: same,
      factorApply: same,
      factorApplyH: same,
      factorSolve: same,
      factorSolveH: same,
      logDet: () => 0,
      toDense: () => identityMatrix(n),
    };
  }
  return {
    kind,
    dim: n,
    complex: false,
    rieszMap: (X) => scaleRows(X, d),
    inverseRieszMap: (X) => scaleRows(X, inv),
    factorApply: (X) => scaleRows(X, sqrt),
    factorApplyH: (X) => scaleRows(X, sqrt),
    factorSolve: (X) => scaleRows(X, invSqrt),
    factorSolveH: (X) => scaleRows(X, invSqrt),
    logDet: () => d.reduce((s, v) => s + Math.log(v), 0),
    toDense: () => diag(d),
  };
}

/**
 * The Euclidean inner product on 𝕂ⁿ (V = I).
 * @example identity(3).logDet() // 0
 */
export function identity(n: number): InnerProduct {
  return fromDiagonal('identity', new Float64Array(n).fill(1));
}

/**
 * V = c·I with c > 0. Scaling V by c divides ‖A‖²_{V,W} by c (MATH.md §4).
 * @throws NotPositiveDefiniteError if c ≤ 0 or not finite.
 */
export function scaled(n: number, c: number, name = 'Gram matrix'): InnerProduct {
  if (!Number.isFinite(c)) throw new NonFiniteError(name, 0, 0, c);
  if (!(c > 0)) throw new NotPositiveDefiniteError(name, 0, c, 'a scaled identity needs c > 0');
  return fromDiagonal('scaled', new Float64Array(n).fill(c));
}

/**
 * V = diag(d) with every dᵢ > 0.
 * @throws NotPositiveDefiniteError naming the first non-positive entry; NonFiniteError for NaN/Inf.
 */
export function diagonal(d: ArrayLike<number>, name = 'Gram matrix'): InnerProduct {
  const v = Float64Array.from(d);
  v.forEach((x, i) => {
    if (!Number.isFinite(x)) throw new NonFiniteError(name, i, i, x);
    if (!(x > 0))
      throw new NotPositiveDefiniteError(name, i, x, 'a diagonal Gram matrix needs positive entries');
  });
  if (v.length === 0) throw new UsageError(`${name}: a diagonal Gram matrix needs at least one entry`);
  return fromDiagonal('diagonal', v);
}
