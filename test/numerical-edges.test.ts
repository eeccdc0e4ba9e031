/**
 * Numbers that break algorithms (issue 11, item 5): every public linalg/ and geometry/ function either
 * returns the right answer, to the accuracy its TSDoc states, or throws a typed error — never a
 * silent NaN. Non-finite entries (named by argument and position), exactly singular and indefinite
 * Gram matrices (named V or W, with the pivot), Gram matrices with condition numbers up to 1e16,
 * subnormal and huge entries, zero matrices, 1×1 and empty shapes.
 */
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import {
  NonFiniteError,
  NotPositiveDefiniteError,
  NumericalError,
  RieszError,
  ShapeError,
} from '../src/errors.js';
import { adjoint } from '../src/geometry/adjoint.js';
import { frobeniusInner, frobeniusNorm } from '../src/geometry/frobenius.js';
import { dense } from '../src/geometry/inner-product/dense.js';
import { identity as identityIp } from '../src/geometry/inner-product/diagonal.js';
import { metricTrace } from '../src/geometry/metric-trace.js';
import { rieszGradient, steepestDescent } from '../src/geometry/riesz-gradient.js';
import {
  maximalResponse,
  nuclearNorm,
  operatorNorm,
  schattenNorm,
  weightedSingularValues,
} from '../src/geometry/spectral.js';
import { cholesky } from '../src/linalg/cholesky.js';
import { eigh, eighReference } from '../src/linalg/eigh.js';
import { matmul } from '../src/linalg/gemm.js';
import { denseOperator, lanczosTopSingular, powerIteration } from '../src/linalg/lanczos.js';
import { hermitianFunction, inverseRoot, newtonSchulzPolar, polar } from '../src/linalg/matfun.js';
import {
  conjTranspose,
  diag,
  frobeniusNorm as euclideanNorm,
  type Matrix,
  matrix,
  scale,
  transpose,
  zeros,
} from '../src/linalg/matrix.js';
import { qr } from '../src/linalg/qr.js';
import { Rng, randomHpd, randomNormal, randomUnitary } from '../src/linalg/random.js';
import { singularValues, svd } from '../src/linalg/svd.js';
import { solveLower, solveLowerH } from '../src/linalg/triangular.js';

const EPS = 2 ** -52;
const RUNS = Number(process.env.FUZZ_RUNS ?? 200);

/** Every entry of every output finite (the "never a silent NaN" half of the contract). */
function allFinite(x: unknown): boolean {
  if (typeof x === 'number') return Number.isFinite(x);
  if (x instanceof Float64Array) return x.every(Number.isFinite);
  if (x === null || x === undefined) return true;
  if (typeof x === 'object') return Object.values(x).every(allFinite);
  return true;
}

/** Runs f and classifies: a finite result, or a typed RieszError; anything else fails the test. */
function outcome(f: () => unknown): 'finite' | RieszError {
  let r: unknown;
  try {
    r = f();
  } catch (e) {
    if (e instanceof RieszError) return e;
    throw e;
  }
  if (!allFinite(r)) throw new Error(`a result with a non-finite entry: ${JSON.stringify(r)}`);
  return 'finite';
}

function expectNonFinite(f: () => unknown, name: RegExp, row: number, col: number): void {
  let caught: unknown;
  try {
    f();
  } catch (e) {
    caught = e;
  }
  expect(caught, 'expected a NonFiniteError').toBeInstanceOf(NonFiniteError);
  const e = caught as NonFiniteError;
  expect(e.matrix).toMatch(name);
  expect([e.row, e.col]).toEqual([row, col]);
  expect(e.message).toMatch(new RegExp(`row ${row}, column ${col}`));
}

