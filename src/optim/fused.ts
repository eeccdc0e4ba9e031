/**
 * Adam, AdamW and momentum with their learning-rate step as one transformation that, on the CPU
 * devices, runs one fused WebAssembly pass per parameter (optim/fused-kernels.ts) instead of the
 * eager jax-js chain's ten or so elementwise operations: the gradient and moments are read out of
 * jax-js into scratch in the shared Wasm memory, the pass updates the moments and writes the update,
 * and the moments and the update are uploaded again.
 *
 * The transformation is the chain it stands for as far as anyone can see: the same `init`, the same
 * state (a tuple of the stages' states: Adam's count and moments as jax-js arrays, the learning
 * rate's count), so checkpoints written by either resume in the other, and the same updates: bit
 * for bit on the CPU devices, since the pass rounds as jax-js's f32 operations do. The one exception
 * is where jax-js does not compute in f32: it keeps an array of equal values under 128 long (any
 * one-element array) as a constant and folds operations on such constants in f64, so there the two
 * may differ in the last bit — and the eager chain's result then depends on whether the array came
 * from a checkpoint, which the pass's does not. The eager chain runs instead under tracing (jit,
 * grad), on WebGPU, for other dtypes, without the Wasm kernels, when jax-js will not read an array
 * synchronously (its worker pool still computing it, in a cross-origin-isolated page), and when the
 * pass is switched off ({@link setFusedUpdates}).
 */
import { numpy as np } from '@jax-js/jax';
import { phase } from '../backend/profile.js';
import { f32Scratch } from '../linalg/wasm/runtime.js';
import {
  type AdamState,
  addDecayedWeights,
  type CountState,
  chain,
  constantSchedule,
  type ScaleByAdamOptions,
  type Schedule,
  scaleByAdam,
  scaleByLearningRate,
  type TraceMomentumOptions,
  traceMomentum,
} from './base.js';
import { fusedAdamStep, fusedMomentumStep } from './fused-kernels.js';
import type { ParamDict, SyncGradientTransformation, Tensor } from './types.js';

let fusedOn = true;

/** Switches the fused pass on or off (off: the eager jax-js chain runs everywhere), e.g. to compare. */
export function setFusedUpdates(on: boolean): void {
  fusedOn = on;
}

/** Whether the fused pass is switched on (see {@link setFusedUpdates}). */
export function fusedUpdatesEnabled(): boolean {
  return fusedOn;
}

/** Concrete, non-empty float32 arrays on a CPU device (a tracer, a WebGPU array or another dtype is not). */
function onCpu(x: Tensor | undefined, size: number): boolean {
  return (
    x instanceof np.Array &&
    x.dtype === 'float32' &&
    x.size === size &&
    size > 0 &&
    (x.device === 'wasm' || x.device === 'cpu')
  );
}

/** The names of the gradients, when the pass can take every one of them (else null). */
function fusedKeys(grads: ParamDict, fits: (k: string, n: number) => boolean): string[] | null {
  const keys = Object.keys(grads);
  return fusedOn && keys.length > 0 && keys.every((k) => fits(k, grads[k].size)) ? keys : null;
}

/**
 * Host copies of each key's arrays (borrowed), or null when one cannot be read synchronously — where
 * jax-js has asynchronous work pending on it (its worker pool, in a cross-origin-isolated page): the
 * caller then takes the eager chain, with nothing consumed.
 */
function readAll(keys: string[], arraysOf: (k: string) => Tensor[]): Map<string, Float32Array[]> | null {
  return phase('from-jax', () => {
    const out = new Map<string, Float32Array[]>();
    for (const k of keys) {
      const data: Float32Array[] = [];
      for (const x of arraysOf(k)) {
        const borrowed = x.ref;
        try {
          data.push(borrowed.dataSync() as Float32Array);
        } catch {
          borrowed.dispose();
          return null;
        }
      }
      out.set(k, data);
    }
    return out;
  });
}

/** Copies a host array into the heap at element `at`. */
function copyIn(heap: () => Float32Array, at: number, data: Float32Array): void {
  phase('copies', () => heap().set(data, at));
}

/** Uploads n values from element `at` of the heap as a jax-js array of the given shape. */
function copyOut(heap: () => Float32Array, at: number, shape: number[]): Tensor {
  const n = shape.reduce((a, b) => a * b, 1);
  // np.array copies the view synchronously, so the scratch may be reused at once.
  return phase('to-jax', () => np.array(heap().subarray(at, at + n), { shape }));
}

/** The aligned element stride of the scratch's buffers for the largest of these arrays. */
const strideFor = (grads: ParamDict, keys: string[]) =>
  Math.ceil(Math.max(...keys.map((k) => grads[k].size)) / 16) * 16;

/** Options of {@link adamChain}: Adam's coefficients and, for AdamW, the decoupled weight decay. */
export interface AdamChainOptions extends ScaleByAdamOptions {
  /** λ of AdamW: the chain then has `addDecayedWeights(λ)` between Adam and the learning rate. */
  weightDecay?: number;
}

/**
 * `chain(scaleByAdam(opts), scaleByLearningRate(lr))`, or with `weightDecay` set
 * `chain(scaleByAdam(opts), addDecayedWeights(weightDecay), scaleByLearningRate(lr))` (AdamW), with
 * the fused pass on the CPU devices.
 */
