import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { expectClose, expectRel } from '../../test/helpers.js';
import { NonFiniteError, NotPositiveDefiniteError } from '../errors.js';
import { cholesky } from './cholesky.js';
import { eigh } from './eigh.js';
import { gemmNaive, matmul } from './gemm.js';
import { denseOperator, lanczosTopSingular, powerIteration } from './lanczos.js';
import { hermitianFunction, inverseRoot, NEWTON_SCHULZ_MUON, newtonSchulzPolar, polar } from './matfun.js';
import { conjTranspose, diag, identity, matrix, zeros } from './matrix.js';
import { qr } from './qr.js';
import { Rng, randomHpd, randomNormal, randomUnitary } from './random.js';
import { singularValues, svd } from './svd.js';
import { invertLower, mulLower, mulLowerH, solveLower, solveLowerH } from './triangular.js';

const fields = [false, true] as const;
const name = (c: boolean) => (c ? 'complex' : 'real');

describe('gemm', () => {
  it('agrees with the naive triple loop on awkward shapes, real and complex', () => {
    fc.assert(
      fc.property(
        fc.integer({ min: 0, max: 9 }),
        fc.integer({ min: 0, max: 300 }),
        fc.integer({ min: 0, max: 9 }),
        fc.boolean(),
        fc.boolean(),
        fc.integer(),
        (m, k, n, ca, cb, seed) => {
          const rng = new Rng(seed);
          const A = randomNormal(rng, m, k, ca);
          const B = randomNormal(rng, k, n, cb);
          const C = matmul(A, B);
          const D = gemmNaive(A, B);
          expect(C.rows).toBe(m);
          expect(C.cols).toBe(n);
          if (m * n > 0 && k > 0) expectClose(C, D, 1e-13);
        },
      ),
      { numRuns: 60 },
    );
  });
  it('handles sizes beyond one tile (block edges)', () => {
    const rng = new Rng(3);
    const A = randomNormal(rng, 131, 259);
    const B = randomNormal(rng, 259, 261);
    expectClose(matmul(A, B), gemmNaive(A, B), 1e-13);
  });
});

describe.each(fields)('cholesky and triangular (%s)', (complex) => {
  it(`reconstructs A = L Lᴴ, ${name(complex)}, across block sizes`, () => {
    const rng = new Rng(7);
    for (const n of [1, 2, 5, 63, 64, 65, 150]) {
      const A = randomHpd(rng, n, complex);
      const L = cholesky(A);
      for (let i = 0; i < n; i++) for (let j = i + 1; j < n; j++) expect(L.re[i * n + j]).toBe(0);
      expectClose(matmul(L, conjTranspose(L)), A, 1e-13);
    }
  });
  it('solves and multiplies with L and Lᴴ', () => {
    const rng = new Rng(11);
    for (const n of [1, 7, 64, 130]) {
      const L = cholesky(randomHpd(rng, n, complex));
      const B = randomNormal(rng, n, 3, complex);
      expectClose(matmul(L, solveLower(L, B)), B, 1e-12);
      expectClose(matmul(conjTranspose(L), solveLowerH(L, B)), B, 1e-12);
      expectClose(mulLower(L, B), matmul(L, B), 1e-13);
      expectClose(mulLowerH(L, B), matmul(conjTranspose(L), B), 1e-13);
    }
  });
});

describe('invertLower', () => {
  it('equals solveLower(L, I) and is lower triangular, across block edges (96) and odd sizes', () => {
    const rng = new Rng(5);
    for (const n of [1, 2, 7, 95, 96, 97, 193, 250]) {
      const L = cholesky(randomHpd(rng, n, false));
      const X = invertLower(L);
      for (let i = 0; i < n; i++) for (let j = i + 1; j < n; j++) expect(X.re[i * n + j]).toBe(0);
      expectClose(X, solveLower(L, identity(n)), 1e-12);
      expectClose(matmul(L, X), identity(n), 1e-11);
    }
  });
  it('reads only the lower triangle and keeps the golden value', () => {
    const X = invertLower(
      matrix([
        [2, 99],
        [1, 4],
      ]),
    );
    expect(Array.from(X.re)).toEqual([0.5, 0, -0.125, 0.25]);
  });
  it('names the zero pivot and refuses complex factors', () => {
    expect(() =>
      invertLower(
        matrix([
          [1, 0],
          [3, 0],
        ]),
      ),
    ).toThrow(/diagonal entry 0 at row 1/);
    expect(() => invertLower(cholesky(randomHpd(new Rng(1), 3, true)))).toThrow(/real factors only/);
  });
});

