/**
 * The one Newton–Schulz iteration (linalg/matfun.ts `newtonSchulzIterate`) and its schedules, on f64
 * host matrices and on float32 jax-js arrays (optim/matrix-functions.ts `polarNewtonSchulz`).
 * The iteration is a polynomial in the singular values, X = U p(Σ/(‖G‖_F·s + ε)) Vᴴ, so every claim
 * about a schedule is checked against the scalar recurrence on its own, and against the SVD's
 * polar factor.
 */
import { numpy as np } from '@jax-js/jax';
import { beforeAll, describe, expect, it } from 'vitest';
import { read, ready } from '../../test/jax-setup.js';
import { UsageError } from '../errors.js';
import { scaleByMuon } from '../optim/geometry-transforms.js';
import { polarNewtonSchulz } from '../optim/matrix-functions.js';
import { matmul } from './gemm.js';
import {
  NEWTON_SCHULZ_MUON,
  type NewtonSchulzCoefficients,
  newtonSchulzPolar,
  POLAR_EXPRESS,
  polar,
  QUINTIC_MUON,
  resolveSchedule,
} from './matfun.js';
import { conjTranspose, frobeniusNorm, type Matrix, maxAbsDiff, toNested, transpose } from './matrix.js';
import { Rng, randomNormal } from './random.js';
import { singularValues, svd } from './svd.js';

beforeAll(async () => {
  await ready;
});

// The coefficients as published (ANCHORS-KFAC.md; Amsel et al., arXiv 2505.16932), typed in again
// here so that a typo in the schedule's data cannot also be in its test.
const PUBLISHED: NewtonSchulzCoefficients[] = [
  [8.156554524902461, -22.48329292557795, 15.878769915207462],
  [4.042929935166739, -2.808917465908714, 0.5000178451051316],
  [3.8916678022926607, -2.772484153217685, 0.5060648178503393],
  [3.285753657755655, -2.3681294933425376, 0.46449024233003106],
  [2.3465413258596377, -1.7097828382687081, 0.42323551169305323],
];

const toJax = (M: Matrix) => np.array(toNested(M) as number[][]);
const fromJax = (x: np.Array): Matrix => {
  const [rows, cols] = x.shape;
  return { rows, cols, re: Float64Array.from(read(x)), im: null };
};
const device = (G: Matrix, steps: number | undefined, schedule: 'polar-express' | 'quintic') =>
  fromJax(polarNewtonSchulz(toJax(G), steps, schedule));
const spread = (X: Matrix) => Math.max(...Array.from(singularValues(X), (s) => Math.abs(s - 1)));

/** Scalar recurrence: where a singular value σ of G (with ‖G‖_F = fro) ends up. */
function scalarMap(coeffs: NewtonSchulzCoefficients[], x0: number): number {
  let x = x0;
  for (const [a, b, c] of coeffs) x = a * x + b * x ** 3 + c * x ** 5;
  return x;
}

// Well-conditioned test matrices, tall and wide (Gaussian, aspect ≥ 2: condition number below ~6).
const SHAPES = [
  [8, 16],
  [16, 8],
  [6, 24],
  [20, 10],
] as const;
const cases = () => {
  const rng = new Rng(2505);
  return SHAPES.map(([m, n]) => randomNormal(rng, m, n));
};

describe('Newton–Schulz schedules as data', () => {
  it('Polar Express is the published five steps from G/(1.02‖G‖_F + ε); the quintic repeats one triple', () => {
    expect(POLAR_EXPRESS.coefficients).toEqual(PUBLISHED);
    expect(POLAR_EXPRESS.normScale).toBe(1.02);
    expect(POLAR_EXPRESS.eps).toBeGreaterThan(0);
    expect(QUINTIC_MUON.coefficients).toEqual(Array(5).fill([3.4445, -4.775, 2.0315]));
    expect(resolveSchedule('polar-express')).toBe(POLAR_EXPRESS);
    expect(resolveSchedule(NEWTON_SCHULZ_MUON).coefficients).toEqual(QUINTIC_MUON.coefficients);
    expect(() => resolveSchedule('septic' as 'quintic')).toThrow(UsageError);
  });

  it('host f64 result is U p(Σ) Vᴴ with p the scalar recurrence (real and complex, tall and wide)', () => {
    const rng = new Rng(7);
    for (const complex of [false, true]) {
      for (const [m, n] of SHAPES) {
        const G = randomNormal(rng, m, n, complex);
        const X = newtonSchulzPolar(G, { schedule: 'polar-express' });
        const { U, s, V } = svd(G);
        const scale = frobeniusNorm(G) * POLAR_EXPRESS.normScale + POLAR_EXPRESS.eps;
        const k = s.length;
        const US = { ...U, re: U.re.slice(), im: U.im ? U.im.slice() : null };
        for (let i = 0; i < U.rows; i++) {
          for (let j = 0; j < k; j++) {
            const f = scalarMap(PUBLISHED, s[j] / scale);
            US.re[i * k + j] *= f;
            if (US.im) US.im[i * k + j] *= f;
          }
        }
        expect(maxAbsDiff(X, matmul(US, conjTranspose(V)))).toBeLessThan(1e-10);
      }
    }
  });

  it('the transpose trick: a tall G gives exactly the transpose of its wide transpose’s result', () => {
    const G = randomNormal(new Rng(3), 12, 5);
    const tall = newtonSchulzPolar(G, { schedule: 'polar-express' });
    const wide = newtonSchulzPolar(transpose(G), { schedule: 'polar-express' });
    expect(Array.from(tall.re)).toEqual(Array.from(transpose(wide).re));
  });

  it('a zero matrix stays zero (ε in the pre-normalisation), on the host and the device', () => {
    const Z: Matrix = { rows: 3, cols: 4, re: new Float64Array(12), im: null };
    expect(Array.from(newtonSchulzPolar(Z, { schedule: 'polar-express' }).re)).toEqual(Array(12).fill(0));
    expect(read(polarNewtonSchulz(np.zeros([4, 3]), undefined, 'polar-express'))).toEqual(Array(12).fill(0));
  });
});

