/** Conv2d, embedding and layer norm: forward against direct definitions, backward against jax-js grad. */
import { grad, numpy as np, random } from '@jax-js/jax';
import { beforeAll, describe, expect, it } from 'vitest';
import { read, ready } from '../../test/jax-setup.js';
import type { CurvatureTap, Tensor } from '../backend/taps.js';
import { kfac } from '../optim/alias.js';
import { conv2dBackward, conv2dForward, type Padding } from './conv2d.js';
import { embeddingBackward, embeddingForward, layerNormBackward, layerNormForward } from './embedding.js';

beforeAll(async () => {
  await ready;
});

const maxDiff = (a: number[], b: number[]) => a.reduce((m, v, i) => Math.max(m, Math.abs(v - b[i])), 0);

/** Direct loops over the definition (host side). */
function convNaive(x: number[], xs: number[], w: number[], ws: number[], kind: Padding): number[] {
  const [B, C, H, W] = xs;
  const [O, , kh, kw] = ws;
  const p0 = kind === 'same' ? Math.floor((kh - 1) / 2) : 0;
  const p1 = kind === 'same' ? Math.floor((kw - 1) / 2) : 0;
  const Ho = kind === 'same' ? H : H - kh + 1;
  const Wo = kind === 'same' ? W : W - kw + 1;
  const out: number[] = [];
  for (let b = 0; b < B; b++)
    for (let o = 0; o < O; o++)
      for (let i = 0; i < Ho; i++)
        for (let j = 0; j < Wo; j++) {
          let s = 0;
          for (let c = 0; c < C; c++)
            for (let a = 0; a < kh; a++)
              for (let e = 0; e < kw; e++) {
                const r = i + a - p0;
                const q = j + e - p1;
                if (r >= 0 && r < H && q >= 0 && q < W)
                  s += w[((o * C + c) * kh + a) * kw + e] * x[((b * C + c) * H + r) * W + q];
              }
          out.push(s);
        }
  return out;
}

describe.each(['same', 'valid'] as const)('conv2d (%s padding)', (kind) => {
  it('forward matches the definition; backward matches jax-js grad', async () => {
    const x = random.normal(random.key(1), [2, 3, 5, 6]);
    const w = random.normal(random.key(2), [4, 3, 3, 2]);
    const { y, cache } = conv2dForward({ w: w.ref }, x.ref, kind);
    expect(maxDiff(read(y.ref), convNaive(read(x), x.shape, read(w), w.shape, kind))).toBeLessThan(1e-4);
    const target = random.normal(random.key(3), y.shape);
    // L = ½‖y − t‖²  ⇒  ∂L/∂y = y − t.
    const r = conv2dBackward({ w: w.ref }, cache, y.sub(target.ref));
    const f = (wk: Tensor, xin: Tensor) => {
      const out = conv2dForward({ w: wk }, xin, kind);
      out.cache.patches.dispose();
      return np.sum(np.square(out.y.sub(target.ref))).mul(0.5);
    };
    const [gw, gx] = grad(f, { argnums: [0, 1] })(w.ref, x.ref) as [Tensor, Tensor];
    expect(maxDiff(read(r.dw), read(gw))).toBeLessThan(1e-3);
    expect(maxDiff(read(r.dx!), read(gx))).toBeLessThan(1e-3);
    expect(r.tap.positions).toBe(kind === 'same' ? 30 : 3 * 5);
    // The tap reproduces the kernel gradient: dK = gᵀa / B.
    const fromTap = np.matmul(r.tap.g.ref.transpose(), r.tap.a.ref).div(2);
    expect(maxDiff(read(fromTap), read(r.dw))).toBeLessThan(1e-3);
  });
});

describe('K-FAC on a conv kernel', () => {
  it('preconditions the flattened kernel and returns the kernel shape', async () => {
    const x = random.normal(random.key(4), [2, 2, 4, 4]);
    const w = random.normal(random.key(5), [3, 2, 3, 3]);
    const { y, cache } = conv2dForward({ w: w.ref }, x, 'same');
    const r = conv2dBackward({ w: w.ref }, cache, y.mul(0.1), { needInput: false });
    const opt = kfac(0.1, { inverse: 'exact', damping: 1e-2 });
    const [u] = await opt.update({ 'conv.w': r.dw }, opt.init({}), {}, { taps: { 'conv.w': r.tap } });
    expect(u['conv.w'].shape).toEqual([3, 2, 3, 3]);
    expect(read(u['conv.w']).every(Number.isFinite)).toBe(true);
  });
});

