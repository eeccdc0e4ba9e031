/**
 * The fused Adam, AdamW and momentum transformations (optim/fused.ts, behind `adam`, `adamw` and
 * `momentum`) against the eager jax-js chains they stand for: several steps on a dict of parameters
 * of several shapes give the same parameters and the same state, bit for bit (but for a one-element
 * array, which jax-js folds in f64: within an ulp there); the fused pass is what ran (the profiler
 * sees its kernel), the switch turns it off, and traced calls keep the eager chain.
 */
import { jit, numpy as np } from '@jax-js/jax';
import { afterEach, beforeAll, describe, expect, it } from 'vitest';
import { ready } from '../../test/jax-setup.js';
import { profileTotals, setProfiling } from '../backend/profile.js';
import { adam, adamw, momentum } from './alias.js';
import { applyUpdates, disposeTree, warmupCosineSchedule } from './base.js';
import { setFusedUpdates } from './fused.js';
import type { ParamDict, SyncGradientTransformation } from './types.js';

beforeAll(async () => {
  await ready;
});
afterEach(() => {
  setFusedUpdates(true);
  setProfiling(false);
});

function values(n: number, seed: number, scale = 1): Float32Array {
  let s = seed;
  return Float32Array.from({ length: n }, () => {
    s = (Math.imul(s, 1664525) + 1013904223) >>> 0;
    return (s / 2 ** 31 - 1) * scale;
  });
}

/** Weights, a bias, and a one-element bias (which jax-js keeps as a constant and folds in f64). */
const SHAPES: Record<string, number[]> = { 'fc0.w': [7, 20], 'fc0.b': [7], 'fc1.w': [3, 70], 'fc1.b': [1] };
const size = (s: number[]) => s.reduce((a, b) => a * b, 1);
const dict = (seed: number, scale = 1, keys = Object.keys(SHAPES)): ParamDict =>
  Object.fromEntries(
    keys.map((k, i) => [k, np.array(values(size(SHAPES[k]), seed + i, scale), { shape: SHAPES[k] })]),
  );

/** Every array leaf of a nested value, read (borrowed), in a stable order; numbers as they are. */
function leaves(x: unknown, path = ''): [string, number[] | number][] {
  if (typeof x === 'number') return [[path, x]];
  if (x instanceof np.Array) return [[path, Array.from(x.ref.dataSync() as Float32Array)]];
  if (x === null || typeof x !== 'object') return [];
  return Object.keys(x)
    .sort()
    .flatMap((k) => leaves((x as Record<string, unknown>)[k], `${path}/${k}`));
}

/** `steps` steps of the optimizer (the last one's gradients for fc0.* only): parameters and state. */
function run(opt: SyncGradientTransformation<unknown[]>, steps: number) {
  let params = dict(1);
  let state = opt.init(params);
  for (let t = 0; t < steps; t++) {
    const keys = t === steps - 1 ? ['fc0.w', 'fc0.b'] : Object.keys(SHAPES);
    const [u, next] = opt.update(dict(100 * (t + 1), 10 ** ((t % 3) - 2), keys), state, params);
    state = next;
    params = applyUpdates(params, u);
  }
  const out = { params: leaves(params), state: leaves(state) };
  disposeTree(params);
  disposeTree(state);
  return out;
}

const fusedCalls = () =>
  Object.entries(profileTotals())
    .filter(([name]) => name.endsWith('elementwise'))
    .reduce((a, [, t]) => a + t.calls, 0);

const KINDS: Record<string, () => SyncGradientTransformation<unknown[]>> = {
  adam: () => adam(1e-2),
  'adam, a schedule and other coefficients': () =>
    adam(warmupCosineSchedule(3e-2, 2, 6), { b1: 0.8, b2: 0.99, eps: 1e-6 }),
  adamw: () => adamw(1e-2, { weightDecay: 0.05 }),
  momentum: () => momentum(5e-2, { decay: 0.9 }),
  nesterov: () => momentum(5e-2, { decay: 0.8, nesterov: true }),
};

