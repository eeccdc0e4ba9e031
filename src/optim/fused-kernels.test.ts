/**
 * The fused optimizer passes against the jax-js transformations they stand for (adam, momentum of
 * optim/alias.ts, over several steps) to f32 tolerance, and against their scalar references.
 */
import { numpy as np } from '@jax-js/jax';
import { describe, expect, it } from 'vitest';
import { ready } from '../../test/jax-setup.js';
import { f32Workspace } from '../linalg/wasm/runtime.js';
import { adam, momentum } from './alias.js';
import { applyUpdates } from './base.js';
import { adamReference, fusedAdamStep, fusedMomentumStep, momentumReference } from './fused-kernels.js';
import type { ParamDict } from './types.js';

function values(n: number, seed: number, scale = 1): Float32Array {
  let s = seed;
  return Float32Array.from({ length: n }, () => {
    s = (Math.imul(s, 1664525) + 1013904223) >>> 0;
    return (s / 2 ** 31 - 1) * scale;
  });
}

function worstRelative(got: Float32Array, want: Float32Array): number {
  let scale = 1e-6;
  let worst = 0;
  for (let i = 0; i < want.length; i++) {
    scale = Math.max(scale, Math.abs(want[i]));
    worst = Math.max(worst, Math.abs(got[i] - want[i]));
  }
  return worst / scale;
}

/** The jax-js optimizer on one parameter vector for `steps` steps of the given gradients. */
function viaJax(
  kind: 'adam' | 'momentum',
  p0: Float32Array,
  grads: Float32Array[],
  lr: number,
): Float32Array {
  const opt = kind === 'adam' ? adam(lr) : momentum(lr, { decay: 0.9 });
  let params: ParamDict = { w: np.array(p0) };
  let state = opt.init(params);
  for (const g of grads) {
    const [u, next] = opt.update({ w: np.array(g) }, state, params);
    state = next;
    params = applyUpdates(params, u);
  }
  const out = params.w.dataSync() as Float32Array;
  return Float32Array.from(out);
}

describe('fused optimizer passes', () => {
  for (const kind of ['adam', 'momentum'] as const)
    it.each([1, 7, 1001])(
      `${kind}: n = %i, three steps, against jax-js and the scalar reference`,
      async (n) => {
        await ready;
        const lr = kind === 'adam' ? 1e-2 : 5e-2;
        const p0 = values(n, n);
        const grads = [1, 2, 3].map((s) => values(n, 100 * n + s, 10 ** (s - 2)));
        const ws = f32Workspace(4 * 4 * (n + 16))!;
        expect(ws).not.toBeNull();
        const ptr = (k: number) => ws.base + k * 4 * (Math.ceil(n / 16) * 16);
        const buf = { p: ptr(0), g: ptr(1), m: ptr(2), v: ptr(3) };
        const heap = () => ws.heap();
        heap().set(p0, buf.p / 4);
        heap().fill(0, buf.m / 4, buf.m / 4 + n);
        heap().fill(0, buf.v / 4, buf.v / 4 + n);
        const [p, m, v] = [Float32Array.from(p0), new Float32Array(n), new Float32Array(n)];
        grads.forEach((g, t) => {
          heap().set(g, buf.g / 4);
          if (kind === 'adam') {
            fusedAdamStep(ws, buf, n, t + 1, { lr });
            adamReference(p, g, m, v, t + 1, { lr });
          } else {
            fusedMomentumStep(ws, buf, n, { lr, decay: 0.9 });
            momentumReference(p, g, m, { lr, decay: 0.9 });
          }
        });
        const fused = heap().slice(buf.p / 4, buf.p / 4 + n);
        // The kernel and its reference round alike, operation for operation.
        expect(worstRelative(fused, p)).toBeLessThan(1e-6);
        expect(worstRelative(heap().slice(buf.m / 4, buf.m / 4 + n), m)).toBeLessThan(1e-6);
        // And both follow the jax-js transformation to f32 tolerance (and moved the parameters).
        const jax = viaJax(kind, p0, grads, lr);
        expect(worstRelative(fused, jax)).toBeLessThan(1e-5);
        expect(worstRelative(fused, p0)).toBeGreaterThan(1e-3);
      },
    );
});
