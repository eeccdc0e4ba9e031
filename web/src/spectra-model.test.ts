/** The spectra panel's numbers: what each update must do to the singular values. */
import { beforeAll, expect, it } from 'vitest';
import { initDevice } from '../../src/backend/device.js';
import { LAYER_COLS, spectraView, VARIANTS } from './spectra-model.js';

beforeAll(async () => {
  await initDevice('wasm');
});

it('Pion keeps the spectrum, spectral normalisation scales it to σ₁ = 1, Muon moves it', async () => {
  const view = await spectraView(3, 0.2);
  const of = (v: string) => view.layer.filter((p) => p.variant === v).map((p) => p.sigma);
  const [before, muon, pion, sn] = VARIANTS.map(of);
  expect(before).toHaveLength(LAYER_COLS);
  expect(before[0]).toBeCloseTo(2.5, 4); // s₀ = 2.5 (float32 round trip)
  pion.forEach((s, i) => {
    expect(s).toBeCloseTo(before[i], 4);
  });
  expect(view.pionDrift).toBeLessThan(1e-4);
  expect(sn[0]).toBeCloseTo(1, 3);
  sn.forEach((s, i) => {
    expect(s / before[i]).toBeCloseTo(1 / before[0], 3);
  });
  // Muon's update has all singular values equal to lr: by Weyl, each σᵢ moves by at most 0.2.
  const moved = muon.map((s, i) => Math.abs(s - before[i]));
  expect(Math.max(...moved)).toBeLessThanOrEqual(0.2 + 1e-3);
  expect(Math.max(...moved)).toBeGreaterThan(1e-3);
});

it('the conv spectrum has 8·8·3 values and ‖conv‖_F = 8·‖K‖_F', async () => {
  const { conv } = await spectraView(0, 0.1);
  expect(conv.values).toHaveLength(192);
  const sumSq = conv.values.reduce((s, v) => s + v * v, 0);
  expect(Math.sqrt(sumSq)).toBeCloseTo(conv.frobeniusNorm, 8);
  expect(conv.values[0]).toBeCloseTo(conv.operatorNorm, 12);
});

it('refuses a bad learning rate with a clear message', async () => {
  await expect(spectraView(0, -1)).rejects.toThrow(/learning rate must be a positive number/);
});
