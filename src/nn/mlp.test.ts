/** The MLP's per-layer activations, initialisations and forward-mode tangents. */
import { jvp, numpy as np, random } from '@jax-js/jax';
import fc from 'fast-check';
import { beforeAll, describe, expect, it } from 'vitest';
import { read, ready } from '../../test/jax-setup.js';
import type { ParamDict, Tensor } from '../backend/taps.js';
import { fisherGram } from './fisher.js';
import type { Activation } from './layers.js';
import { sigmoidCrossEntropy } from './losses.js';
import { initMlp, layerActivation, type MlpSpec, mlpForward, mlpLossAndGrads } from './mlp.js';
import { mlpModel } from './model.js';

beforeAll(async () => {
  await ready;
});

const randomDirection = (params: ParamDict, seed: number): ParamDict => {
  let key = random.key(seed);
  const d: ParamDict = {};
  for (const [k, p] of Object.entries(params)) {
    const [k1, k2] = random.split(key, 2) as unknown as [Tensor, Tensor];
    key = k1;
    d[k] = random.normal(k2, p.shape);
  }
  key.dispose();
  return d;
};

describe('MLP', () => {
  it('per-layer activations: a linear code layer between tanh layers', () => {
    const spec: MlpSpec = { sizes: [4, 3, 2, 3, 4], activations: ['tanh', 'identity', 'tanh'] };
    expect([0, 1, 2, 3].map((i) => layerActivation(spec, i))).toEqual([
      'tanh',
      'identity',
      'tanh',
      'identity',
    ]);
    expect(mlpModel(spec).description).toBe('MLP 4-3-2-3-4 (tanh,identity,tanh)');
    const params = initMlp(spec, 0);
    const { out, caches } = mlpForward(params, random.normal(random.key(1), [5, 4]), spec);
    // The code layer (layer 1) has no cache: identity.
    expect(caches.map((c) => c.kind)).toEqual(['tanh', 'identity', 'tanh', 'identity']);
    expect(caches[1].act).toBeNull();
    out.dispose();
    for (const c of caches) {
      c.dense.dispose();
      c.act?.dispose();
    }
  });

  it('Glorot-uniform weights lie in ±√(6/(fan_in + fan_out)) and fill it; biases are zero', () => {
    const params = initMlp({ sizes: [300, 200, 10], init: 'glorot-uniform' }, 3);
    const w = read(params['fc0.w']);
    const r = Math.sqrt(6 / 500);
    expect(Math.max(...w.map(Math.abs))).toBeLessThanOrEqual(r);
    expect(Math.max(...w.map(Math.abs))).toBeGreaterThan(0.99 * r);
    const variance = w.reduce((s, v) => s + v * v, 0) / w.length;
    expect(Math.abs(variance - r ** 2 / 3) / (r ** 2 / 3)).toBeLessThan(0.02);
    expect(read(params['fc0.b']).every((v) => v === 0)).toBe(true);
  });

  it("Martens' sparse initialisation: 15 non-zero incoming weights per unit (all of them when fan-in is smaller)", () => {
    const params = initMlp({ sizes: [100, 20, 10], init: 'sparse' }, 4);
    const w0 = read(params['fc0.w']);
    for (let r = 0; r < 20; r++)
      expect(w0.slice(r * 100, (r + 1) * 100).filter((v) => v !== 0).length).toBe(15);
    const w1 = read(params['fc1.w']);
    for (let r = 0; r < 10; r++)
      expect(w1.slice(r * 20, (r + 1) * 20).filter((v) => v !== 0).length).toBe(15);
    const small = initMlp({ sizes: [6, 3], init: 'sparse' }, 1);
    expect(read(small['fc0.w']).filter((v) => v !== 0).length).toBe(18);
  });

  it('tangents from the kept forward pass equal jax-js jvp (property)', () => {
    const acts: Activation[] = ['tanh', 'relu', 'sigmoid', 'identity'];
    fc.assert(
      fc.property(
        fc.array(fc.integer({ min: 1, max: 5 }), { minLength: 2, maxLength: 4 }),
        fc.array(fc.constantFrom(...acts), { minLength: 3, maxLength: 3 }),
        fc.integer({ min: 0, max: 1000 }),
        (sizes, activations, seed) => {
          const spec: MlpSpec = { sizes, activations };
          const params = initMlp(spec, seed);
          // Non-zero biases: with zero ones, a one-wide layer after a dead ReLU feeds the next ReLU
          // exactly 0, its kink, where jax-js's jvp of maximum takes ½ and the tangents take 0.
          Object.keys(params)
            .filter((k) => k.endsWith('.b'))
            .forEach((k, i) => {
              const b = params[k];
              params[k] = b.add(random.normal(random.key(seed + 7 + i), b.shape).mul(0.1));
            });
          const x = random.normal(random.key(seed + 1), [3, sizes[0]]);
          const t = random.uniform(random.key(seed + 2), [3, sizes.at(-1)!]);
          const d = randomDirection(params, seed + 3);
          const r = mlpLossAndGrads(params, x.ref, t, spec, sigmoidCrossEntropy, { keepForward: true });
          const [mine] = r.forward!.tangents([d]);
          const model = mlpModel(spec);
          const [, want] = jvp((p: ParamDict) => model.predict(p, x.ref), [params], [d]) as [Tensor, Tensor];
          const a = read(mine);
          const b = read(want);
          for (const [i, v] of a.entries())
            expect(Math.abs(v - b[i])).toBeLessThan(1e-4 * Math.max(1, Math.abs(b[i])));
          mine.dispose();
          want.dispose();
          r.forward!.dispose();
          r.loss.dispose();
          r.sse?.dispose();
          for (const v of [...Object.values(r.grads), ...Object.values(d), ...Object.values(params)])
            v.dispose();
          x.dispose();
        },
      ),
      { numRuns: 15 },
    );
  });

  it('fisherGram: the 2×2 matrix of dᵢᵀFdⱼ by polarisation equals the direct bilinear form', async () => {
    const z = random.normal(random.key(1), [4, 3]);
    const t1 = random.normal(random.key(2), [4, 3]);
    const t2 = random.normal(random.key(3), [4, 3]);
    const [zs, a, b] = [read(z), read(t1), read(t2)];
    const M = await fisherGram(sigmoidCrossEntropy, z, [t1, t2]);
    // F = diag(σ(1 − σ)) per output, averaged over the 4 rows.
    const s = zs.map((v) => 1 / (1 + Math.exp(-v)));
    const form = (u: number[], v: number[]) =>
      u.reduce((acc, ui, i) => acc + s[i] * (1 - s[i]) * ui * v[i], 0) / 4;
    expect(M[0][0]).toBeCloseTo(form(a, a), 5);
    expect(M[0][1]).toBeCloseTo(form(a, b), 5);
    expect(M[1][0]).toBe(M[0][1]);
    expect(M[1][1]).toBeCloseTo(form(b, b), 5);
    z.dispose();
  });

  it('the sigmoid cross-entropy squared error is mean Σ(σ(z) − t)²', () => {
    const z = np.array([
      [0, 2],
      [-1, 0],
    ]);
    const t = np.array([
      [1, 1],
      [0, 0.5],
    ]);
    const s = (v: number) => 1 / (1 + Math.exp(-v));
    const want = ((s(0) - 1) ** 2 + (s(2) - 1) ** 2 + s(-1) ** 2 + (s(0) - 0.5) ** 2) / 2;
    expect(read(sigmoidCrossEntropy.squaredError!(z, t))[0]).toBeCloseTo(want, 6);
  });
});
