/** Attention and the character transformer: definitions, causality, backward against jax-js grad. */
import { grad, numpy as np, random } from '@jax-js/jax';
import fc from 'fast-check';
import { beforeAll, describe, expect, it } from 'vitest';
import { read, ready } from '../../test/jax-setup.js';
import type { CurvatureTap, ParamDict, Tensor } from '../backend/taps.js';
import { kfac } from '../optim/alias.js';
import { applyUpdates } from '../optim/base.js';
import { attentionCoreBackward, attentionCoreForward } from './attention.js';
import { disposeTaps } from './fisher.js';
import { softmaxCrossEntropy } from './losses.js';
import { type CharTransformerSpec, charTransformer } from './transformer.js';

beforeAll(async () => {
  await ready;
});

const maxDiff = (a: number[], b: number[]) => a.reduce((m, v, i) => Math.max(m, Math.abs(v - b[i])), 0);

/** Host loops over the definition: O[t] = Σ_{s ≤ t} softmax_s(q_t·k_s/√d) v_s, per batch and head. */
function attentionNaive(q: number[], k: number[], v: number[], shape: number[]): number[] {
  const [B, H, T, d] = shape;
  const out = new Array<number>(q.length).fill(0);
  const at = (b: number, h: number, t: number) => ((b * H + h) * T + t) * d;
  for (let b = 0; b < B; b++)
    for (let h = 0; h < H; h++)
      for (let t = 0; t < T; t++) {
        const scores: number[] = [];
        for (let s = 0; s <= t; s++) {
          let dot = 0;
          for (let j = 0; j < d; j++) dot += q[at(b, h, t) + j] * k[at(b, h, s) + j];
          scores.push(dot / Math.sqrt(d));
        }
        const m = Math.max(...scores);
        const w = scores.map((x) => Math.exp(x - m));
        const z = w.reduce((x, y) => x + y, 0);
        for (let s = 0; s <= t; s++)
          for (let j = 0; j < d; j++) out[at(b, h, t) + j] += (w[s] / z) * v[at(b, h, s) + j];
      }
  return out;
}

describe('causal attention core', () => {
  it('forward matches the definition and backward matches jax-js grad (random shapes)', () => {
    fc.assert(
      fc.property(
        fc.integer({ min: 1, max: 2 }),
        fc.integer({ min: 1, max: 3 }),
        fc.integer({ min: 1, max: 5 }),
        fc.integer({ min: 1, max: 4 }),
        fc.integer({ min: 0, max: 1000 }),
        (B, H, T, d, seed) => {
          const shape = [B, H, T, d];
          const [q, k, v, t] = [0, 1, 2, 3].map((i) => random.normal(random.key(seed * 4 + i), shape));
          const { out, cache } = attentionCoreForward(q.ref, k.ref, v.ref);
          expect(maxDiff(read(out), attentionNaive(read(q), read(k), read(v), shape))).toBeLessThan(1e-4);
          // L = ½‖O − t‖²  ⇒  ∂L/∂O = O − t.
          const r = attentionCoreBackward(cache, out.sub(t.ref));
          const f = (qq: Tensor, kk: Tensor, vv: Tensor) => {
            const o = attentionCoreForward(qq, kk, vv);
            for (const c of Object.values(o.cache)) c.dispose();
            return np.sum(np.square(o.out.sub(t.ref))).mul(0.5);
          };
          const g = grad(f, { argnums: [0, 1, 2] })(q, k, v) as Tensor[];
          expect(maxDiff(read(r.dq), read(g[0]))).toBeLessThan(1e-3);
          expect(maxDiff(read(r.dk), read(g[1]))).toBeLessThan(1e-3);
          expect(maxDiff(read(r.dv), read(g[2]))).toBeLessThan(1e-3);
          t.dispose();
        },
      ),
      { numRuns: 12 },
    );
  });
});

const spec: CharTransformerSpec = { vocab: 11, context: 6, width: 8, heads: 2, layers: 2 };
const model = charTransformer(spec);
const ids = (seed: number, B: number) =>
  random
    .randint(random.key(seed), { minval: 0, maxval: spec.vocab, shape: [B, spec.context] })
    .astype(np.float32);

describe('character transformer', () => {
  it('is causal: changing a later character leaves earlier predictions unchanged', () => {
    const params = model.init(1);
    const x = read(ids(2, 1));
    const y = [...x];
    y[4] = (y[4] + 1) % spec.vocab;
    const out = (v: number[]) => read(model.predict(params, np.array(v).reshape([1, spec.context])));
    const [a, b] = [out(x), out(y)];
    const V = spec.vocab;
    expect(maxDiff(a.slice(0, 4 * V), b.slice(0, 4 * V))).toBeLessThan(1e-6);
    expect(maxDiff(a.slice(4 * V), b.slice(4 * V))).toBeGreaterThan(1e-4);
  });

  it('gradients of every parameter equal jax-js grad; taps reproduce the dense gradients', () => {
    const params = model.init(3);
    const x = ids(4, 3);
    const t = random.randint(random.key(5), { minval: 0, maxval: spec.vocab, shape: [3 * spec.context] });
    const ours = model.lossAndGrads(params, x.ref, t.ref, softmaxCrossEntropy, { fisher: 'empirical' });
    const f = (p: ParamDict) => softmaxCrossEntropy.value(model.predict(p, x.ref), t.ref);
    const auto = grad(f)(params) as ParamDict;
    expect(Object.keys(ours.grads).sort()).toEqual(Object.keys(params).sort());
    for (const k of Object.keys(auto)) {
      const scale = Math.max(1, ...read(auto[k]).map(Math.abs));
      expect(maxDiff(read(ours.grads[k]), read(auto[k])) / scale, k).toBeLessThan(1e-4);
    }
    // Every parameter has a tap; a dense tap gives back its weight gradient: dW = gᵀa / rows.
    expect(Object.keys(ours.taps!).sort()).toEqual(
      Object.keys(params)
        .filter((k) => !k.endsWith('.b'))
        .sort(),
    );
    const tap = ours.taps!['block1.mlp.fc1.w'] as CurvatureTap;
    const rows = 3 * spec.context;
    const fromTap = np.matmul(tap.g.ref.transpose(), tap.a.ref).div(rows);
    expect(maxDiff(read(fromTap), read(ours.grads['block1.mlp.fc1.w']))).toBeLessThan(1e-5);
  });

  it('K-FAC with every tap lowers the loss of a fixed batch', async () => {
    let params = model.init(6);
    const batch = () => [
      ids(7, 8),
      random.randint(random.key(8), { minval: 0, maxval: spec.vocab, shape: [8 * spec.context] }),
    ];
    const opt = kfac(0.2, { damping: 1e-2, klClip: 0.01 });
    let state = opt.init(params);
    const losses: number[] = [];
    for (let s = 0; s < 8; s++) {
      const [x, t] = batch();
      const r = model.lossAndGrads(params, x, t, softmaxCrossEntropy, { fisher: 'true', key: random.key(s) });
      losses.push(read(r.loss)[0]);
      const [u, next] = await opt.update(r.grads, state, params, { taps: r.taps });
      state = next;
      params = applyUpdates(params, u);
      disposeTaps(r.taps!);
    }
    expect(losses.every(Number.isFinite)).toBe(true);
    expect(losses[losses.length - 1]).toBeLessThan(losses[0] * 0.9);
  });
});
