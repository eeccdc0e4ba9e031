/** Routing, Muon in K-FAC metrics, spectral normalisation and the finite-gradient guard. */
import { numpy as np, random } from '@jax-js/jax';
import { beforeAll, describe, expect, it } from 'vitest';
import { read, ready } from '../../test/jax-setup.js';
import { singularValues } from '../linalg/svd.js';
import { adamw, muon, muonKfac } from './alias.js';
import { applyUpdates } from './base.js';
import { polarNewtonSchulz } from './matrix-functions.js';
import { multiTransform, routeAll, routeOf, routingTable } from './partition.js';
import { guardFinite, projectSpectralNorm } from './projections.js';
import type { ParamDict } from './types.js';

beforeAll(async () => {
  await ready;
});

const maxDiff = (a: number[], b: number[]) => a.reduce((m, v, i) => Math.max(m, Math.abs(v - b[i])), 0);

describe('routing', () => {
  it('sends hidden matrices and conv kernels to the matrix method, the rest to AdamW', async () => {
    expect(routeOf('fc0.w', [4, 3])).toBe('matrix');
    expect(routeOf('conv1.w', [8, 3, 3, 3])).toBe('matrix');
    expect(routeOf('fc0.b', [4])).toBe('adamw');
    expect(routeOf('ln.gain', [4])).toBe('adamw');
    expect(routeOf('tok_emb', [100, 16])).toBe('adamw');
    expect(routeOf('lm_head.w', [100, 16])).toBe('adamw');
    expect(routeOf('fc2.w', [10, 4], { head: ['fc2.w'] })).toBe('adamw');
    expect(routeOf('fc1.w', [10, 4], { rules: [{ match: /fc1/, label: 'sgd' }] })).toBe('sgd');
    expect(routeOf('x', [3, 3], { rules: [{ match: (_n, s) => s[0] === 3, label: 'special' }] })).toBe(
      'special',
    );
  });
  it('runs one optimizer per label and prints who got what', async () => {
    const params: ParamDict = { 'fc0.w': np.ones([3, 2]), 'fc0.b': np.ones([3]), 'fc1.w': np.ones([2, 3]) };
    const labels = routeAll(params, { head: ['fc1.w'] });
    expect(labels).toEqual({ 'fc0.w': 'matrix', 'fc0.b': 'adamw', 'fc1.w': 'adamw' });
    const opt = multiTransform({ matrix: muon(0.1), adamw: adamw(0.1, { weightDecay: 0 }) }, labels);
    const state = opt.init(params);
    const g = {
      'fc0.w': np.array([
        [1, 0],
        [0, 2],
        [0, 0],
      ]),
      'fc0.b': np.array([1, -1, 0]),
      'fc1.w': np.ones([2, 3]),
    };
    const [u] = await opt.update(g, state, params);
    // AdamW's first step is −lr·sign(g); Muon's has unit-order singular values.
    expect(maxDiff(read(u['fc0.b']), [-0.1, 0.1, 0])).toBeLessThan(1e-6);
    expect(u['fc0.w'].shape).toEqual([3, 2]);
    const table = routingTable(params, labels, { matrix: 'muon', adamw: 'adamw' });
    expect(table).toMatch(/fc0\.w\s+3×2\s+muon/);
    expect(table).toMatch(/fc1\.w\s+2×3\s+adamw/);
    expect(() => multiTransform({ matrix: muon(0.1) }, labels).init(params)).toThrow(
      /label 'adamw' of 'fc0\.b' has no transformation/,
    );
  });
});

describe('Muon in K-FAC metrics', () => {
  it('with identity factors (Ā = Γ = I) is the Newton–Schulz polar factor', async () => {
    // Taps whose second moments are exactly the identity: a, g = √B·(rows of I) for B = dim.
    const a = np.eye(3).mul(Math.sqrt(3));
    const gTap = np.eye(2).mul(Math.sqrt(2));
    const G = np.array([
      [1, 2, 0],
      [0.5, -1, 3],
    ]);
    const opt = muonKfac(1, { damping: 1e-12, biasOf: () => undefined });
    // Batches of different sizes for a and g are fine for the factors; pad g to B = 3 rows.
    const g3 = np.concatenate([gTap, np.zeros([1, 2])], 0).mul(Math.sqrt(3 / 2));
    const [u] = await opt.update({ 'fc.w': G.ref }, opt.init({}), {}, { taps: { 'fc.w': { a, g: g3 } } });
    // muon-kfac runs Muon's schedule, Polar Express.
    const expected = read(polarNewtonSchulz(G, 5, 'polar-express').mul(-1));
    expect(maxDiff(read(u['fc.w']), expected)).toBeLessThan(1e-3);
  });
});

describe('spectral normalisation', () => {
  it('brings σ₁ down to the bound with the persistent power-iteration vector, and leaves small weights alone', async () => {
    const W = random.normal(random.key(3), [6, 4]).mul(3);
    const opt = projectSpectralNorm({ maxNorm: 1 });
    let params: ParamDict = { w: W, small: np.eye(2).mul(0.5) };
    let state = opt.init(params);
    for (let step = 0; step < 30; step++) {
      const [u, s] = await opt.update({ w: np.zeros([6, 4]), small: np.zeros([2, 2]) }, state, params);
      state = s;
      params = applyUpdates(params, u);
    }
    const wm = { rows: 6, cols: 4, re: Float64Array.from(read(params.w)), im: null };
    expect(singularValues(wm)[0]).toBeLessThan(1 + 1e-3);
    expect(singularValues(wm)[0]).toBeGreaterThan(0.99);
    expect(read(params.small)).toEqual([0.5, 0, 0, 0.5]);
  });
});

describe('finite-gradient guard', () => {
  it('names the parameter with a NaN gradient', async () => {
    const t = guardFinite();
    await expect(t.update({ ok: np.ones([2]), 'fc1.w': np.array([1, Number.NaN]) }, null)).rejects.toThrow(
      /gradient of 'fc1\.w' has NaN or Inf/,
    );
    const [u] = await t.update({ ok: np.ones([2]) }, null);
    expect(read(u.ok)).toEqual([1, 1]);
  });
});
