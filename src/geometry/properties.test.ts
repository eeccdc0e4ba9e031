/** Property tests of MATH.md §11 over random real and complex cases and every Gram structure. */
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { expectClose } from '../../test/helpers.js';
import { GRAM_KINDS, randomInnerProduct } from '../../test/random-geometry.js';
import { matmul } from '../linalg/gemm.js';
import {
  axpby,
  type Complex,
  frobeniusNorm as classicalNorm,
  conjTranspose,
  identity,
  type Matrix,
  scale,
  trace,
} from '../linalg/matrix.js';
import { Rng, randomHpd, randomNormal } from '../linalg/random.js';
import { singularValues } from '../linalg/svd.js';
import { adjoint } from './adjoint.js';
import { frobeniusDualMap, operatorDualMap } from './dual-map.js';
import { frobeniusInner, frobeniusNorm } from './frobenius.js';
import { dense } from './inner-product/dense.js';
import { scaled } from './inner-product/diagonal.js';
import type { InnerProduct } from './inner-product/inner-product.js';
import { metricTrace } from './metric-trace.js';
import { averageResponse, exactResponseMoments, RESPONSE_MEASURES } from './response.js';
import { rieszGradient } from './riesz-gradient.js';
import { operatorNorm, weightedSingularValues } from './spectral.js';
import { twoToQBounds } from './two-to-q.js';

interface Case {
  rng: Rng;
  m: number;
  n: number;
  complex: boolean;
  V: InnerProduct;
  W: InnerProduct;
}

const caseArb = fc
  .record({
    seed: fc.integer(),
    m: fc.integer({ min: 1, max: 6 }),
    n: fc.integer({ min: 1, max: 6 }),
    complex: fc.boolean(),
    vKind: fc.constantFrom(...GRAM_KINDS),
    wKind: fc.constantFrom(...GRAM_KINDS),
  })
  .map(({ seed, m, n, complex, vKind, wKind }): Case => {
    const rng = new Rng(seed);
    return {
      rng,
      m,
      n,
      complex,
      V: randomInnerProduct(rng, n, complex, vKind),
      W: randomInnerProduct(rng, m, complex, wKind),
    };
  });

const RUNS = { numRuns: 120 };
const close = (a: number, b: number, tol = 1e-11) =>
  Math.abs(a - b) <= tol * Math.max(1, Math.abs(a), Math.abs(b));
const closeC = (a: Complex, b: Complex, scaleRef: number, tol = 1e-11) =>
  Math.hypot(a.re - b.re, a.im - b.im) <= tol * Math.max(1, scaleRef);
const mul = (a: Complex, b: Complex): Complex => ({
  re: a.re * b.re - a.im * b.im,
  im: a.re * b.im + a.im * b.re,
});
const conjC = (a: Complex): Complex => ({ re: a.re, im: -a.im });
const rand = (c: Case, rows = c.m, cols = c.n) => randomNormal(c.rng, rows, cols, c.complex);
const geo = (c: Case) => ({ domain: c.V, codomain: c.W });

/** ⟨x, y⟩_G = xᴴ G y for column vectors. */
function innerVec(x: Matrix, y: Matrix, G: InnerProduct): Complex {
  return trace(matmul(conjTranspose(x), G.rieszMap(y)));
}

