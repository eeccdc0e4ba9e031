import { describe, expect, it } from 'vitest';
import { expectClose, expectRel } from '../../../test/helpers.js';
import { GRAM_KINDS, randomInnerProduct } from '../../../test/random-geometry.js';
import { NonFiniteError, NotHermitianError, NotPositiveDefiniteError, ShapeError } from '../../errors.js';
import { eigh } from '../../linalg/eigh.js';
import { matmul } from '../../linalg/gemm.js';
import { matrix } from '../../linalg/matrix.js';
import { Rng, randomNormal } from '../../linalg/random.js';
import { dense } from './dense.js';
import { diagonal, scaled } from './diagonal.js';
import { kronecker } from './kronecker.js';
import { lowRankPlusDiagonal } from './low-rank.js';

describe.each(GRAM_KINDS)('inner product structure %s', (kind) => {
  it.each([false, true])('is consistent with its dense Gram matrix (complex=%s)', (complex) => {
    const rng = new Rng(kind.length * 31 + (complex ? 1 : 0));
    for (const n of [1, 4, 6, 9]) {
      const V = randomInnerProduct(rng, n, complex, kind);
      const Vd = V.toDense();
      const X = randomNormal(rng, n, 3, complex);
      expectClose(V.rieszMap(X), matmul(Vd, X), 1e-12);
      expectClose(V.rieszMap(V.inverseRieszMap(X)), X, 1e-11);
      // V = R Rᴴ
      expectClose(V.factorApply(V.factorApplyH(X)), matmul(Vd, X), 1e-12);
      expectClose(V.factorSolve(V.factorApply(X)), X, 1e-11);
      expectClose(V.factorSolveH(V.factorApplyH(X)), X, 1e-11);
      const logDet = eigh(Vd, { vectors: false }).values.reduce((s, l) => s + Math.log(l), 0);
      expect(Math.abs(V.logDet() - logDet)).toBeLessThan(1e-10 * Math.max(1, Math.abs(logDet)));
    }
  });
});

describe('inner product errors', () => {
  it('a non-HPD dense Gram matrix names the matrix and the failing row', () => {
    expect(() =>
      dense(
        matrix([
          [1, 2],
          [2, 1],
        ]),
        'domain Gram matrix V',
      ),
    ).toThrow(/domain Gram matrix V is not Hermitian positive definite: Cholesky broke at row\/column 1/);
  });
  it('a non-symmetric matrix is refused with the worst pair', () => {
    const err = (() => {
      try {
        dense(
          matrix([
            [2, 1],
            [0, 2],
          ]),
          'W',
        );
      } catch (e) {
        return e;
      }
    })();
    expect(err).toBeInstanceOf(NotHermitianError);
    expect((err as Error).message).toMatch(/\(1, 0\) and \(0, 1\)/);
  });
  it('NaN entries are refused with their position', () => {
    expect(() =>
      dense(
        matrix([
          [1, 0],
          [0, Number.NaN],
        ]),
        'V',
      ),
    ).toThrow(NonFiniteError);
    expect(() =>
      dense(
        matrix([
          [1, 0],
          [0, Number.NaN],
        ]),
        'V',
      ),
    ).toThrow(/row 1, column 1/);
  });
  it('diagonal and scaled Gram matrices need positive entries', () => {
    expect(() => diagonal([1, 0, 2], 'V')).toThrow(NotPositiveDefiniteError);
    expect(() => scaled(3, -1)).toThrow(NotPositiveDefiniteError);
  });
  it('a non-square Gram matrix and a mismatched low-rank factor are shape errors', () => {
    expect(() => dense(matrix([[1, 2]]))).toThrow(ShapeError);
    expect(() => lowRankPlusDiagonal([1, 1], matrix([[1], [1], [1]]))).toThrow(/3×1.*2 entries/);
  });
});

describe('structured Gram golden values', () => {
  it('Kronecker of diagonals is the diagonal of products', () => {
    const V = kronecker(diagonal([1, 2]), diagonal([3, 4])).toDense();
    expectClose(
      V,
      matrix([
        [3, 0, 0, 0],
        [0, 4, 0, 0],
        [0, 0, 6, 0],
        [0, 0, 0, 8],
      ]),
      0,
    );
  });
  it('low-rank plus diagonal: I + 11ᵀ has log det = log 3', () => {
    const V = lowRankPlusDiagonal([1, 1], matrix([[1], [1]]));
    expectClose(
      V.toDense(),
      matrix([
        [2, 1],
        [1, 2],
      ]),
      0,
    );
    expectRel(V.logDet(), Math.log(3), 1e-14);
  });
});
