/** The jit-compiled forward/backward equals the eager one, taps and their fields included. */
import { numpy as np, random } from '@jax-js/jax';
import { beforeAll, describe, expect, it } from 'vitest';
import { read, ready } from '../../test/jax-setup.js';
import { softmaxCrossEntropy } from '../nn/losses.js';
import { charTransformer } from '../nn/transformer.js';
import type { CurvatureTap, DiagonalTap } from '../optim/types.js';
import { eagerLossAndGrads, jitLossAndGrads, jitPredict } from './jit-step.js';

beforeAll(async () => {
  await ready;
});

const maxDiff = (a: number[], b: number[]) => a.reduce((m, v, i) => Math.max(m, Math.abs(v - b[i])), 0);

describe('jit-compiled step', () => {
  it('gives the eager loss, gradients and taps (true Fisher, same key), on repeated calls', () => {
    const model = charTransformer({ vocab: 9, context: 5, width: 8, heads: 2, layers: 1 });
    const params = model.init(2);
    const eager = eagerLossAndGrads(model, softmaxCrossEntropy, 'true');
    const jitted = jitLossAndGrads(model, softmaxCrossEntropy, 'true');
    for (const seed of [1, 2]) {
      const batch = () => [
        random.randint(random.key(seed), { minval: 0, maxval: 9, shape: [3, 5] }).astype(np.float32),
        random.randint(random.key(seed + 10), { minval: 0, maxval: 9, shape: [15] }),
        random.key(seed + 20),
      ];
      const [x1, t1, k1] = batch();
      const [x2, t2, k2] = batch();
      const a = eager(params, x1, t1, k1);
      const b = jitted(params, x2, t2, k2);
      expect(Math.abs(read(a.loss)[0] - read(b.loss)[0])).toBeLessThan(1e-4);
      for (const k of Object.keys(a.grads))
        expect(maxDiff(read(a.grads[k]), read(b.grads[k])), k).toBeLessThan(1e-4);
      expect(Object.keys(b.taps!).sort()).toEqual(Object.keys(a.taps!).sort());
      const [ea, ja] = [a.taps!['tok.emb'] as CurvatureTap, b.taps!['tok.emb'] as CurvatureTap];
      expect(ja.transposed).toBe(true);
      expect(maxDiff(read(ea.g), read(ja.g))).toBeLessThan(1e-4);
      const [eg, jg] = [a.taps!['lnf.gain'] as DiagonalTap, b.taps!['lnf.gain'] as DiagonalTap];
      expect(maxDiff(read(eg.perExample), read(jg.perExample))).toBeLessThan(1e-4);
    }
    const x = random.randint(random.key(7), { minval: 0, maxval: 9, shape: [2, 5] }).astype(np.float32);
    const predicted = jitPredict(model)(params, x.ref);
    expect(maxDiff(read(predicted), read(model.predict(params, x)))).toBeLessThan(1e-4);
  });
});