describe('fused optimizer transformations', () => {
  for (const [name, make] of Object.entries(KINDS))
    it(`${name}: six steps give the eager chain's parameters and state, bit for bit`, () => {
      setProfiling(true);
      const fused = run(make(), 6);
      const calls = fusedCalls();
      setProfiling(false);
      setFusedUpdates(false);
      setProfiling(true);
      const eager = run(make(), 6);
      const eagerCalls = fusedCalls();
      // The fused pass ran once per parameter and step (the last step has two), and only when on.
      expect(calls).toBe(5 * 4 + 2);
      expect(eagerCalls).toBe(0);
      expect(fused.state.map(([p]) => p)).toEqual(eager.state.map(([p]) => p));
      const [exact, oneElement] = [(p: string) => !p.endsWith('fc1.b'), (p: string) => p.endsWith('fc1.b')];
      expect(fused.params.filter(([p]) => exact(p))).toEqual(eager.params.filter(([p]) => exact(p)));
      expect(fused.state.filter(([p]) => exact(p))).toEqual(eager.state.filter(([p]) => exact(p)));
      const ones = [...fused.params, ...fused.state].filter(([p]) => oneElement(p));
      const want = [...eager.params, ...eager.state].filter(([p]) => oneElement(p));
      expect(ones.length).toBe(name.startsWith('adam') ? 3 : 2); // the parameter, and its moments
      ones.forEach(([, v], i) => {
        const [a, b] = [(v as number[])[0], (want[i][1] as number[])[0]];
        expect(Math.abs(a - b)).toBeLessThanOrEqual(2 ** -22 * Math.abs(b));
      });
      // The steps moved the parameters.
      const start = leaves(dict(1));
      expect(fused.params).not.toEqual(start);
    });

  it('takes the eager chain, consuming nothing first, when an array cannot be read synchronously', () => {
    // jax-js refuses a synchronous read while its worker pool still computes the array (in a
    // cross-origin-isolated page); a read that throws stands for that here.
    const opt = adam(1e-2);
    const want = (() => {
      setFusedUpdates(false);
      const params = dict(1);
      const [u, s] = opt.update(dict(9, 0.1), opt.init(params), params);
      setFusedUpdates(true);
      const out = leaves(u);
      disposeTree([u, s, params]);
      return out;
    })();
    const params = dict(1);
    const g = dict(9, 0.1);
    const refusing = g['fc1.w'];
    Object.defineProperty(refusing, 'dataSync', {
      value: () => {
        throw new Error('cannot read synchronously from a slot with async work');
      },
    });
    setProfiling(true);
    const [u, s] = opt.update(g, opt.init(params), params);
    expect(fusedCalls()).toBe(0);
    expect(leaves(u)).toEqual(want);
    // The arrays read before the refusal were borrowed, not consumed: the eager chain used them.
    expect(g['fc0.w'].refCount).toBe(0);
    disposeTree([u, s, params]);
  });

  it('keeps the eager chain under tracing (jit): the same update as outside it', () => {
    for (const make of [() => adam(1e-2), () => momentum(5e-2)]) {
      const params = dict(1);
      const g = np.array(values(140, 7, 0.1), { shape: [7, 20] });
      const opt = make();
      const state0 = opt.init(params);
      // Inside jit the gradients are tracers: the fused pass must not try to read them.
      setProfiling(true);
      const traced = jit((w: np.Array) => {
        // (The traced state is jax-js's to drop: disposeTree cannot walk tracers.)
        return opt.update({ 'fc0.w': w }, opt.init(params), params)[0]['fc0.w'];
      })(g.ref);
      expect(fusedCalls()).toBe(0);
      setProfiling(false);
      const [u, s] = opt.update({ 'fc0.w': g }, state0, params);
      const want = Array.from(u['fc0.w'].ref.dataSync() as Float32Array);
      const got = Array.from(traced.dataSync() as Float32Array);
      for (const [i, v] of got.entries())
        expect(Math.abs(v - want[i])).toBeLessThanOrEqual(1e-6 * Math.max(1e-3, Math.abs(want[i])));
      disposeTree([u, s, params]);
    }
  });
});
