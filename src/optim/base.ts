/**
 * Building blocks shared by every optimizer: composition, applying updates, the learning-rate step
 * (the only place the sign flips), momentum, Adam's scaling and decoupled weight decay.
 * Hand-computed single steps are in base.test.ts.
 */
import { numpy as np } from '@jax-js/jax';
import type {
  GradientTransformation,
  ParamDict,
  SyncGradientTransformation,
  UpdateContext,
  UpdateResult,
} from './types.js';

/**
 * Runs transformations in order, each seeing the previous one's updates; state is a tuple. The chain
 * stays synchronous while its stages are: from the first stage that returns a promise on, the rest
 * run after it resolves and the chain returns a promise.
 */
export function chain(...ts: SyncGradientTransformation<unknown>[]): SyncGradientTransformation<unknown[]>;
export function chain(...ts: GradientTransformation<unknown>[]): GradientTransformation<unknown[]>;
export function chain(...ts: GradientTransformation<unknown>[]): GradientTransformation<unknown[]> {
  return {
    init: (params) => ts.map((t) => t.init(params)),
    update(grads, state, params, ctx): UpdateResult<unknown[]> {
      const next: unknown[] = [];
      const run = (from: number, u: ParamDict): UpdateResult<unknown[]> => {
        for (let i = from; i < ts.length; i++) {
          const r = ts[i].update(u, state[i], params, ctx);
          if (r instanceof Promise) {
            return r.then(([v, s]) => {
              next[i] = s;
              return run(i + 1, v);
            });
          }
          next[i] = r[1];
          u = r[0];
        }
        return [u, next];
      };
      return run(0, grads);
    },
  };
}

/** params + updates, name by name (consumes both). */
export function applyUpdates(params: ParamDict, updates: ParamDict): ParamDict {
  const out: ParamDict = {};
  for (const k of Object.keys(params)) out[k] = k in updates ? params[k].add(updates[k]) : params[k];
  return out;
}

/** Disposes every array in a dict (or nested state). */
export { disposeTree } from '../backend/taps.js';

/** A learning-rate schedule: step (0-based) → rate. */
export type Schedule = (step: number) => number;

/** The same rate `lr` at every step. */
export function constantSchedule(lr: number): Schedule {
  return () => lr;
}

/** Linear warm-up to `peak` over `warmup` steps, then cosine decay to `floor`·peak at `total`. */
export function warmupCosineSchedule(peak: number, warmup: number, total: number, floor = 0): Schedule {
  return (t) => {
    if (t < warmup) return (peak * (t + 1)) / warmup;
    const p = Math.min(1, (t - warmup) / Math.max(1, total - warmup));
    return peak * (floor + (1 - floor) * 0.5 * (1 + Math.cos(Math.PI * p)));
  };
}

/** The step counter lives on the host: schedules and bias corrections never read device arrays. */
export interface CountState {
  count: number;
}

/** u ← −lr(t)·u (the sign flip: updates are added to parameters). */
export function scaleByLearningRate(lr: number | Schedule): SyncGradientTransformation<CountState> {
  const schedule = typeof lr === 'number' ? constantSchedule(lr) : lr;
  return {
    init: () => ({ count: 0 }),
    update(grads, state) {
      const step = -schedule(state.count);
      return [mapDict(grads, (g) => g.mul(step)), { count: state.count + 1 }];
    },
  };
}

/** Options of {@link traceMomentum}. */
export interface TraceMomentumOptions {
  /** Momentum coefficient β (default 0.9). */
  decay?: number;
  /** Nesterov: u = g + β·m instead of m (default false). */
  nesterov?: boolean;
}

/** m ← β·m + g; u = m, or g + β·m with Nesterov. */
export function traceMomentum({
  decay = 0.9,
  nesterov = false,
}: TraceMomentumOptions = {}): SyncGradientTransformation<{
  m: ParamDict;
}> {
  return {
    init: (params) => ({ m: mapDict(params, (p) => np.zerosLike(p.ref)) }),
    update(grads, state) {
      const m: ParamDict = {};
      const u: ParamDict = {};
      for (const k of Object.keys(grads)) {
        const g = grads[k];
        m[k] = state.m[k].mul(decay).add(g.ref);
        if (nesterov) u[k] = g.add(m[k].ref.mul(decay));
        else {
          g.dispose();
          u[k] = m[k].ref;
        }
      }
      return [u, { m: { ...state.m, ...m } }];
    },
  };
}

/** Adam's coefficients: the moment decays b1 = β₁ (default 0.9) and b2 = β₂ (default 0.999), and
 * eps = ε (default 1e-8). */
export interface ScaleByAdamOptions {
  b1?: number;
  b2?: number;
  eps?: number;
}

/** {@link scaleByAdam}'s state: the step count and the first (mu) and second (nu) moment estimates. */
export interface AdamState {
  count: number;
  mu: ParamDict;
  nu: ParamDict;
}

/** Adam's scaling: m̂/(√v̂ + ε) with bias-corrected first and second moments. */
export function scaleByAdam({
  b1 = 0.9,
  b2 = 0.999,
  eps = 1e-8,
}: ScaleByAdamOptions = {}): SyncGradientTransformation<AdamState> {
  return {
    init: (params) => ({
      count: 0,
      mu: mapDict(params, (p) => np.zerosLike(p.ref)),
      nu: mapDict(params, (p) => np.zerosLike(p.ref)),
    }),
    update(grads, state) {
      const t = state.count + 1;
      const c1 = 1 - b1 ** t;
      const c2 = 1 - b2 ** t;
      const mu: ParamDict = {};
      const nu: ParamDict = {};
      const u: ParamDict = {};
      for (const k of Object.keys(grads)) {
        const g = grads[k];
        mu[k] = state.mu[k].mul(b1).add(g.ref.mul(1 - b1));
        nu[k] = state.nu[k].mul(b2).add(np.square(g).mul(1 - b2));
        u[k] = mu[k].ref.div(c1).div(np.sqrt(nu[k].ref.div(c2)).add(eps));
      }
      return [u, { count: t, mu: { ...state.mu, ...mu }, nu: { ...state.nu, ...nu } }];
    },
  };
}

/** u ← u + λ·p (decoupled weight decay when placed before the learning-rate step). */
export function addDecayedWeights(weightDecay: number): SyncGradientTransformation<null> {
  return {
    init: () => null,
    update(grads, state, params) {
      if (weightDecay === 0 || !params) return [grads, state];
      return [mapDict(grads, (g, k) => (k in params ? g.add(params[k].ref.mul(weightDecay)) : g)), state];
    },
  };
}

/** Applies f to every entry (f consumes its argument). */
export function mapDict(
  d: ParamDict,
  f: (x: ParamDict[string], name: string) => ParamDict[string],
): ParamDict {
  const out: ParamDict = {};
  for (const k of Object.keys(d)) out[k] = f(d[k], k);
  return out;
}

export type { UpdateContext };