describe('cholesky errors', () => {
  it('names the matrix and the row where it broke', () => {
    const A = matrix([
      [4, 2, 0],
      [2, 1, 0],
      [0, 0, 1],
    ]);
    try {
      cholesky(A, 'domain Gram matrix V');
      expect.unreachable();
    } catch (e) {
      expect(e).toBeInstanceOf(NotPositiveDefiniteError);
      const err = e as NotPositiveDefiniteError;
      expect(err.index).toBe(1);
      expect(err.message).toMatch(/domain Gram matrix V.*row\/column 1/);
    }
  });
  it('refuses a NaN entry up front, naming the matrix and the entry', () => {
    expect(() => cholesky(matrix([[Number.NaN]]), 'W')).toThrow(NonFiniteError);
    expect(() => cholesky(matrix([[Number.NaN]]), 'W')).toThrow(
      /W has a non-finite entry NaN at row 0, column 0/,
    );
  });
});

describe.each(fields)('eigh (%s)', (complex) => {
  it('reconstructs A = Z Λ Zᴴ with unitary Z', () => {
    const rng = new Rng(5);
    for (const n of [1, 2, 3, 10, 40]) {
      const B = randomNormal(rng, n, n, complex);
      const A = matmul(B, conjTranspose(B));
      const { values, vectors } = eigh(A);
      const Z = vectors!;
      expectClose(matmul(conjTranspose(Z), Z), identity(n), 1e-13);
      const ZL = matmul(Z, diag(values));
      expectClose(matmul(ZL, conjTranspose(Z)), A, 1e-12);
      for (let i = 1; i < n; i++) expect(values[i]).toBeGreaterThanOrEqual(values[i - 1]);
    }
  });
});

describe('eigh golden values', () => {
  it('[[2,1],[1,2]] has eigenvalues 1 and 3', () => {
    const { values } = eigh(
      matrix([
        [2, 1],
        [1, 2],
      ]),
    );
    expectRel(values[0], 1, 1e-15);
    expectRel(values[1], 3, 1e-15);
  });
  it('Hermitian [[2, i],[−i, 2]] has eigenvalues 1 and 3', () => {
    const { values } = eigh(
      matrix([
        [2, [0, 1]],
        [[0, -1], 2],
      ]),
    );
    expectRel(values[0], 1, 1e-15);
    expectRel(values[1], 3, 1e-15);
  });
  it('a diagonal matrix with repeated eigenvalues', () => {
    const { values } = eigh(diag([3, 1, 3, 2]), { vectors: false });
    expect(Array.from(values)).toEqual([1, 2, 3, 3]);
  });
});

describe.each(fields)('svd and qr (%s)', (complex) => {
  it('reconstructs tall and wide matrices with orthonormal factors', () => {
    const rng = new Rng(9);
    for (const [m, n] of [
      [1, 1],
      [5, 3],
      [3, 5],
      [20, 20],
      [33, 7],
    ]) {
      const A = randomNormal(rng, m, n, complex);
      const { U, s, V } = svd(A);
      const r = Math.min(m, n);
      expectClose(matmul(conjTranspose(U), U), identity(r), 1e-13);
      expectClose(matmul(conjTranspose(V), V), identity(r), 1e-13);
      expectClose(matmul(matmul(U, diag(s)), conjTranspose(V)), A, 1e-13);
      for (let i = 1; i < r; i++) expect(s[i]).toBeLessThanOrEqual(s[i - 1]);
      if (m >= n) {
        const { Q, R } = qr(A);
        expectClose(matmul(conjTranspose(Q), Q), identity(n), 1e-13);
        expectClose(matmul(Q, R), A, 1e-13);
        for (let i = 0; i < n; i++) for (let j = 0; j < i; j++) expect(R.re[i * n + j]).toBe(0);
      }
    }
  });
  it('keeps singular values under unitary equivalence', () => {
    const rng = new Rng(10);
    const A = randomNormal(rng, 6, 6, complex);
    const P = randomUnitary(rng, 6, complex);
    const Q = randomUnitary(rng, 6, complex);
    const s1 = singularValues(A);
    const s2 = singularValues(matmul(matmul(P, A), Q));
    for (let i = 0; i < 6; i++) expectRel(s2[i], s1[i], 1e-12);
  });
});

