/**
 * The fused optimizer passes against the jax-js chains they stand for (adam, adamw, momentum of
 * optim/alias.ts, over several steps) and against their scalar references, on the raw kernels.
 */
import { numpy as np } from '@jax-js/jax';
import { describe, expect, it } from 'vitest';
import { ready } from '../../test/jax-setup.js';
import { f32Scratch } from '../linalg/wasm/runtime.js';
import {
  addDecayedWeights,
  applyUpdates,
  chain,
  scaleByAdam,
  scaleByLearningRate,
  traceMomentum,
} from './base.js';
import { adamReference, fusedAdamStep, fusedMomentumStep, momentumReference } from './fused-kernels.js';
import type { ParamDict, SyncGradientTransformation } from './types.js';

function values(n: number, seed: number, scale = 1): Float32Array {
  let s = seed;
  return Float32Array.from({ length: n }, () => {
    s = (Math.imul(s, 1664525) + 1013904223) >>> 0;
    return (s / 2 ** 31 - 1) * scale;
  });
}

type Kind = 'adam' | 'adamw' | 'momentum' | 'nesterov';
const LR = 1e-2;
const WD = 0.05;

/** The eager jax-js chain of each kind (built from the stages, not the possibly fused aliases). */
function eagerChain(kind: Kind): SyncGradientTransformation<unknown[]> {
  if (kind === 'adam') return chain(scaleByAdam(), scaleByLearningRate(LR));
  if (kind === 'adamw') return chain(scaleByAdam(), addDecayedWeights(WD), scaleByLearningRate(LR));
  return chain(traceMomentum({ decay: 0.9, nesterov: kind === 'nesterov' }), scaleByLearningRate(LR));
}

/** The eager chain on one parameter vector for the given gradients: the parameters after each step. */
function viaJax(kind: Kind, p0: Float32Array, grads: Float32Array[]): Float32Array[] {
  const opt = eagerChain(kind);
  let params: ParamDict = { w: np.array(p0) };
  let state = opt.init(params);
  const out: Float32Array[] = [];
  for (const g of grads) {
    const [u, next] = opt.update({ w: np.array(g) }, state, params);
    state = next;
    params = applyUpdates(params, u);
    out.push(Float32Array.from(params.w.ref.dataSync() as Float32Array));
  }
  params.w.dispose();
  return out;
}

/** p + u in f32, as applyUpdates adds. */
const plus = (p: Float32Array, u: Float32Array) => p.map((x, i) => Math.fround(x + u[i]));

describe('fused optimizer kernels', () => {
  for (const kind of ['adam', 'adamw', 'momentum', 'nesterov'] as const)
    it.each([1, 7, 1001])(
      `${kind}: n = %i, three steps, against the scalar reference and jax-js`,
      async (n) => {
        await ready;
        const p0 = values(n, n);
        const grads = [1, 2, 3].map((s) => values(n, 100 * n + s, 10 ** (s - 2)));
        const stride = Math.ceil(n / 16) * 16;
        const ws = f32Scratch(5 * 4 * stride);
        expect(ws).not.toBeNull();
        if (!ws) return;
        const ptr = (k: number) => ws.base + k * 4 * stride;
        const buf = { p: ptr(0), g: ptr(1), m: ptr(2), v: ptr(3), u: ptr(4) };
        const at = (b: number) => b / 4;
        ws.heap().fill(0, at(buf.m), at(buf.m) + n);
        ws.heap().fill(0, at(buf.v), at(buf.v) + n);
        let p = Float32Array.from(p0);
        const [m, v, u] = [new Float32Array(n), new Float32Array(n), new Float32Array(n)];
        const fused: Float32Array[] = [];
        grads.forEach((g, t) => {
          ws.heap().set(p, at(buf.p));
          ws.heap().set(g, at(buf.g));
          if (kind === 'adam' || kind === 'adamw') {
            const opts = { lr: LR, weightDecay: kind === 'adamw' ? WD : 0 };
            fusedAdamStep(ws.kernels, buf, n, t + 1, opts);
            adamReference(p, g, m, v, u, t + 1, opts);
          } else {
            const opts = { lr: LR, decay: 0.9, nesterov: kind === 'nesterov' };
            fusedMomentumStep(ws.kernels, buf, n, opts);
            momentumReference(g, m, u, opts);
          }
          const heap = ws.heap();
          // The kernel and its reference round alike, operation for operation: equal bit for bit.
          expect(heap.slice(at(buf.u), at(buf.u) + n)).toEqual(u);
          expect(heap.slice(at(buf.m), at(buf.m) + n)).toEqual(m);
          if (kind.startsWith('adam')) expect(heap.slice(at(buf.v), at(buf.v) + n)).toEqual(v);
          p = plus(p, u);
          fused.push(p);
        });
        // And the eager jax-js chain rounds as they do: the parameters agree bit for bit at every step
        // (a one-element array jax-js may compute inline in f64, so its last bit may differ).
        const jax = viaJax(kind, p0, grads);
        for (let t = 0; t < grads.length; t++) {
          if (n > 1) expect(fused[t]).toEqual(jax[t]);
          else expect(Math.abs(fused[t][0] - jax[t][0])).toBeLessThanOrEqual(2 ** -23 * Math.abs(jax[t][0]));
        }
        // The steps moved the parameters.
        expect(Math.max(...p.map((x, i) => Math.abs(x - p0[i])))).toBeGreaterThan(1e-3);
      },
    );
});
