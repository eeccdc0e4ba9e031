import fc from 'fast-check';
import { afterAll, describe, expect, it } from 'vitest';
import { disableThreads, enableThreads } from '../backend/threads.js';
import { NonFiniteError, NotPositiveDefiniteError, ShapeError } from '../errors.js';
import { cholesky } from './cholesky.js';
import { inverseCholeskyFactor } from './cholesky-inverse.js';
import { matmul } from './gemm.js';
import { type Matrix, matrix, transpose, zeros } from './matrix.js';
import { Rng, randomHpd } from './random.js';
import { invertLower } from './triangular.js';
import { setWasmEnabled } from './wasm/runtime.js';

/** max |X − Y| / max |Y|. */
function relDiff(X: Matrix, Y: Matrix): number {
  let d = 0;
  let m = 0;
  for (let k = 0; k < Y.re.length; k++) {
    d = Math.max(d, Math.abs(X.re[k] - Y.re[k]));
    m = Math.max(m, Math.abs(Y.re[k]));
  }
  return d / m;
}

/** L·D·Lᵀ with D's entries spread over `decades` decades (a K-FAC factor's kind of spread). */
function spread(rng: Rng, n: number, decades: number): Matrix {
  const L = cholesky(randomHpd(rng, n));
  const D = zeros(n, n);
  for (let i = 0; i < n; i++) D.re[i * n + i] = 10 ** ((-decades * i) / n);
  const LD = matmul(L, D);
  const A = matmul(LD, transpose(L));
  for (let i = 0; i < n; i++) for (let j = 0; j < i; j++) A.re[j * n + i] = A.re[i * n + j];
  return A;
}

describe('inverseCholeskyFactor', () => {
  afterAll(() => disableThreads());

  it.each([
    ['one thread', 1],
    ['two threads', 2],
  ])('equals invertLower(cholesky(A)) across the leaf and split sizes (%s)', (_, threads) => {
    if (threads === 2) expect(enableThreads(2)).toBe(2);
    const rng = new Rng(7 + threads);
    for (const n of [64, 65, 97, 130, 200, 257]) {
      const A = randomHpd(rng, n);
      const X = inverseCholeskyFactor(A);
      const ref = invertLower(cholesky(A));
      expect(relDiff(X, ref)).toBeLessThan(1e-12);
      // Lower triangular, and a left inverse of L.
      let above = 0;
      for (let i = 0; i < n; i++)
        for (let j = i + 1; j < n; j++) above = Math.max(above, Math.abs(X.re[i * n + j]));
      expect(above).toBe(0);
      const XL = matmul(X, cholesky(A));
      let worst = 0;
      for (let i = 0; i < n; i++)
        for (let j = 0; j < n; j++) worst = Math.max(worst, Math.abs(XL.re[i * n + j] - (i === j ? 1 : 0)));
      expect(worst).toBeLessThan(1e-12);
    }
  });

  it('holds to LX = I on random SPD matrices (property)', () => {
    fc.assert(
      fc.property(fc.integer({ min: 64, max: 160 }), fc.integer({ min: 0, max: 1e6 }), (n, seed) => {
        const A = randomHpd(new Rng(seed), n, false, 0.1);
        const X = inverseCholeskyFactor(A);
        // X⁻ᵀX⁻¹ = A ⇔ Xᵀ… check through A: (XA)Xᵀ = I.
        const XAXt = matmul(matmul(X, A), transpose(X));
        let worst = 0;
        for (let i = 0; i < n; i++)
          for (let j = 0; j < n; j++)
            worst = Math.max(worst, Math.abs(XAXt.re[i * n + j] - (i === j ? 1 : 0)));
        return worst < 1e-10;
      }),
      { numRuns: 12 },
    );
  });

  it('keeps the blocked path’s accuracy on an ill-conditioned factor (eigenvalues over 8 decades)', () => {
    const rng = new Rng(3);
    const A = spread(rng, 300, 8);
    const ref = invertLower(cholesky(A));
    expect(relDiff(inverseCholeskyFactor(A), ref)).toBeLessThan(1e-6);
  });

  it("gives its TSDoc example's value", () => {
    expect(
      Array.from(
        inverseCholeskyFactor(
          matrix([
            [4, 2],
            [2, 5],
          ]),
        ).re,
      ),
    ).toEqual([0.5, 0, -0.25, 0.5]);
  });

  it('is exactly invertLower(cholesky(A)) without the WebAssembly kernels and below n = 64', () => {
    const rng = new Rng(11);
    const small = randomHpd(rng, 40);
    expect(inverseCholeskyFactor(small).re).toEqual(invertLower(cholesky(small)).re);
    const A = randomHpd(rng, 100);
    setWasmEnabled(false);
    try {
      expect(inverseCholeskyFactor(A).re).toEqual(invertLower(cholesky(A)).re);
    } finally {
      setWasmEnabled(true);
    }
  });

  it('says where the factorisation broke, and refuses bad input', () => {
    const rng = new Rng(5);
    const n = 150;
    const A = randomHpd(rng, n);
    // Make row/column 120 indefinite: the pivot there goes negative.
    A.re[120 * n + 120] = -1;
    expect(() => inverseCholeskyFactor(A, 'factor Γ')).toThrow(NotPositiveDefiniteError);
    try {
      inverseCholeskyFactor(A, 'factor Γ');
    } catch (e) {
      const err = e as NotPositiveDefiniteError;
      expect(err.message).toContain('factor Γ');
      expect(err.index).toBe(120);
    }
    const B = randomHpd(rng, 80);
    B.re[3] = Number.NaN;
    expect(() => inverseCholeskyFactor(B)).toThrow(NonFiniteError);
    expect(() => inverseCholeskyFactor(zeros(70, 71))).toThrow(ShapeError);
    expect(() => inverseCholeskyFactor(randomHpd(rng, 70, true))).toThrow(ShapeError);
  });
});