describe('Frobenius-type inner product (MATH.md §4, §11)', () => {
  it('is Hermitian-symmetric, linear in the second argument, conjugate-linear in the first', () => {
    fc.assert(
      fc.property(caseArb, (c) => {
        const S = rand(c);
        const T = rand(c);
        const T2 = rand(c);
        const a: Complex = { re: c.rng.normal(), im: c.complex ? c.rng.normal() : 0 };
        const st = frobeniusInner(S, T, geo(c));
        const ts = frobeniusInner(T, S, geo(c));
        const ref =
          frobeniusNorm(S, geo(c)) *
          (frobeniusNorm(T, geo(c)) + frobeniusNorm(T2, geo(c))) *
          (1 + Math.hypot(a.re, a.im));
        expect(closeC(st, conjC(ts), ref)).toBe(true);
        const lin = frobeniusInner(S, axpby(1, scale(T, a), 1, T2), geo(c));
        const st2 = frobeniusInner(S, T2, geo(c));
        const expected = mul(a, st);
        expect(closeC(lin, { re: expected.re + st2.re, im: expected.im + st2.im }, ref)).toBe(true);
        const conjLin = frobeniusInner(scale(S, a), T, geo(c));
        expect(closeC(conjLin, mul(conjC(a), st), ref)).toBe(true);
      }),
      RUNS,
    );
  });
  it('is positive, satisfies Cauchy–Schwarz and ‖A‖² = ⟨A, A⟩', () => {
    fc.assert(
      fc.property(caseArb, (c) => {
        const S = rand(c);
        const T = rand(c);
        const nS = frobeniusNorm(S, geo(c));
        const nT = frobeniusNorm(T, geo(c));
        expect(nS).toBeGreaterThan(0);
        const st = frobeniusInner(S, T, geo(c));
        expect(Math.hypot(st.re, st.im)).toBeLessThanOrEqual(nS * nT * (1 + 1e-12));
        const ss = frobeniusInner(S, S, geo(c));
        expect(close(ss.re, nS * nS)).toBe(true);
        expect(Math.abs(ss.im)).toBeLessThanOrEqual(1e-12 * nS * nS);
      }),
      RUNS,
    );
  });
  it('reduces to the classical Frobenius inner product when V = W = I', () => {
    fc.assert(
      fc.property(caseArb, (c) => {
        const S = rand(c);
        const T = rand(c);
        const st = frobeniusInner(S, T);
        const classical = trace(matmul(conjTranspose(S), T));
        expect(closeC(st, classical, classicalNorm(S) * classicalNorm(T))).toBe(true);
        expect(close(frobeniusNorm(S), classicalNorm(S))).toBe(true);
      }),
      RUNS,
    );
  });
  it('equals tr(V⁻¹ Sᴴ W T) from dense matrices, tr(S* T) through the adjoint, and is cyclic', () => {
    fc.assert(
      fc.property(caseArb, (c) => {
        const S = rand(c);
        const T = rand(c);
        const st = frobeniusInner(S, T, geo(c));
        const ref = frobeniusNorm(S, geo(c)) * frobeniusNorm(T, geo(c));
        // Independent route: dense V⁻¹ by solving against I, then the plain trace formula.
        const Vinv = c.V.inverseRieszMap(identity(c.n));
        const Wd = c.W.toDense();
        const SH = conjTranspose(S);
        expect(closeC(trace(matmul(matmul(matmul(Vinv, SH), Wd), T)), st, ref)).toBe(true);
        // Cyclicity: tr(V⁻¹ Sᴴ W T) = tr(W T V⁻¹ Sᴴ)
        expect(closeC(trace(matmul(matmul(matmul(Wd, T), Vinv), SH)), st, ref)).toBe(true);
        // Through the adjoint: ⟨S, T⟩ = tr(S* T)
        expect(closeC(trace(matmul(adjoint(S, geo(c)), T)), st, ref)).toBe(true);
      }),
      RUNS,
    );
  });
  it('obeys the scaling rules: V → cV divides ‖A‖² by c, W → cW multiplies it by c', () => {
    fc.assert(
      fc.property(caseArb, fc.double({ min: 0.1, max: 10, noNaN: true }), (c, k) => {
        const A = rand(c);
        const base = frobeniusNorm(A, geo(c)) ** 2;
        const scaledGeo = (G: InnerProduct) => dense(scale(G.toDense(), k));
        expect(close(frobeniusNorm(A, { domain: scaledGeo(c.V), codomain: c.W }) ** 2, base / k)).toBe(true);
        expect(close(frobeniusNorm(A, { domain: c.V, codomain: scaledGeo(c.W) }) ** 2, base * k)).toBe(true);
        expect(
          close(frobeniusNorm(A, { domain: scaled(c.n, k), codomain: scaled(c.m, k) }), classicalNorm(A)),
        ).toBe(true);
      }),
      RUNS,
    );
  });
  it('is invariant under a change of coordinates (Q A P⁻¹ with P⁻ᴴVP⁻¹, Q⁻ᴴWQ⁻¹)', () => {
    fc.assert(
      fc.property(caseArb, (c) => {
        const A = rand(c);
        // Well-conditioned invertible P, Q: Hermitian positive definite matrices.
        const P = randomHpd(c.rng, c.n, c.complex);
        const Q = randomHpd(c.rng, c.m, c.complex);
        const Pinv = dense(P).inverseRieszMap(identity(c.n));
        const Qinv = dense(Q).inverseRieszMap(identity(c.m));
        const V2 = matmul(matmul(conjTranspose(Pinv), c.V.toDense()), Pinv);
        const W2 = matmul(matmul(conjTranspose(Qinv), c.W.toDense()), Qinv);
        const hermitize = (X: Matrix) => scale(axpby(1, X, 1, conjTranspose(X)), 0.5);
        const lhs = frobeniusNorm(matmul(matmul(Q, A), Pinv), {
          domain: hermitize(V2),
          codomain: hermitize(W2),
        });
        expect(close(lhs, frobeniusNorm(A, geo(c)), 1e-9)).toBe(true);
      }),
      RUNS,
    );
  });
});