describe('svd golden values (MATH.md §12)', () => {
  it('A₀ = [[1,2],[3,4]] has σ = √(15 ± √221)', () => {
    const s = singularValues(
      matrix([
        [1, 2],
        [3, 4],
      ]),
    );
    expectRel(s[0], Math.sqrt(15 + Math.sqrt(221)), 1e-14);
    expectRel(s[1], Math.sqrt(15 - Math.sqrt(221)), 1e-13);
  });
  it('[[1, i],[0, 1]] has operator norm the golden ratio', () => {
    const s = singularValues(
      matrix([
        [1, [0, 1]],
        [0, 1],
      ]),
    );
    expectRel(s[0], (1 + Math.sqrt(5)) / 2, 1e-14);
  });
  it('rank-deficient matrices have zero singular values', () => {
    const s = singularValues(
      matrix([
        [1, 2],
        [2, 4],
        [3, 6],
      ]),
    );
    expectRel(s[0], Math.sqrt(70), 1e-14);
    expect(s[1]).toBeLessThan(1e-14);
  });
});

describe.each(fields)('top singular value (%s)', (complex) => {
  it('Lanczos matches the full SVD to 1e-12 and power iteration approaches it', () => {
    const rng = new Rng(21);
    for (const [m, n] of [
      [1, 1],
      [8, 3],
      [40, 60],
      [120, 100],
    ]) {
      const A = randomNormal(rng, m, n, complex);
      const exact = singularValues(A)[0];
      const top = lanczosTopSingular(denseOperator(A));
      expectRel(top.value, exact, 1e-12);
      // A v = σ u
      const Av = matmul(A, top.v);
      for (let i = 0; i < m; i++)
        expect(Math.abs(Av.re[i] - top.value * top.u.re[i])).toBeLessThan(1e-9 * exact);
      const pw = powerIteration(denseOperator(A), { iterations: 2000 });
      expect(pw.value).toBeLessThanOrEqual(exact * (1 + 1e-12));
      expectRel(pw.value, exact, 1e-3);
    }
  });
  it('handles the zero operator', () => {
    expect(lanczosTopSingular(denseOperator(zeros(3, 4, complex))).value).toBe(0);
  });
});

describe('matrix functions', () => {
  it('coupled Newton with p = 4 on diag(16, 81) gives diag(1/2, 1/3) (MATH.md §12.15)', () => {
    expectClose(inverseRoot(diag([16, 81]), 4), diag([1 / 2, 1 / 3]), 1e-12);
  });
  it('inverse roots agree with the eigendecomposition, real and complex', () => {
    const rng = new Rng(4);
    for (const complex of fields) {
      const A = randomHpd(rng, 12, complex);
      for (const p of [1, 2, 4])
        expectClose(
          inverseRoot(A, p),
          hermitianFunction(A, (l) => l ** (-1 / p)),
          1e-11,
        );
    }
  });
  it('cubic Newton–Schulz gives orthonormal columns equal to the SVD polar factor', () => {
    const rng = new Rng(8);
    for (const complex of fields) {
      for (const [m, n] of [
        [6, 4],
        [4, 6],
      ]) {
        const G = randomNormal(rng, m, n, complex);
        const X = newtonSchulzPolar(G, { steps: 60 });
        expectClose(X, polar(G), 1e-10);
        const small = Math.min(m, n);
        const gram = m >= n ? matmul(conjTranspose(X), X) : matmul(X, conjTranspose(X));
        expectClose(gram, identity(small), 1e-10);
      }
    }
  });
  it("Muon's quintic lands singular values in roughly [0.7, 1.2]", () => {
    const G = randomNormal(new Rng(2), 16, 32);
    const s = singularValues(newtonSchulzPolar(G, { steps: 5, coefficients: NEWTON_SCHULZ_MUON }));
    for (const v of s) {
      expect(v).toBeGreaterThan(0.6);
      expect(v).toBeLessThan(1.25);
    }
  });
  it('polar golden values (MATH.md §12.13)', () => {
    expectClose(polar(diag([3, -2])), diag([1, -1]), 1e-14);
    expectClose(polar(matrix([[3, 4]])), matrix([[0.6, 0.8]]), 1e-14);
    const s5 = Math.sqrt(5);
    expectClose(
      polar(
        matrix([
          [1, 1],
          [0, 1],
        ]),
      ),
      matrix([
        [2 / s5, 1 / s5],
        [-1 / s5, 2 / s5],
      ]),
      1e-14,
    );
  });
});