function expectNotPd(f: () => unknown, name: RegExp, index?: number): NotPositiveDefiniteError {
  let caught: unknown;
  try {
    f();
  } catch (e) {
    caught = e;
  }
  expect(caught, 'expected a NotPositiveDefiniteError').toBeInstanceOf(NotPositiveDefiniteError);
  const e = caught as NotPositiveDefiniteError;
  expect(e.matrix).toMatch(name);
  if (index !== undefined) expect(e.index).toBe(index);
  expect(e.message).toMatch(/Cholesky broke at row\/column \d+ \(pivot /);
  return e;
}

function poisoned(A: Matrix, k: number, v: number, imaginary = false): Matrix {
  const re = A.re.slice();
  const im = A.im ? A.im.slice() : null;
  if (imaginary && im) im[k] = v;
  else re[k] = v;
  return { rows: A.rows, cols: A.cols, re, im };
}

/** V = Q diag(d) Qᵀ with d log-spaced from 1 down to 1/cond (Q random orthogonal), and its parts. */
function illConditioned(rng: Rng, n: number, cond: number) {
  const Q = randomUnitary(rng, n);
  const d = Array.from({ length: n }, (_, i) => cond ** (-i / (n - 1)));
  const V = matmul(matmul(Q, diag(d)), transpose(Q));
  // Symmetrise exactly (the product's rounding leaves ε-level asymmetry).
  for (let i = 0; i < n; i++) for (let j = 0; j < i; j++) V.re[j * n + i] = V.re[i * n + j];
  return { V, Q, d };
}

const badValue = fc.constantFrom(Number.NaN, Number.POSITIVE_INFINITY, Number.NEGATIVE_INFINITY);

describe('NaN and ±Inf entries: a NonFiniteError naming the argument and the first bad entry', () => {
  // Each: a name, the shape of the poisoned argument, and the call with it.
  type Case = [
    string,
    RegExp,
    (rng: Rng, n: number) => Matrix,
    (bad: Matrix, rng: Rng, n: number) => unknown,
  ];
  const square = (rng: Rng, n: number) => randomNormal(rng, n, n);
  const hpd = (rng: Rng, n: number) => randomHpd(rng, n);
  const tall = (rng: Rng, n: number) => randomNormal(rng, n + 1, n);
  const cases: Case[] = [
    ['cholesky', /^matrix$/, hpd, (A) => cholesky(A)],
    ['eigh', /eigh: matrix/, hpd, (A) => eigh(A)],
    ['eighReference', /eigh: matrix/, hpd, (A) => eighReference(A)],
    ['svd', /svd: matrix/, tall, (A) => svd(A)],
    ['singularValues (wide)', /svd: matrix/, (r, n) => randomNormal(r, n, n + 2), (A) => singularValues(A)],
    ['qr', /qr: matrix/, tall, (A) => qr(A)],
    ['polar', /svd: matrix/, tall, (A) => polar(A)],
    ['hermitianFunction', /eigh: matrix/, hpd, (A) => hermitianFunction(A, Math.sqrt)],
    ['newtonSchulzPolar', /newtonSchulzPolar: G/, tall, (A) => newtonSchulzPolar(A)],
    ['inverseRoot', /inverseRoot: matrix A/, hpd, (A) => inverseRoot(A, 2)],
    [
      'solveLower (B)',
      /solveLower: right-hand side B/,
      square,
      (B, r, n) => solveLower(cholesky(randomHpd(r, n)), B),
    ],
    [
      'solveLowerH (B)',
      /solveLowerH: right-hand side B/,
      square,
      (B, r, n) => solveLowerH(cholesky(randomHpd(r, n)), B),
    ],
    ['lanczosTopSingular (dense)', /^A$/, tall, (A) => maximalResponse(A)],
    ['frobeniusNorm A', /^A$/, tall, (A) => frobeniusNorm(A)],
    ['frobeniusInner T', /^T$/, tall, (T, r, n) => frobeniusInner(randomNormal(r, n + 1, n), T)],
    [
      'frobeniusNorm V',
      /domain Gram matrix V/,
      hpd,
      (V, r, n) => frobeniusNorm(randomNormal(r, 2, n), { domain: V }),
    ],
    [
      'frobeniusNorm W',
      /codomain Gram matrix W/,
      hpd,
      (W, r, n) => frobeniusNorm(randomNormal(r, n, 2), { codomain: W }),
    ],
    ['operatorNorm A', /^A$/, tall, (A) => operatorNorm(A)],
    [
      'operatorNorm W',
      /codomain Gram matrix W/,
      hpd,
      (W, r, n) => operatorNorm(randomNormal(r, n, 3), { codomain: W }),
    ],
    ['nuclearNorm A', /^A$/, tall, (A) => nuclearNorm(A)],
    [
      'schattenNorm V',
      /domain Gram matrix V/,
      hpd,
      (V, r, n) => schattenNorm(randomNormal(r, 3, n), 3, { domain: V }),
    ],
    ['weightedSingularValues A', /^A$/, tall, (A) => weightedSingularValues(A)],
    ['adjoint A', /^A$/, tall, (A) => adjoint(A)],
    ['adjoint V', /domain Gram matrix V/, hpd, (V, r, n) => adjoint(randomNormal(r, 2, n), { domain: V })],
    ['rieszGradient G', /gradient G/, tall, (G) => rieszGradient(G)],
    [
      'rieszGradient W',
      /codomain Gram matrix W/,
      hpd,
      (W, r, n) => rieszGradient(randomNormal(r, n, 2), { codomain: W }),
    ],
    ['steepestDescent G', /gradient G/, tall, (G) => steepestDescent(G)],
    ['metricTrace B', /form B/, square, (B, r, n) => metricTrace(B, randomHpd(r, n))],
    ['metricTrace V', /Gram matrix V/, hpd, (V, r, n) => metricTrace(randomNormal(r, n, n), V)],
  ];
  for (const [name, matrixName, make, call] of cases) {
    it(`${name}: ${RUNS} random sizes, positions and values`, () => {
      fc.assert(
        fc.property(
          fc.integer({ min: 1, max: 6 }),
          fc.nat(),
          badValue,
          fc.integer({ min: 1, max: 2 ** 31 - 1 }),
          (n, pos, v, seed) => {
            const rng = new Rng(seed);
            const A = make(rng, n);
            const k = pos % A.re.length;
            const row = Math.floor(k / A.cols);
            const col = k % A.cols;
            // Gram matrices: poison the lower triangle's entry and its mirror (a Hermitian NaN), so
            // that the finiteness check, not the symmetry check, is what must catch it.
            let bad = poisoned(A, k, v);
            if (A.rows === A.cols && matrixName.source.includes('Gram'))
              bad = poisoned(bad, col * A.cols + row, v);
            const first = Math.min(k, col * A.cols + row);
            const [r0, c0] = matrixName.source.includes('Gram')
              ? [Math.floor(first / A.cols), first % A.cols]
              : [row, col];
            expectNonFinite(() => call(bad, new Rng(seed + 1), n), matrixName, r0, c0);
          },
        ),
        { numRuns: RUNS },
      );
    });
  }
  it('a NaN in the imaginary part of a complex matrix is named too', () => {
    const rng = new Rng(3);
    const A = poisoned(randomNormal(rng, 4, 3, true), 7, Number.NaN, true);
    expectNonFinite(() => svd(A), /svd: matrix/, 2, 1);
    expectNonFinite(() => frobeniusNorm(A), /^A$/, 2, 1);
  });
  it('a triangular factor with a zero or non-finite diagonal is a NumericalError naming the row', () => {
    const L = matrix([
      [2, 0, 0],
      [1, 0, 0],
      [1, 1, 3],
    ]);
    expect(() => solveLower(L, matrix([[1], [2], [3]]))).toThrow(NumericalError);
    expect(() => solveLowerH(L, matrix([[1], [2], [3]]))).toThrow(/diagonal entry 0 at row 1/);
    const M = poisoned(cholesky(randomHpd(new Rng(1), 3)), 8, Number.POSITIVE_INFINITY);
    expect(() => solveLower(M, zeros(3, 1))).toThrow(/diagonal entry Infinity at row 2/);
  });
  it('a matrix-free operator that returns NaN is a NumericalError, not a NaN norm', () => {
    const op = {
      ...denseOperator(randomNormal(new Rng(2), 4, 4)),
      apply: (X: Matrix) => scale(X, Number.NaN),
    };
    expect(() => lanczosTopSingular(op)).toThrow(NumericalError);
    expect(() => powerIteration(op)).toThrow(NumericalError);
  });
});

describe('singular and indefinite Gram matrices: NotPositiveDefiniteError naming V or W and the pivot', () => {
  it('exactly singular dense V (a zero eigenvalue in a random position): which metric and where', () => {
    fc.assert(
      fc.property(
        fc.integer({ min: 1, max: 7 }),
        fc.nat(),
        fc.integer({ min: 1, max: 2 ** 31 - 1 }),
        (n, pos, seed) => {
          const rng = new Rng(seed);
          // diag with a 0 at position k, in an exactly representable basis (a signed permutation
          // keeps it exactly singular): Cholesky meets the zero pivot at row k.
          const k = pos % n;
          const d = Array.from({ length: n }, (_, i) => (i === k ? 0 : 0.5 + rng.uniform()));
          const V = diag(d);
          const A = randomNormal(rng, 3, n);
          const e = expectNotPd(() => frobeniusNorm(A, { domain: V }), /domain Gram matrix V/, k);
          expect(e.pivot).toBe(0);
          expectNotPd(() => frobeniusNorm(transpose(A), { codomain: V }), /codomain Gram matrix W/, k);
          expectNotPd(() => operatorNorm(A, { domain: V }), /domain Gram matrix V/, k);
          expectNotPd(() => rieszGradient(transpose(A), { codomain: V }), /codomain Gram matrix W/, k);
          expectNotPd(() => adjoint(A, { domain: V }), /domain Gram matrix V/, k);
          expectNotPd(() => metricTrace(randomNormal(rng, n, n), V), /Gram matrix V/, k);
        },
      ),
      { numRuns: RUNS },
    );
  });
  it('rank-one V = uuᵀ (n ≥ 2), the zero matrix and negative definite: typed, never NaN', () => {
    const rng = new Rng(5);
    for (let n = 2; n <= 8; n++) {
      const u = randomNormal(rng, n, 1);
      const V = matmul(u, transpose(u));
      for (let i = 0; i < n; i++) for (let j = 0; j < i; j++) V.re[j * n + i] = V.re[i * n + j];
      const r = outcome(() => frobeniusNorm(randomNormal(rng, 2, n), { domain: V }));
      // Rounding can leave uuᵀ's trailing pivots at ±ε-level instead of 0: either typed, or (when a
      // tiny positive pivot survives) a finite value.
      if (r !== 'finite') expect(r).toBeInstanceOf(NotPositiveDefiniteError);
      expectNotPd(
        () => frobeniusNorm(randomNormal(rng, n, 2), { codomain: zeros(n, n) }),
        /codomain Gram matrix W/,
        0,
      );
      expectNotPd(
        () => frobeniusNorm(randomNormal(rng, 2, n), { domain: scale(randomHpd(rng, n), -1) }),
        /domain Gram matrix V/,
        0,
      );
    }
  });
  it('cholesky and inverseRoot of singular, zero and indefinite matrices', () => {
    expectNotPd(() => cholesky(zeros(3, 3), 'F'), /^F$/, 0);
    expectNotPd(() => cholesky(diag([1, 2, 0, 4])), /matrix/, 2);
    expectNotPd(
      () =>
        cholesky(
          matrix([
            [1, 2],
            [2, 1],
          ]),
        ),
      /matrix/,
      1,
    );
    expectNotPd(() => inverseRoot(zeros(2, 2), 2), /inverseRoot: matrix A/, 0);
    expectNotPd(() => inverseRoot(diag([1, 0]), 4), /inverseRoot: matrix A/, 1);
  });
});

describe('Gram matrices with condition numbers up to 1e16', () => {
  const conds = [1, 1e2, 1e4, 1e8, 1e12, 1e14, 1e16];
  /** Exact ‖A‖_{V,I} for V = Q diag(d) Qᵀ: ‖A Q diag(d)^{−1/2}‖_F. */
  const reference = (A: Matrix, Q: Matrix, d: number[]) => {
    const AQ = matmul(A, Q);
    const s = AQ.re.map((v, k) => v / Math.sqrt(d[k % A.cols]));
    return euclideanNorm({ ...AQ, re: s });
  };
  it('frobeniusNorm and operatorNorm: within c·n·cond·ε (relative) while that is < 1; finite or typed beyond', () => {
    const n = 8;
    const worst: Record<number, number> = {};
    for (const cond of conds) {
      let maxErr = 0;
      for (let seed = 1; seed <= 10; seed++) {
        const rng = new Rng(seed);
        const { V, Q, d } = illConditioned(rng, n, cond);
        // A along V's smallest eigenvector (the worst case) plus a random part.
        const A = randomNormal(rng, 3, n);
        const r = outcome(() => frobeniusNorm(A, { domain: V }));
        const o = outcome(() => operatorNorm(A, { domain: V }));
        if (r !== 'finite') {
          expect(cond * n * EPS, 'Cholesky may fail only where V is numerically singular').toBeGreaterThan(
            1e-3,
          );
          expect(r).toBeInstanceOf(NotPositiveDefiniteError);
          continue;
        }
        expect(o === 'finite' || o instanceof NotPositiveDefiniteError).toBe(true);
        const err = Math.abs(frobeniusNorm(A, { domain: V }) / reference(A, Q, d) - 1);
        maxErr = Math.max(maxErr, err);
        if (cond * n * EPS < 0.1) expect(err).toBeLessThanOrEqual(4 * n * cond * EPS + 1e-14);
      }
      worst[cond] = maxErr;
    }
    // Up to 1e8 the bound is tight enough to mean something: errors well under 1e-6.
    expect(worst[1e8]).toBeLessThan(1e-6);
    expect(worst[1]).toBeLessThan(1e-13);
  });
  it('a diagonal V with cond 1e16, stored dense: Cholesky is exact, the norm accurate to ~n·ε', () => {
    const rng = new Rng(9);
    for (const cond of conds) {
      const n = 8;
      const d = Array.from({ length: n }, (_, i) => cond ** (-i / (n - 1)));
      const A = randomNormal(rng, 3, n);
      const got = frobeniusNorm(A, { domain: diag(d) });
      const want = reference(A, zerosPlusIdentity(n), d);
      expect(Math.abs(got / want - 1)).toBeLessThan(8 * n * EPS);
    }
  });
  it('eigh and svd of a matrix with cond 1e16: eigenvalues within n·ε·‖A‖, all finite', () => {
    for (let seed = 1; seed <= 5; seed++) {
      const { V, d } = illConditioned(new Rng(seed), 10, 1e16);
      const { values } = eigh(V);
      const sorted = [...d].sort((a, b) => a - b);
      for (let i = 0; i < 10; i++) expect(Math.abs(values[i] - sorted[i])).toBeLessThan(40 * EPS);
      const s = singularValues(V);
      for (let i = 0; i < 10; i++)
        expect(Math.abs(s[i] - [...d].sort((a, b) => b - a)[i])).toBeLessThan(40 * EPS);
      expect(outcome(() => qr(V))).toBe('finite');
      expect(outcome(() => newtonSchulzPolar(V))).toBe('finite');
      expect(
        outcome(() => rieszGradient(randomNormal(new Rng(seed), 10, 2), { codomain: V })),
      ).not.toBeInstanceOf(NonFiniteError);
    }
  });
  it('property: random HPD V of any condition up to 1e16 never gives NaN anywhere', () => {
    fc.assert(
      fc.property(
        fc.integer({ min: 2, max: 7 }),
        fc.double({ min: 0, max: 16, noNaN: true }),
        fc.integer({ min: 1, max: 2 ** 31 - 1 }),
        (n, logCond, seed) => {
          const rng = new Rng(seed);
          const { V } = illConditioned(rng, n, 10 ** logCond);
          const A = randomNormal(rng, 2, n);
          for (const f of [
            () => frobeniusNorm(A, { domain: V }),
            () => operatorNorm(A, { domain: V }),
            () => nuclearNorm(A, { domain: V }),
            () => adjoint(A, { domain: V }),
            () => rieszGradient(transpose(A), { codomain: V }),
            () => metricTrace(V, V),
            () => eigh(V),
            () => svd(V),
            () => cholesky(V),
          ]) {
            const r = outcome(f);
            if (r !== 'finite') expect(r).toBeInstanceOf(NotPositiveDefiniteError);
          }
        },
      ),
      { numRuns: RUNS },
    );
  });
});

function zerosPlusIdentity(n: number): Matrix {
  return diag(new Array(n).fill(1));
}

describe('subnormal and huge entries: exact power-of-two rescaling, right answers', () => {
  const rng = new Rng(11);
  const B = randomNormal(rng, 5, 4);
  const sB = singularValues(B);
  const fB = euclideanNorm(B);
  for (const c of [2 ** -1060, 1e-310, 1e-200, 1e200, 1e300]) {
    it(`entries scaled by ${c}`, () => {
      const A = scale(B, c);
      // Subnormal entries keep fewer bits: 2^-1060 leaves ~14 of 52, so compare at that precision.
      const tol = c < 2 ** -1022 ? 2 ** -(52 - Math.max(0, -Math.log2(c) - 1022 + 4)) : 1e-13;
      const rel = (x: number, y: number) => Math.abs(x / y - 1);
      expect(rel(frobeniusNorm(A), c * fB)).toBeLessThan(tol);
      const s = singularValues(A);
      for (let i = 0; i < s.length; i++) expect(rel(s[i], c * sB[i])).toBeLessThan(Math.max(tol, 1e-12));
      expect(rel(operatorNorm(A), c * sB[0])).toBeLessThan(Math.max(tol, 1e-12));
      expect(rel(nuclearNorm(A), c * sB.reduce((a, b) => a + b))).toBeLessThan(Math.max(tol, 1e-12));
      // Matrix-free: rescaled between the products, fine for ‖A‖ down to ~2^-500 (lanczos.ts).
      if (c > 2 ** -500) {
        expect(rel(powerIteration(denseOperator(A), { iterations: 500 }).value, c * sB[0])).toBeLessThan(
          1e-6,
        );
        expect(rel(lanczosTopSingular(denseOperator(A)).value, c * sB[0])).toBeLessThan(1e-12);
      }
      const { R } = qr(A);
      for (let i = 0; i < 4; i++) expect(allFinite(R.re) && Math.abs(R.re[i * 4 + i]) > 0).toBe(true);
      const G = matmul(conjTranspose(B), B);
      const ev = eigh(scale(G, c)).values;
      const ev1 = eigh(G).values;
      for (let i = 0; i < 4; i++) expect(rel(ev[i], c * ev1[i])).toBeLessThan(Math.max(tol, 1e-11));
      const P = newtonSchulzPolar(A);
      expect(Math.abs(euclideanNorm(P) - 2)).toBeLessThan(1e-6); // 4 singular values → 1
    });
  }
  it('a subnormal Gram matrix V = 1e-310·I: the norm scales by 1/√1e-310', () => {
    const n = 3;
    const V = scale(zerosPlusIdentity(n), 1e-310);
    const A = randomNormal(new Rng(4), 2, n);
    expect(
      Math.abs(frobeniusNorm(A, { domain: V }) / (euclideanNorm(A) / Math.sqrt(1e-310)) - 1),
    ).toBeLessThan(1e-12);
  });
  it('σ₁ beyond the f64 range is a NumericalError, not Infinity', () => {
    const A = matrix([
      [1e308, 1e308],
      [1e308, 1e308],
    ]);
    expect(() => singularValues(A)).toThrow(NumericalError);
    expect(() => eigh(A)).toThrow(NumericalError);
    expect(() => operatorNorm(A)).toThrow(NumericalError);
  });
});

describe('zero matrices, 1×1 and empty shapes: defined answers', () => {
  it('zero maps have norm 0 and zero gradients, in every geometry', () => {
    const rng = new Rng(6);
    for (const [m, n] of [
      [1, 1],
      [3, 2],
      [2, 5],
    ]) {
      const Z = zeros(m, n);
      const g = { domain: randomHpd(rng, n), codomain: randomHpd(rng, m) };
      expect(frobeniusNorm(Z, g)).toBe(0);
      expect(operatorNorm(Z, g)).toBe(0);
      expect(nuclearNorm(Z, g)).toBe(0);
      expect(schattenNorm(Z, 3, g)).toBe(0);
      expect(frobeniusInner(Z, Z, g)).toEqual({ re: 0, im: 0 });
      expect([...weightedSingularValues(Z, g)].every((s) => s === 0)).toBe(true);
      expect([...rieszGradient(Z, g).re].every((v) => v === 0)).toBe(true);
      expect([...steepestDescent(Z, g).re].every((v) => v === 0)).toBe(true);
      expect(allFinite(adjoint(Z, g))).toBe(true);
      expect(maximalResponse(Z, g).value).toBe(0);
      expect(outcome(() => svd(Z))).toBe('finite');
      expect([...svd(Z).s].every((s) => s === 0)).toBe(true);
      expect([...newtonSchulzPolar(Z).re].every((v) => v === 0)).toBe(true);
      if (m >= n) expect([...qr(Z).R.re].every((v) => v === 0)).toBe(true);
    }
    expect([...eigh(zeros(4, 4)).values]).toEqual([0, 0, 0, 0]);
    expect(metricTrace(zeros(3, 3), randomHpd(rng, 3))).toEqual({ re: 0, im: 0 });
  });
  it('1×1: the scalar formulas', () => {
    const a = -3;
    const v = 4;
    const w = 9;
    const A = matrix([[a]]);
    const g = { domain: matrix([[v]]), codomain: matrix([[w]]) };
    const want = Math.abs(a) * Math.sqrt(w / v);
    expect(frobeniusNorm(A, g)).toBeCloseTo(want, 14);
    expect(operatorNorm(A, g)).toBeCloseTo(want, 14);
    expect(nuclearNorm(A, g)).toBeCloseTo(want, 14);
    expect(adjoint(A, g).re[0]).toBeCloseTo((a * w) / v, 14);
    expect(rieszGradient(A, g).re[0]).toBeCloseTo((a * v) / w, 14);
    expect(metricTrace(matrix([[6]]), matrix([[v]])).re).toBeCloseTo(6 / v, 14);
    expect(cholesky(matrix([[v]])).re[0]).toBe(2);
    expect(eigh(A).values[0]).toBe(a);
    expect(svd(A).s[0]).toBe(3);
    expect(Math.abs(qr(A).R.re[0])).toBe(3);
    expect(newtonSchulzPolar(A).re[0]).toBeCloseTo(-1, 10);
    expect(polar(A).re[0]).toBe(-1);
    expect(inverseRoot(matrix([[16]]), 4).re[0]).toBeCloseTo(0.5, 12);
    expect(solveLower(matrix([[2]]), matrix([[6]])).re[0]).toBe(3);
  });
  it('empty shapes (0×n, m×0, 0×0): norm 0, empty factorisations, no NaN', () => {
    for (const [m, n] of [
      [0, 3],
      [3, 0],
      [0, 0],
    ]) {
      const E = zeros(m, n);
      expect(frobeniusNorm(E)).toBe(0);
      expect(operatorNorm(E)).toBe(0);
      expect(nuclearNorm(E)).toBe(0);
      expect(schattenNorm(E, 2)).toBe(0);
      expect(weightedSingularValues(E).length).toBe(0);
      expect(svd(E).s.length).toBe(0);
      expect(frobeniusInner(E, E)).toEqual({ re: 0, im: 0 });
      const adj = adjoint(E);
      expect([adj.rows, adj.cols]).toEqual([n, m]);
      const G = rieszGradient(E);
      expect([G.rows, G.cols]).toEqual([m, n]);
      const P = newtonSchulzPolar(E);
      expect([P.rows, P.cols]).toEqual([m, n]);
      if (m >= n) expect(qr(E).R.rows).toBe(n);
    }
    expect(cholesky(zeros(0, 0)).rows).toBe(0);
    expect(eigh(zeros(0, 0)).values.length).toBe(0);
    expect(inverseRoot(zeros(0, 0), 2).rows).toBe(0);
    expect(metricTrace(zeros(0, 0), identityIp(0))).toEqual({ re: 0, im: 0 });
    expect(frobeniusNorm(zeros(0, 2), { domain: randomHpd(new Rng(1), 2) })).toBe(0);
  });
  it('shape mismatches stay ShapeErrors', () => {
    expect(() => frobeniusNorm(zeros(2, 3), { domain: randomHpd(new Rng(1), 2) })).toThrow(ShapeError);
    expect(() => dense(zeros(2, 3))).toThrow(ShapeError);
    expect(() => inverseRoot(zeros(2, 3), 2)).toThrow(ShapeError);
  });
});