describe('pre-normalisation', () => {
  it('the device result does not depend on the scale of G, up to 1e30 (no float32 overflow in ‖G‖_F)', () => {
    const G = randomNormal(new Rng(12), 6, 9);
    const unit = device(G, undefined, 'polar-express');
    for (const c of [10, 1e10, 1e30]) {
      const scaled = { ...G, re: G.re.map((v) => v * c) };
      expect(maxAbsDiff(device(scaled, undefined, 'polar-express'), unit), `scale ${c}`).toBeLessThan(1e-5);
    }
  });
});

describe('Polar Express converges to the polar factor', () => {
  it('five steps put every singular value in its equioscillation band [0.858, 1.142], for σ/‖G‖_F ≥ 1e-3', () => {
    // The scalar map's range over [1e-3, 1/1.02] is the schedule's guarantee, whatever the matrix.
    let lo = Number.POSITIVE_INFINITY;
    let hi = 0;
    for (let k = 0; k <= 20000; k++) {
      const y = scalarMap(PUBLISHED, 1e-3 + (k / 20000) * (1 / 1.02 - 1e-3));
      lo = Math.min(lo, y);
      hi = Math.max(hi, y);
    }
    expect(lo).toBeGreaterThan(0.858);
    expect(hi).toBeLessThan(1.142);
    for (const G of cases()) {
      for (const X of [newtonSchulzPolar(G, { schedule: 'polar-express' }), device(G, 5, 'polar-express')]) {
        for (const s of singularValues(X)) {
          expect(s).toBeGreaterThan(0.858 - 1e-4);
          expect(s).toBeLessThan(1.142 + 1e-4);
        }
      }
    }
  });

  it('and is closer to the exact polar factor than five quintic steps', () => {
    for (const G of cases()) {
      const P = polar(G);
      const pe = frobeniusNorm(diff(device(G, 5, 'polar-express'), P));
      const quintic = frobeniusNorm(diff(device(G, 5, 'quintic'), P));
      expect(pe).toBeLessThan(quintic);
    }
  });

  it('two more (cubic) steps bring f32 singular values within 1e-2 of 1, three more onto the polar factor', () => {
    for (const G of cases()) {
      expect(spread(device(G, 7, 'polar-express'))).toBeLessThan(1e-2);
      const X = device(G, 8, 'polar-express');
      expect(spread(X)).toBeLessThan(1e-3);
      expect(maxAbsDiff(X, polar(G))).toBeLessThan(1e-3);
      // f64: to rounding.
      expect(
        maxAbsDiff(newtonSchulzPolar(G, { schedule: 'polar-express', steps: 10 }), polar(G)),
      ).toBeLessThan(1e-12);
    }
  });
});

describe("Muon's fixed quintic (kept as an option)", () => {
  // Kept because it is what Muon was introduced and tuned with: five cheap steps whose steep slope at
  // 0 lifts small singular values fast. Its fixed point is not 1 (p(1) = 0.7), so the singular values
  // settle in a band around 1 and never converge, however many steps.
  it('lands singular values in roughly [0.5, 1.5] and does NOT converge with more steps', () => {
    for (const G of cases()) {
      for (const steps of [5, 10, 30]) {
        const X = newtonSchulzPolar(G, { schedule: 'quintic', steps });
        const s = singularValues(X);
        for (const v of s) {
          expect(v).toBeGreaterThan(0.5);
          expect(v).toBeLessThan(1.5);
        }
        expect(spread(X)).toBeGreaterThan(0.1);
        expect(maxAbsDiff(X, polar(G))).toBeGreaterThan(1e-2);
      }
    }
  });
});

describe('host f64 and device f32 run the same iteration', () => {
  it.each(['polar-express', 'quintic'] as const)('%s: agree to f32 tolerance', (schedule) => {
    for (const G of cases()) {
      const host = newtonSchulzPolar(G, { schedule });
      expect(maxAbsDiff(device(G, undefined, schedule), host)).toBeLessThan(1e-4);
    }
  });
  it('the device default stays the quintic for existing callers; Muon defaults to Polar Express', () => {
    const G = randomNormal(new Rng(9), 6, 10);
    expect(read(polarNewtonSchulz(toJax(G)))).toEqual(read(polarNewtonSchulz(toJax(G), 5, 'quintic')));
    const muonDirection = (opts: Parameters<typeof scaleByMuon>[0]) => {
      const t = scaleByMuon({ beta: 0, ...opts });
      const [u] = t.update({ w: toJax(G) }, t.init({ w: np.zeros([6, 10]) }));
      return read(u.w);
    };
    expect(muonDirection({})).toEqual(read(polarNewtonSchulz(toJax(G), 5, 'polar-express')));
    expect(muonDirection({ polar: 'quintic' })).toEqual(read(polarNewtonSchulz(toJax(G), 5, 'quintic')));
    expect(() => scaleByMuon({ polar: 'septic' as 'quintic' })).toThrow(UsageError);
  });
});

function diff(A: Matrix, B: Matrix): Matrix {
  return { rows: A.rows, cols: A.cols, re: A.re.map((v, k) => v - B.re[k]), im: null };
}
