/** Baseline optimizers against hand-computed steps. */
import { numpy as np } from '@jax-js/jax';
import { beforeAll, describe, expect, it } from 'vitest';
import { expectArrayClose, read, ready } from '../../test/jax-setup.js';
import { adam, adamw, momentum, sgd } from './alias.js';
import { applyUpdates, warmupCosineSchedule } from './base.js';
import type { ParamDict, SyncGradientTransformation } from './types.js';

beforeAll(async () => {
  await ready;
});

/** Two steps with gradients g1, g2 from params p; returns the params after each step. */
function twoSteps(
  opt: SyncGradientTransformation<unknown>,
  p: number[],
  g1: number[],
  g2: number[],
): number[][] {
  let params: ParamDict = { w: np.array(p) };
  let state = opt.init(params);
  const out: number[][] = [];
  for (const g of [g1, g2]) {
    const [u, s] = opt.update({ w: np.array(g) }, state, params);
    state = s;
    params = applyUpdates(params, u);
    out.push(read(params.w));
  }
  return out;
}

function close(a: number[], b: number[]): void {
  a.forEach((v, i) => {
    expect(Math.abs(v - b[i])).toBeLessThan(1e-6);
  });
}

describe('baseline optimizers (hand-computed steps)', () => {
  it('sgd: p − ηg', () => {
    const [s1, s2] = twoSteps(sgd(0.1), [1, 2], [1, -2], [3, 0]);
    close(s1, [0.9, 2.2]);
    close(s2, [0.6, 2.2]);
  });
  it('momentum: m = βm + g; Nesterov uses g + βm', () => {
    const [, h2] = twoSteps(momentum(0.1, { decay: 0.5 }), [0], [1], [1]);
    // m1 = 1 → p = −0.1; m2 = 0.5 + 1 = 1.5 → p = −0.25
    close(h2, [-0.25]);
    const [n1, n2] = twoSteps(momentum(0.1, { decay: 0.5, nesterov: true }), [0], [1], [1]);
    // step 1: m = 1, u = 1 + 0.5 = 1.5 → −0.15; step 2: m = 1.5, u = 1 + 0.75 = 1.75 → −0.325
    close(n1, [-0.15]);
    close(n2, [-0.325]);
  });
  it('adam: the first step is −η·sign(g) (up to ε); the second follows the bias-corrected moments', () => {
    const [a1, a2] = twoSteps(adam(0.1, { eps: 0 }), [1, 1], [2, -0.5], [1, -0.5]);
    close(a1, [0.9, 1.1]);
    // t = 2: m = 0.9·0.2 + 0.1·1 = 0.28 (×−0.05 for the second coordinate); m̂ = 0.28/0.19
    // v = 0.999·0.004 + 0.001·1 = 0.004996; v̂ = 0.004996/0.001999
    const mh = 0.28 / 0.19;
    const vh = 0.004996 / (1 - 0.999 ** 2);
    close(a2, [0.9 - (0.1 * mh) / Math.sqrt(vh), 1.2]);
  });
  it('adamw: decoupled weight decay adds ηλp', () => {
    const [w1] = twoSteps(adamw(0.1, { eps: 0, weightDecay: 0.5 }), [2], [1], [1]);
    // u = 1 + 0.5·2 = 2 → p = 2 − 0.2
    close(w1, [1.8]);
  });
  it('warm-up cosine schedule', () => {
    const s = warmupCosineSchedule(1, 2, 10);
    expect(s(0)).toBe(0.5);
    expect(s(1)).toBe(1);
    expect(s(6)).toBeCloseTo(0.5, 12);
    expect(s(10)).toBeCloseTo(0, 12);
  });
  it('keeps arrays alive exactly as long as needed (no use-after-free over several steps)', () => {
    const opt = adamw(0.01);
    let params: ParamDict = {
      w: np.array([
        [1, 2],
        [3, 4],
      ]),
    };
    let state = opt.init(params);
    for (let i = 0; i < 5; i++) {
      const [u, s] = opt.update({ w: np.onesLike(params.w.ref) }, state, params);
      state = s;
      params = applyUpdates(params, u);
    }
    expectArrayClose(
      params.w,
      [
        [1, 2],
        [3, 4],
      ]
        .flat()
        .map((v) => v),
      0.06,
    );
  });
});