export function adamChain(
  lr: number | Schedule,
  { weightDecay, ...opts }: AdamChainOptions = {},
): SyncGradientTransformation<unknown[]> {
  const schedule = typeof lr === 'number' ? constantSchedule(lr) : lr;
  const { b1 = 0.9, b2 = 0.999, eps = 1e-8 } = opts;
  const eager =
    weightDecay === undefined
      ? chain(scaleByAdam(opts), scaleByLearningRate(schedule))
      : chain(scaleByAdam(opts), addDecayedWeights(weightDecay), scaleByLearningRate(schedule));
  return {
    init: eager.init,
    update(grads, state, params, ctx) {
      const adamState = state[0] as AdamState;
      const rateState = state[state.length - 1] as CountState;
      const decayOf = (k: string) => (weightDecay && params && k in params ? weightDecay : 0);
      const keys = fusedKeys(
        grads,
        (k, n) =>
          onCpu(grads[k], n) &&
          onCpu(adamState.mu[k], n) &&
          onCpu(adamState.nu[k], n) &&
          (decayOf(k) === 0 || onCpu(params?.[k], n)),
      );
      const stride = keys ? strideFor(grads, keys) : 0;
      const ws = keys ? f32Scratch(5 * 4 * stride) : null;
      if (!keys || !ws) return eager.update(grads, state, params, ctx);
      const data = readAll(keys, (k) => [
        grads[k],
        adamState.mu[k],
        adamState.nu[k],
        ...(decayOf(k) !== 0 ? [params![k]] : []),
      ]);
      if (!data) return eager.update(grads, state, params, ctx);
      const shapes = new Map(keys.map((k) => [k, grads[k].shape]));
      for (const k of keys) for (const x of [grads[k], adamState.mu[k], adamState.nu[k]]) x.dispose();
      const u: ParamDict = {};
      const [P, G, M, V, U] = [0, 1, 2, 3, 4].map((i) => ws.base / 4 + i * stride);
      const t = adamState.count + 1;
      const lrNow = schedule(rateState.count);
      const mu: ParamDict = {};
      const nu: ParamDict = {};
      for (const k of keys) {
        const shape = shapes.get(k)!;
        const n = data.get(k)![0].length;
        const wd = decayOf(k);
        const [g, m, v, p] = data.get(k)!;
        copyIn(ws.heap, G, g);
        copyIn(ws.heap, M, m);
        copyIn(ws.heap, V, v);
        if (wd !== 0) copyIn(ws.heap, P, p);
        phase('elementwise', () =>
          fusedAdamStep(ws.kernels, { p: 4 * P, g: 4 * G, m: 4 * M, v: 4 * V, u: 4 * U }, n, t, {
            lr: lrNow,
            b1,
            b2,
            eps,
            weightDecay: wd,
          }),
        );
        mu[k] = copyOut(ws.heap, M, shape);
        nu[k] = copyOut(ws.heap, V, shape);
        u[k] = copyOut(ws.heap, U, shape);
      }
      const next: unknown[] = [
        { count: t, mu: { ...adamState.mu, ...mu }, nu: { ...adamState.nu, ...nu } },
        ...state.slice(1, -1),
        { count: rateState.count + 1 },
      ];
      return [u, next];
    },
  };
}

/** `chain(traceMomentum(opts), scaleByLearningRate(lr))` with the fused pass on the CPU devices. */
export function momentumChain(
  lr: number | Schedule,
  { decay = 0.9, nesterov = false }: TraceMomentumOptions = {},
): SyncGradientTransformation<unknown[]> {
  const schedule = typeof lr === 'number' ? constantSchedule(lr) : lr;
  const eager = chain(traceMomentum({ decay, nesterov }), scaleByLearningRate(schedule));
  return {
    init: eager.init,
    update(grads, state, params, ctx) {
      const [traceState, rateState] = state as [{ m: ParamDict }, CountState];
      const keys = fusedKeys(grads, (k, n) => onCpu(grads[k], n) && onCpu(traceState.m[k], n));
      const stride = keys ? strideFor(grads, keys) : 0;
      const ws = keys ? f32Scratch(3 * 4 * stride) : null;
      if (!keys || !ws) return eager.update(grads, state, params, ctx);
      const data = readAll(keys, (k) => [grads[k], traceState.m[k]]);
      if (!data) return eager.update(grads, state, params, ctx);
      const shapes = new Map(keys.map((k) => [k, grads[k].shape]));
      for (const k of keys) for (const x of [grads[k], traceState.m[k]]) x.dispose();
      const u: ParamDict = {};
      const [G, M, U] = [0, 1, 2].map((i) => ws.base / 4 + i * stride);
      const lrNow = schedule(rateState.count);
      const m: ParamDict = {};
      for (const k of keys) {
        const shape = shapes.get(k)!;
        const n = data.get(k)![0].length;
        const [gData, mData] = data.get(k)!;
        copyIn(ws.heap, G, gData);
        copyIn(ws.heap, M, mData);
        phase('elementwise', () =>
          fusedMomentumStep(ws.kernels, { g: 4 * G, m: 4 * M, u: 4 * U }, n, { lr: lrNow, decay, nesterov }),
        );
        m[k] = copyOut(ws.heap, M, shape);
        u[k] = copyOut(ws.heap, U, shape);
      }
      return [u, [{ m: { ...traceState.m, ...m } }, { count: rateState.count + 1 }]];
    },
  };
}
