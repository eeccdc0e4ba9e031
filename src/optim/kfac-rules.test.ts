/** K-FAC's scalar rules against values computed by hand. */
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import {
  adaptDamping,
  debiasedDecay,
  modelChange,
  reductionRatio,
  solveQuadraticModel,
} from './kfac-rules.js';

describe('debiased factor averages', () => {
  it('the average of a constant is that constant, from the first update on', () => {
    fc.assert(
      fc.property(
        fc.double({ min: -1e6, max: 1e6, noNaN: true }),
        fc.integer({ min: 1, max: 200 }),
        (c, k) => {
          let avg = Number.NaN;
          for (let i = 1; i <= k; i++) {
            const e = debiasedDecay(i, 0.95);
            avg = i === 1 ? c : e * avg + (1 - e) * c;
          }
          expect(Math.abs(avg - c)).toBeLessThanOrEqual(1e-9 * Math.max(1, Math.abs(c)));
        },
      ),
    );
  });
  it('is the running mean while 1 − 1/k < decay, then the exponential average', () => {
    const xs = [3, 5, 10];
    let avg = 0;
    xs.forEach((x, i) => {
      const e = debiasedDecay(i + 1, 0.95);
      avg = e * avg + (1 - e) * x;
    });
    expect(avg).toBeCloseTo(6, 12);
    expect(debiasedDecay(1, 0.95)).toBe(0);
    expect(debiasedDecay(20, 0.95)).toBe(0.95);
    expect(debiasedDecay(1000, 0.95)).toBe(0.95);
  });
});

describe('the damped quadratic model', () => {
  it('1-D: x = b/(C + λ + η), predicted change of the undamped model', () => {
    const r = solveQuadraticModel({ curvature: [[2]], gram: [[1]], grad: [4], damping: 0 });
    expect(r.coefficients).toEqual([2]);
    expect(r.predicted).toBeCloseTo(-4, 12); // ½·2·2² − 2·4
    const damped = solveQuadraticModel({ curvature: [[2]], gram: [[1]], grad: [4], damping: 1, l2: 1 });
    expect(damped.coefficients[0]).toBeCloseTo(1, 12); // 4 / (2 + 1 + 1)
    // Undamped model with η: ½·(2 + 1)·1² − 4 = −2.5.
    expect(damped.predicted).toBeCloseTo(-2.5, 12);
  });
  it('2-D: the 2×2 solve by hand', () => {
    // M = C + λN = [[3, 1], [1, 2]] + 1·I = [[4, 1], [1, 3]]; b = [1, 2]:
    // x = M⁻¹b = [3·1 − 1·2, 4·2 − 1·1] / 11 = [1/11, 7/11].
    const C = [
      [3, 1],
      [1, 2],
    ];
    const N = [
      [1, 0],
      [0, 1],
    ];
    const r = solveQuadraticModel({ curvature: C, gram: N, grad: [1, 2], damping: 1 });
    expect(r.used).toBe(2);
    expect(r.coefficients[0]).toBeCloseTo(1 / 11, 12);
    expect(r.coefficients[1]).toBeCloseTo(7 / 11, 12);
    // ½xᵀCx − bᵀx at x = [1, 7]/11: (½(3 + 14 + 98) − 11·15)/121 = (57.5 − 165)/121.
    expect(r.predicted).toBeCloseTo((57.5 - 165) / 121, 12);
  });
  it('minimises the damped model: no step along the span does better (property)', () => {
    fc.assert(
      fc.property(
        fc.tuple(
          fc.double({ min: 0.1, max: 10, noNaN: true }),
          fc.double({ min: 0.1, max: 10, noNaN: true }),
          fc.double({ min: -0.9, max: 0.9, noNaN: true }),
          fc.double({ min: -5, max: 5, noNaN: true }),
          fc.double({ min: -5, max: 5, noNaN: true }),
          fc.double({ min: 0, max: 3, noNaN: true }),
        ),
        ([c0, c1, corr, b0, b1, lambda]) => {
          const off = corr * Math.sqrt(c0 * c1);
          const C = [
            [c0, off],
            [off, c1],
          ];
          const N = [
            [1, 0.3],
            [0.3, 1],
          ];
          const r = solveQuadraticModel({ curvature: C, gram: N, grad: [b0, b1], damping: lambda });
          const damped = C.map((row, i) => row.map((v, j) => v + lambda * N[i][j]));
          const q = (x: number[]) => modelChange(x, damped, N, [b0, b1], 0);
          const best = q(r.coefficients);
          for (const [d0, d1] of [
            [1e-3, 0],
            [0, 1e-3],
            [-1e-3, 1e-3],
          ])
            expect(best).toBeLessThanOrEqual(q([r.coefficients[0] + d0, r.coefficients[1] + d1]) + 1e-12);
        },
      ),
    );
  });
  it('falls back to 1-D when the two directions are parallel (singular 2×2)', () => {
    const r = solveQuadraticModel({
      curvature: [
        [2, 4],
        [4, 8],
      ],
      gram: [
        [1, 2],
        [2, 4],
      ],
      grad: [1, 2],
      damping: 0,
    });
    expect(r.used).toBe(1);
    expect(r.coefficients).toEqual([0.5, 0]);
  });
  it('takes no step without positive curvature', () => {
    const r = solveQuadraticModel({ curvature: [[-1]], gram: [[1]], grad: [1], damping: 0 });
    expect(r.coefficients).toEqual([0]);
    expect(r.predicted).toBe(0);
  });
});

describe('reduction ratio and Levenberg–Marquardt damping', () => {
  it('ρ of an exact quadratic is 1', () => {
    // L(x) = x² − 4x from x = 0; step s = 2 predicted −4, actual L(2) − L(0) = −4.
    expect(reductionRatio(0, 4 - 8, -4)).toBe(1);
    expect(reductionRatio(10, 11, -4)).toBe(-0.25);
  });
  it('a non-finite ρ or no predicted decrease is NaN, a failure that raises λ', () => {
    expect(reductionRatio(0, Number.NaN, -1)).toBeNaN();
    expect(reductionRatio(0, -1, 0)).toBeNaN();
    const rule = { omega: 0.5, min: 1e-6, max: 1000 };
    expect(adaptDamping(10, Number.NaN, rule)).toBe(20);
  });
  it('λ ← ωλ above 0.75, λ/ω below 0.25, unchanged between, clipped to [min, max]', () => {
    const rule = { omega: 0.95 ** 5, min: 1e-6, max: 1000 };
    expect(adaptDamping(150, 0.9, rule)).toBeCloseTo(150 * 0.95 ** 5, 12);
    expect(adaptDamping(150, 0.1, rule)).toBeCloseTo(150 / 0.95 ** 5, 12);
    expect(adaptDamping(150, 0.5, rule)).toBe(150);
    expect(adaptDamping(999, -3, rule)).toBe(1000);
    expect(adaptDamping(1e-6, 1, rule)).toBe(1e-6);
  });
});
