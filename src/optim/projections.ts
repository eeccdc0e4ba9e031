/**
 * Projections and guards that complete an update: spectral normalisation of weights (MATH.md §9) and
 * the refusal of non-finite gradients (never a silent NaN update).
 */
import { numpy as np, random } from '@jax-js/jax';
import { mapDict } from './base.js';
import { NumericalError } from './matrix-functions.js';
import type { GradientTransformation, ParamDict, SyncGradientTransformation, Tensor } from './types.js';

/** Options of {@link projectSpectralNorm}: the bound on σ₁, power-iteration steps, and which weights. */
export interface SpectralNormOptions {
  /** The largest allowed σ₁ of each weight (default 1). */
  maxNorm?: number;
  /** Power-iteration steps per update (default 1: the vector persists between steps). */
  iterations?: number;
  /** Which weights to project (default: every 2-D parameter). */
  include?: (name: string, shape: number[]) => boolean;
}

/**
 * Keeps σ₁(W) ≤ maxNorm for each weight after the update: with W' = p + u, σ ≈ ‖W'v‖ from power
 * iteration on W'ᵀW' with a vector v kept in the state between steps (so one step per update
 * tracks σ₁ as the weights move), and the emitted update makes p + u' = W'·min(1, maxNorm/σ).
 * Place it last in a chain (after the learning-rate step). A network whose activations are
 * 1-Lipschitz then has Lipschitz constant at most the product of the maxNorms.
 */
export function projectSpectralNorm({
  maxNorm = 1,
  iterations = 1,
  include = (_n, shape) => shape.length === 2,
}: SpectralNormOptions = {}): SyncGradientTransformation<{ v: ParamDict }> {
  return {
    init(params) {
      const v: ParamDict = {};
      let seed = 0;
      for (const [k, p] of Object.entries(params)) {
        if (!include(k, p.shape)) continue;
        const x = random.normal(random.key(seed++), [p.shape[1], 1]);
        v[k] = x.ref.div(np.sqrt(np.sum(np.square(x))));
      }
      return { v };
    },
    update(updates, state, params) {
      const v: ParamDict = { ...state.v };
      const out = mapDict(updates, (u, name) => {
        const p = params?.[name];
        if (!p || !(name in state.v)) return u;
        const W = p.ref.add(u);
        let x: Tensor = state.v[name];
        for (let it = 0; it < iterations; it++) {
          const y = np.matmul(W.ref.transpose(), np.matmul(W.ref, x));
          x = y.ref.div(np.sqrt(np.sum(np.square(y))).add(1e-30));
        }
        const sigma = np.sqrt(np.sum(np.square(np.matmul(W.ref, x.ref))));
        v[name] = x;
        const factor = np.minimum(np.reciprocal(sigma.add(1e-30)).mul(maxNorm), 1);
        return W.mul(factor).sub(p.ref);
      });
      return [out, { v }];
    },
  };
}

/**
 * Refuses NaN/±Inf gradients, naming the parameter (reads every gradient's finiteness back to the
 * host in one asynchronous read per step, so its update returns a promise). Place it first in a chain.
 * @throws NumericalError (the promise rejects with it)
 */
export function guardFinite(): GradientTransformation<null> {
  return {
    init: () => null,
    async update(grads, state) {
      const names = Object.keys(grads);
      if (names.length === 0) return [grads, state];
      const flags = np.stack(names.map((k) => np.all(np.isfinite(grads[k].ref)).astype(np.int32)));
      const ok = (await flags.data()) as Int32Array;
      const bad = names.findIndex((_, i) => !ok[i]);
      if (bad >= 0) {
        for (const x of Object.values(grads)) x.dispose();
        throw new NumericalError(
          `the gradient of '${names[bad]}' has NaN or Inf entries (check the loss, the data and the learning rate)`,
        );
      }
      return [grads, state];
    },
  };
}