describe('adjoint, metric trace and spectra (MATH.md §2, §3, §5)', () => {
  it('satisfies ⟨Ax, y⟩_W = ⟨x, A*y⟩_V and (A*)* = A', () => {
    fc.assert(
      fc.property(caseArb, (c) => {
        const A = rand(c);
        const x = rand(c, c.n, 1);
        const y = rand(c, c.m, 1);
        const As = adjoint(A, geo(c));
        const lhs = innerVec(matmul(A, x), y, c.W);
        const rhs = innerVec(x, matmul(As, y), c.V);
        const ref =
          frobeniusNorm(A, geo(c)) * Math.sqrt(innerVec(x, x, c.V).re * innerVec(y, y, c.W).re) * 10;
        expect(closeC(lhs, rhs, ref)).toBe(true);
        expectClose(adjoint(As, { domain: c.W, codomain: c.V }), A, 1e-10);
      }),
      RUNS,
    );
  });
  it('the metric trace is Σ b(eᵢ, eᵢ) over a V-orthonormal basis', () => {
    fc.assert(
      fc.property(caseArb, (c) => {
        const B = rand(c, c.n, c.n);
        // Columns of R⁻ᴴ form a V-orthonormal basis.
        const E = c.V.factorSolveH(identity(c.n));
        const viaBasis = trace(matmul(matmul(conjTranspose(E), B), E));
        expect(closeC(metricTrace(B, c.V), viaBasis, classicalNorm(B) * classicalNorm(E) ** 2)).toBe(true);
      }),
      RUNS,
    );
  });
  it('σ₁² ≥ ‖A‖²/n, σ₁ ≤ ‖A‖ ≤ √rank σ₁, and Lanczos agrees with the SVD', () => {
    fc.assert(
      fc.property(caseArb, (c) => {
        const A = rand(c);
        const s = weightedSingularValues(A, geo(c));
        const f = frobeniusNorm(A, geo(c));
        const op = operatorNorm(A, geo(c));
        expect(close(op, s[0], 1e-11)).toBe(true);
        expect(op * op).toBeGreaterThanOrEqual((f * f) / c.n - 1e-12 * f * f);
        expect(op).toBeLessThanOrEqual(f * (1 + 1e-12));
        expect(f).toBeLessThanOrEqual(Math.sqrt(Math.min(c.m, c.n)) * op * (1 + 1e-12));
        expect(close(Math.hypot(...s), f)).toBe(true);
      }),
      RUNS,
    );
  });
});

describe('gradients and dual maps (MATH.md §6, §8)', () => {
  it('the Riesz gradient satisfies ⟨grad, D⟩_{V,W} = tr(Gᴴ D) for every D', () => {
    fc.assert(
      fc.property(caseArb, (c) => {
        const G = rand(c);
        const D = rand(c);
        const grad = rieszGradient(G, geo(c));
        const lhs = frobeniusInner(grad, D, geo(c));
        const rhs = trace(matmul(conjTranspose(G), D));
        expect(
          closeC(
            lhs,
            rhs,
            classicalNorm(G) * classicalNorm(D) * 10 + frobeniusNorm(grad, geo(c)) * frobeniusNorm(D, geo(c)),
          ),
        ).toBe(true);
      }),
      RUNS,
    );
  });
  it('identity geometry returns the gradient bit-for-bit', () => {
    fc.assert(
      fc.property(caseArb, (c) => {
        const G = rand(c);
        const grad = rieszGradient(G);
        expect(Array.from(grad.re)).toEqual(Array.from(G.re));
      }),
      { numRuns: 30 },
    );
  });
  it('the operator-norm dual map attains ‖G̃‖_* with ‖D‖_op = 1 and beats random feasible directions', () => {
    fc.assert(
      fc.property(caseArb, (c) => {
        const G = rand(c);
        const { direction: D, value } = operatorDualMap(G, geo(c));
        const attained = trace(matmul(conjTranspose(G), D)).re;
        expect(close(attained, value, 1e-10)).toBe(true);
        expect(close(operatorNorm(D, geo(c)), 1, 1e-10)).toBe(true);
        for (let t = 0; t < 3; t++) {
          const R = rand(c);
          const Rn = scale(R, 1 / operatorNorm(R, geo(c)));
          expect(trace(matmul(conjTranspose(G), Rn)).re).toBeLessThanOrEqual(value * (1 + 1e-10));
        }
      }),
      RUNS,
    );
  });
  it('the Frobenius-type dual map has unit norm and value ‖W⁻¹GV‖', () => {
    fc.assert(
      fc.property(caseArb, (c) => {
        const G = rand(c);
        const { direction: D, value } = frobeniusDualMap(G, geo(c));
        expect(close(frobeniusNorm(D, geo(c)), 1)).toBe(true);
        expect(close(trace(matmul(conjTranspose(G), D)).re, value, 1e-10)).toBe(true);
      }),
      RUNS,
    );
  });
});

