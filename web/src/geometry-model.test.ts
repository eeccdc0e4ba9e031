/** The geometry panel's numbers: checked against their definitions, independently of riesz. */
import { describe, expect, it } from 'vitest';
import { NotPositiveDefiniteError } from '../../src/errors.js';
import {
  defaultMap,
  geometryView,
  PRESETS,
  presetGrams,
  responseEstimate,
  SERIES,
} from './geometry-model.js';

const quad = (M: number[][], x: number[]) =>
  M.reduce((s, r, i) => s + r.reduce((t, m, j) => t + x[i] * m * x[j], 0), 0);
const apply = (M: number[][], x: number[]) => M.map((r) => r.reduce((t, m, j) => t + m * x[j], 0));

describe.each([2, 3])('geometry view, n = %i', (n) => {
  it.each(PRESETS)('preset %s: curves, norms and gradients match their definitions', (preset) => {
    const A = defaultMap(n);
    const { V, W } = presetGrams(preset, n);
    const view = geometryView({ A, V, W });
    // Every point of the drawn V-circle has xᵀVx = 1 (in 2-D; in 3-D the points are on the great
    // circles' images, whose third coordinate is not drawn, so only n = 2 is checked point by point).
    if (n === 2) {
      for (const p of view.curves.filter((c) => c.curve === SERIES[0]))
        expect(quad(V, [p.x, p.y])).toBeCloseTo(1, 10);
      for (const p of view.curves.filter((c) => c.curve === SERIES[2]))
        expect(quad(W, [p.x, p.y])).toBeCloseTo(1, 10);
    }
    // ‖A‖²_{V,W} = tr(V⁻¹AᵀWA) = Σσᵢ², average response = that / n, σ₁ the largest.
    const sumSq = view.singularValues.reduce((s, v) => s + v * v, 0);
    expect(view.frobenius ** 2).toBeCloseTo(sumSq, 9);
    expect(view.averageResponse).toBeCloseTo(sumSq / n, 9);
    expect(view.sigma1).toBeCloseTo(view.singularValues[0], 9);
    expect(view.sigma1 ** 2).toBeGreaterThanOrEqual(view.averageResponse);
    // The maximiser is V-unit, and ‖Ax*‖_W = σ₁.
    expect(quad(V, view.maximiser)).toBeCloseTo(1, 9);
    expect(apply(A, view.maximiser)).toEqual(view.image.map((v) => expect.closeTo(v, 9)));
    expect(Math.sqrt(quad(W, view.image))).toBeCloseTo(view.sigma1, 9);
    // The Riesz gradient r satisfies V r = ∇f.
    const Vr = apply(V, view.rieszGradient);
    Vr.forEach((v, i) => {
      expect(v).toBeCloseTo(view.euclideanGradient[i], 9);
    });
  });
});

it('identity geometry: the norms are the classical Frobenius and spectral norms', () => {
  const A = [
    [3, 0],
    [0, 4],
  ];
  const { V, W } = presetGrams('identity', 2);
  const view = geometryView({ A, V, W });
  expect(view.frobenius).toBeCloseTo(5, 12);
  expect(view.averageResponse).toBeCloseTo(12.5, 12);
  expect(view.sigma1).toBeCloseTo(4, 12);
  expect(view.rieszGradient).toEqual(view.euclideanGradient);
});

it('the Monte Carlo estimate converges to ‖A‖²/n, its interval covering it', () => {
  const A = defaultMap(2);
  const { V, W } = presetGrams('anisotropic', 2);
  const exact = geometryView({ A, V, W }).averageResponse;
  const est = responseEstimate({ A, V, W }, 20000);
  expect(est.interval[0]).toBeLessThan(exact);
  expect(est.interval[1]).toBeGreaterThan(exact);
  expect(Math.abs(est.mean - exact) / exact).toBeLessThan(0.05);
});

it('a V that is not positive definite is refused with a typed error', () => {
  const V = [
    [1, 2],
    [2, 1],
  ];
  expect(() => geometryView({ A: defaultMap(2), V, W: presetGrams('identity', 2).W })).toThrow(
    NotPositiveDefiniteError,
  );
});
