/** Golden values of MATH.md §12, derived by hand. */
import { describe, expect, it } from 'vitest';
import { expectClose, expectRel } from '../../test/helpers.js';
import { matmul } from '../linalg/gemm.js';
import { denseOperator } from '../linalg/lanczos.js';
import { diag, identity, matrix, scale, sub } from '../linalg/matrix.js';
import { Rng, randomHpd } from '../linalg/random.js';
import { adjoint, adjointOperator } from './adjoint.js';
import { operatorDualMap } from './dual-map.js';
import { frobeniusInner, frobeniusNorm } from './frobenius.js';
import { dense } from './inner-product/dense.js';
import { diagonal } from './inner-product/diagonal.js';
import { metricTrace } from './metric-trace.js';
import { exactResponseMoments } from './response.js';
import { rieszGradient } from './riesz-gradient.js';
import { nuclearNorm, operatorNorm, schattenNorm, weightedSingularValues } from './spectral.js';
import { twoToQBounds } from './two-to-q.js';

const A0 = matrix([
  [1, 2],
  [3, 4],
]);

describe('MATH.md §12 golden values', () => {
  it('1. diag(3,4): Frobenius 5, operator 4, nuclear 7, Schatten-3 = 91^{1/3}; averages 12.5, 6.25, 25', () => {
    const A = diag([3, 4]);
    expectRel(frobeniusNorm(A), 5, 1e-15);
    expectRel(operatorNorm(A), 4, 1e-14);
    expectRel(nuclearNorm(A), 7, 1e-15);
    expectRel(schattenNorm(A, 3), 4.497941445, 1e-9);
    expectRel(schattenNorm(A, 3), 91 ** (1 / 3), 1e-14);
    expectRel(exactResponseMoments(A, 'sphere', false).mean, 12.5, 1e-15);
    expectRel(exactResponseMoments(A, 'ball', false).mean, 6.25, 1e-15);
    expectRel(exactResponseMoments(A, 'gaussian', false).mean, 25, 1e-15);
  });
  it('2. [1 1] with V = diag(1,4), W = [9]: ‖A‖² = 11.25, operator norm the same (rank one)', () => {
    const A = matrix([[1, 1]]);
    const g = { domain: diagonal([1, 4]), codomain: matrix([[9]]) };
    expectRel(frobeniusNorm(A, g) ** 2, 11.25, 1e-15);
    expectRel(frobeniusNorm(A, g), 3.354101966, 1e-9);
    expectRel(operatorNorm(A, g), Math.sqrt(11.25), 1e-13);
  });
  it('3. A = I: ‖I‖² = n for V = W; Σ 1/vᵢ for W = I, V = diag(v)', () => {
    const V = randomHpd(new Rng(1), 5);
    expectRel(frobeniusNorm(identity(5), { domain: V, codomain: V }) ** 2, 5, 1e-13);
    expectRel(frobeniusNorm(identity(3), { domain: diagonal([1, 2, 4]) }) ** 2, 1 + 1 / 2 + 1 / 4, 1e-15);
  });
  it('4. [[1, i],[0, 1]]: Frobenius √3, operator the golden ratio; the complex pairing', () => {
    const A = matrix([
      [1, [0, 1]],
      [0, 1],
    ]);
    expectRel(frobeniusNorm(A), Math.sqrt(3), 1e-15);
    expectRel(operatorNorm(A), (1 + Math.sqrt(5)) / 2, 1e-13);
    const S = matrix([[1, [0, 1]]]);
    const T = matrix([[1, 1]]);
    const W = { codomain: matrix([[2]]) };
    const st = frobeniusInner(S, T, W);
    const ts = frobeniusInner(T, S, W);
    expectRel(st.re, 2, 1e-15);
    expectRel(st.im, -2, 1e-15);
    expectRel(ts.re, 2, 1e-15);
    expectRel(ts.im, 2, 1e-15);
    expectRel(frobeniusNorm(S, W) ** 2, 4, 1e-15);
    expectRel(frobeniusNorm(T, W) ** 2, 4, 1e-15);
    const iS = scale(S, { re: 0, im: 1 });
    const v = frobeniusInner(iS, T, W);
    expectRel(v.re, -2, 1e-15);
    expectRel(v.im, -2, 1e-15);
  });
  it('5b. the matrix-free adjoint acts as the dense one, and its Euclidean adjoint is W A V⁻¹', () => {
    const A = matrix([[1, 2]]);
    const g = { domain: diagonal([1, 2]), codomain: matrix([[3]]) };
    const op = adjointOperator(denseOperator(A), g);
    expectClose(op.apply(matrix([[1]])), matrix([[3], [3]]), 1e-15);
    // (V⁻¹AᴴW)ᴴ = W A V⁻¹ = 3·[1, 1]
    expectClose(op.applyAdjoint(matrix([[1], [0]])), matrix([[3]]), 1e-15);
  });
  it('5. [1 2], V = diag(1,2), W = [3]: A* = [3; 3]', () => {
    expectClose(
      adjoint(matrix([[1, 2]]), { domain: diagonal([1, 2]), codomain: matrix([[3]]) }),
      matrix([[3], [3]]),
      1e-15,
    );
  });
  it('6. ‖[[1,1],[1,−1]]/√2‖_{2→4} = 1', () => {
    const X = scale(
      matrix([
        [1, 1],
        [1, -1],
      ]),
      Math.SQRT1_2,
    );
    const b = twoToQBounds(X, 4);
    expectRel(b.lower, 1, 1e-12);
    expectRel(b.upper, 1, 1e-12);
  });
  it('7. least squares with C = diag(1, 1e4): one K-FAC step (Γ = I, V = C⁻¹, η = 1) reaches the minimiser', () => {
    const C = diag([1, 1e4]);
    const Astar = matrix([
      [2, -1],
      [0.5, 3],
    ]);
    const A = matrix([
      [0, 0],
      [1, 1],
    ]);
    // Population gradient of ½E‖Ax − A*x‖² with E[xxᵀ] = C: G = (A − A*) C.
    const G = matmul(sub(A, Astar), C);
    const step = rieszGradient(G, { domain: diagonal([1, 1e-4]) });
    expectClose(sub(A, step), Astar, 1e-14);
    // Plain GD with the largest stable step 2/λ_max barely moves the slow direction.
    const gd = sub(A, scale(G, 1.9e-4));
    expect(Math.abs(gd.re[0] - Astar.re[0])).toBeGreaterThan(1.9);
  });
  it('8. A₀ with V = diag(4,9), W = diag(1,16)', () => {
    const g = { domain: diagonal([4, 9]), codomain: diagonal([1, 16]) };
    expectRel(frobeniusNorm(A0, g) ** 2, 2345 / 36, 1e-14);
    expectRel(frobeniusNorm(A0, g), 8.070866675, 1e-9);
    const s = weightedSingularValues(A0, g);
    expectRel(s[0], 8.069175009, 1e-9);
    expectRel(s[1], 0.165237875, 1e-8);
    expectRel(operatorNorm(A0, g), 8.069175009, 1e-9);
    expectRel(nuclearNorm(A0, g), Math.sqrt(2441) / 6, 1e-14);
    expectRel(frobeniusNorm(A0), Math.sqrt(30), 1e-15);
    expectRel(operatorNorm(A0), Math.sqrt(15 + Math.sqrt(221)), 1e-14);
    expectRel(nuclearNorm(A0), Math.sqrt(34), 1e-14);
  });
  it('9. A = I₂, V = [[2,1],[1,2]], W = I: ‖I‖² = 4/3, operator 1, nuclear 1 + 1/√3', () => {
    const g = {
      domain: matrix([
        [2, 1],
        [1, 2],
      ]),
    };
    expectRel(frobeniusNorm(identity(2), g) ** 2, 4 / 3, 1e-15);
    expectRel(operatorNorm(identity(2), g), 1, 1e-14);
    expectRel(nuclearNorm(identity(2), g), 1 + 1 / Math.sqrt(3), 1e-14);
  });
  it('10. A₀ with V = diag(1,2), W = diag(3,1): A* = [[3,3],[3,2]], tr(V⁻¹A₀) = 3', () => {
    expectClose(
      adjoint(A0, { domain: diagonal([1, 2]), codomain: diagonal([3, 1]) }),
      matrix([
        [3, 3],
        [3, 2],
      ]),
      1e-15,
    );
    expect(metricTrace(A0, diagonal([1, 2]))).toEqual({ re: 3, im: 0 });
    expect(metricTrace(A0, dense(diag([1, 2])))).toEqual({ re: 3, im: 0 });
  });
  it('11. average-response moments of A₀', () => {
    const cases: [Parameters<typeof exactResponseMoments>[1], boolean, number, number | null][] = [
      ['sphere', false, 15, 110.5],
      ['ball', false, 7.5, null],
      ['gaussian', false, 30, 1784],
      ['sphere', true, 15, 221 / 3],
      ['ball', true, 10, null],
      ['gaussian', true, 30, 892],
    ];
    for (const [measure, complex, mean, variance] of cases) {
      const m = exactResponseMoments(A0, measure, complex);
      expectRel(m.mean, mean, 1e-14);
      if (variance !== null) expectRel(m.variance, variance, 1e-13);
    }
  });
  it('12. K-FAC as a Riesz gradient, and factored damping', () => {
    const grad = rieszGradient(A0, { domain: diagonal([1 / 2, 1 / 4]), codomain: diagonal([1, 2]) });
    expectClose(
      grad,
      matrix([
        [0.5, 0.5],
        [0.75, 0.5],
      ]),
      1e-15,
    );
  });
  it('13. dual maps: polar factors and the weighted operator-norm dual', () => {
    const d1 = operatorDualMap(diag([3, -2]));
    expectClose(d1.direction, diag([1, -1]), 1e-14);
    expectRel(d1.value, 5, 1e-15);
    const d2 = operatorDualMap(
      matrix([
        [1, 1],
        [0, 1],
      ]),
    );
    expectRel(d2.value, Math.sqrt(5), 1e-14);
    const d3 = operatorDualMap(diag([2, 3]), { codomain: diagonal([4, 1]) });
    expectClose(d3.direction, diag([0.5, 1]), 1e-14);
    expectRel(d3.value, 4, 1e-15);
  });
  it('14. 2→q: I gives 1, diag(3,4) gives 4, [[1,1],[1,−1]] gives √2, the 3×2 example brackets 4.5^{1/4}', () => {
    for (const [X, v] of [
      [identity(3), 1],
      [diag([3, 4]), 4],
      [
        matrix([
          [1, 1],
          [1, -1],
        ]),
        Math.SQRT2,
      ],
    ] as const) {
      const b = twoToQBounds(X, 4);
      expectRel(b.lower, v, 1e-12);
      expectRel(b.upper, v, 1e-12);
    }
    const X = matrix([
      [1, 0],
      [0, 1],
      [1, 1],
    ]);
    const b = twoToQBounds(X, 4);
    expectRel(b.lower, 4.5 ** 0.25, 1e-12);
    expectRel(b.upperCandidates.fourthMoment, ((5 + Math.sqrt(17)) / 2) ** 0.25, 1e-12);
    expect(b.upperCandidates.fourthMoment).toBeGreaterThanOrEqual(1.4614305337);
    expect(b.upper).toBeGreaterThanOrEqual(b.lower);
  });
});