describe('average response estimators (MATH.md §5)', () => {
  it('land within 5 standard errors of the exact mean, with the predicted standard error', () => {
    const rng = new Rng(99);
    for (const complex of [false, true]) {
      for (const measure of RESPONSE_MEASURES) {
        const A = randomNormal(rng, 4, 5, complex);
        const V = dense(randomHpd(rng, 5, complex));
        const W = dense(randomHpd(rng, 4, complex));
        const N = 20000;
        const est = averageResponse(A, { domain: V, codomain: W, measure, samples: N, seed: 5, complex });
        const exact = exactResponseMoments(A, measure, complex, { domain: V, codomain: W });
        const se = Math.sqrt(exact.variance / N);
        expect(Math.abs(est.mean - exact.mean)).toBeLessThanOrEqual(5 * se);
        expect(est.stderr / se).toBeGreaterThan(0.8);
        expect(est.stderr / se).toBeLessThan(1.25);
        expect(est.interval[0]).toBeLessThan(est.mean);
        // The implied Frobenius estimate brackets the exact norm at the 5σ level.
        const f2 = frobeniusNorm(A, { domain: V, codomain: W }) ** 2;
        expect(Math.abs(est.frobeniusSquared.estimate - f2)).toBeLessThanOrEqual(5 * se * est.normalizer);
      }
    }
  });
  it('shrink their error at the 1/√N rate', () => {
    const A = randomNormal(new Rng(3), 3, 4);
    const e1 = averageResponse(A, { samples: 1000, seed: 1 }).stderr;
    const e2 = averageResponse(A, { samples: 16000, seed: 1 }).stderr;
    expect(e1 / e2).toBeGreaterThan(3.2);
    expect(e1 / e2).toBeLessThan(4.8);
  });
});

describe('2→q bounds (MATH.md §10)', () => {
  it('lower ≤ upper, both within [max row norm, σ₁]', () => {
    fc.assert(
      fc.property(
        fc.integer(),
        fc.integer({ min: 1, max: 8 }),
        fc.integer({ min: 1, max: 5 }),
        fc.constantFrom(3, 4, 6),
        (seed, m, d, q) => {
          const X = randomNormal(new Rng(seed), m, d);
          const b = twoToQBounds(X, q, { restarts: 2, iterations: 50 });
          expect(b.lower).toBeLessThanOrEqual(b.upper * (1 + 1e-12));
          const s1 = singularValues(X)[0];
          expect(b.upper).toBeLessThanOrEqual(s1 * (1 + 1e-12));
          let maxRow = 0;
          for (let i = 0; i < m; i++) maxRow = Math.max(maxRow, Math.hypot(...X.re.slice(i * d, i * d + d)));
          expect(b.lower).toBeGreaterThanOrEqual(maxRow * (1 - 1e-12));
          // The witness is a unit vector achieving `lower`.
          expect(Math.hypot(...b.witness)).toBeCloseTo(1, 12);
        },
      ),
      { numRuns: 60 },
    );
  });
  it('is exact on rank-one matrices u wᵀ (value ‖u‖_q ‖w‖₂)', () => {
    const u = [1, -2, 0.5, 3];
    const w = [0.3, 0.4];
    const X = { rows: 4, cols: 2, re: Float64Array.from(u.flatMap((a) => w.map((b) => a * b))), im: null };
    const b = twoToQBounds(X, 4);
    const expected = u.reduce((s, a) => s + a ** 4, 0) ** 0.25 * 0.5;
    expect(Math.abs(b.lower - expected)).toBeLessThan(1e-12 * expected);
    expect(Math.abs(b.upper - expected)).toBeLessThan(1e-12 * expected);
  });
});