describe('embedding and layer norm', () => {
  it('embedding gathers rows and scatters gradients back (repeated ids add up)', async () => {
    const E = np.array([
      [1, 2],
      [3, 4],
      [5, 6],
    ]);
    const ids = np.array([2, 0, 2], { dtype: np.int32 });
    const { y, cache } = embeddingForward(E.ref, ids);
    expect(read(y)).toEqual([5, 6, 1, 2, 5, 6]);
    const { dE, tap } = embeddingBackward(
      E,
      cache,
      np.array([
        [1, 1],
        [2, 2],
        [3, 3],
      ]),
    );
    expect(read(dE)).toEqual([2, 2, 0, 0, 4, 4]);
    expect(tap.transposed).toBe(true);
    // K-FAC on the table: Ā = diag(token frequencies) (+ damping), so u = Ād⁻¹ G Γd⁻¹ (MATH.md §1: a
    // table stored in×out is the transpose of the map).
    const opt = kfac(1, { inverse: 'exact', damping: 1e-2 });
    const [u] = await opt.update({ 'emb.w': dE.ref }, opt.init({}), {}, { taps: { 'emb.w': tap } });
    expect(u['emb.w'].shape).toEqual([3, 2]);
    // Token 1 never occurs: its row of the gradient is 0, and stays 0.
    expect(read(u['emb.w']).slice(2, 4).map(Math.abs)).toEqual([0, 0]);
  });
  it('layer norm backward matches jax-js grad', async () => {
    const x = random.normal(random.key(7), [3, 5]);
    const gain = random.normal(random.key(8), [5]);
    const bias = random.normal(random.key(9), [5]);
    const t = random.normal(random.key(10), [3, 5]);
    const { y, cache } = layerNormForward({ gain: gain.ref, bias: bias.ref }, x.ref);
    expect(maxDiff(read(np.mean(cache.xhat.ref, -1)), [0, 0, 0])).toBeLessThan(1e-5);
    const r = layerNormBackward({ gain: gain.ref, bias: bias.ref }, cache, y.sub(t.ref));
    const f = (xin: Tensor, gn: Tensor, bs: Tensor) => {
      const out = layerNormForward({ gain: gn, bias: bs }, xin);
      out.cache.xhat.dispose();
      out.cache.invStd.dispose();
      return np.sum(np.square(out.y.sub(t.ref))).mul(0.5);
    };
    const [gx, gg, gb] = grad(f, { argnums: [0, 1, 2] })(x, gain, bias) as [Tensor, Tensor, Tensor];
    expect(maxDiff(read(r.dx), read(gx))).toBeLessThan(1e-4);
    expect(maxDiff(read(r.dgain), read(gg))).toBeLessThan(1e-4);
    expect(maxDiff(read(r.dbias), read(gb))).toBeLessThan(1e-4);
    // The diagonal tap sums back to the gain gradient: Σᵢ perExampleᵢ / B = dgain.
    expect(maxDiff(read(np.sum(r.tap.perExample.ref, 0).div(3)), read(r.dgain.ref))).toBeLessThan(1e-5);
    expect(maxDiff(read(np.sum(r.biasTap.perExample, 0).div(3)), read(r.dbias.ref))).toBeLessThan(1e-5);
    // K-FAC's diagonal rule: u = G / (mean(perExample²) + λ) on the first step.
    const opt = kfac(1, { damping: 0.1 });
    const F = read(np.mean(np.square(r.tap.perExample.ref), 0));
    const G = read(r.dgain.ref);
    const [u] = await opt.update({ 'ln.gain': r.dgain }, opt.init({}), {}, { taps: { 'ln.gain': r.tap } });
    expect(
      maxDiff(
        read(u['ln.gain']),
        G.map((v, i) => -v / (F[i] + 0.1)),
      ),
    ).toBeLessThan(1e-5);
  });
});

describe('MNIST convnet', () => {
  it('backward equals jax-js grad, and taps exist for every conv and dense weight', async () => {
    const { mnistConvnet } = await import('./convnet.js');
    const { softmaxCrossEntropy } = await import('./losses.js');
    const params = mnistConvnet.init(3);
    const x = random.normal(random.key(11), [2, 1, 28, 28]);
    const t = np.array([3, 7], { dtype: np.int32 });
    const ours = mnistConvnet.lossAndGrads(params, x.ref, t.ref, softmaxCrossEntropy, {
      fisher: 'empirical',
    });
    const f = (p: Record<string, Tensor>) => softmaxCrossEntropy.value(mnistConvnet.predict(p, x.ref), t.ref);
    const auto = grad(f)(params) as Record<string, Tensor>;
    for (const k of Object.keys(auto))
      expect(maxDiff(read(ours.grads[k]), read(auto[k])), k).toBeLessThan(1e-4);
    expect(Object.keys(ours.taps!).sort()).toEqual(['conv1.w', 'conv2.w', 'fc.w']);
    expect((ours.taps!['conv2.w'] as CurvatureTap).positions).toBe(14 * 14);
  });
});
