/**
 * Shampoo (MATH.md §8): per weight G (out×in), statistics L = Σ G Gᵀ and R = Σ Gᵀ G, and the step
 * L^{−1/4} G R^{−1/4}. With one step's statistics it is the polar factor U Qᵀ of G — Muon's direction.
 * Inverse fourth roots come from the coupled Newton iteration (matmul-only), refreshed every
 * `updateEvery` steps with damping ε·(tr/dim)·I. The step is grafted to Adam's: rescaled per weight
 * to the Frobenius norm Adam's update would have, which fixes its size (Shampoo fixes the direction).
 */
import { numpy as np } from '@jax-js/jax';
import { type AdamState, scaleByAdam } from './base.js';
import { inverseRootNewton } from './matrix-functions.js';
import type { GradientTransformation, ParamDict, Tensor } from './types.js';

export interface ShampooOptions {
  /** Statistics decay β₂ (1 = plain sums, the original Shampoo; default 1). */
  beta2?: number;
  /** Relative damping ε: the roots are of L + ε(tr L/dim)I (default 1e-6). */
  eps?: number;
  /** Refresh the inverse roots every this many steps (default 10). */
  updateEvery?: number;
  /** Graft the step size to Adam's (default true). */
  graft?: boolean;
}

interface ShampooState {
  count: number;
  L: ParamDict;
  R: ParamDict;
  Lroot: ParamDict;
  Rroot: ParamDict;
  adam: AdamState;
}

function dampedRoot(S: Tensor, eps: number, name: string): Tensor {
  const n = S.shape[0];
  const scale = (np.trace(S.ref).dataSync() as Float32Array)[0] / n;
  return inverseRootNewton(S.add(np.eye(n).mul(eps * scale + 1e-30)), 4, { name });
}

export function scaleByShampoo({
  beta2 = 1,
  eps = 1e-6,
  updateEvery = 10,
  graft = true,
}: ShampooOptions = {}): GradientTransformation<ShampooState> {
  const adam = scaleByAdam();
  return {
    init: (params) => ({ count: 0, L: {}, R: {}, Lroot: {}, Rroot: {}, adam: adam.init(params) }),
    update(grads, state) {
      const s = {
        count: state.count + 1,
        L: { ...state.L },
        R: { ...state.R },
        Lroot: { ...state.Lroot },
        Rroot: { ...state.Rroot },
      };
      // Adam's update for grafting (its own state advances in step).
      const refs: ParamDict = {};
      for (const k of Object.keys(grads)) refs[k] = grads[k].ref;
      const [adamU, adamState] = adam.update(refs, state.adam);
      const out: ParamDict = {};
      for (const [name, g] of Object.entries(grads)) {
        if (g.shape.length !== 2) {
          // Not a matrix: Adam's step when grafting, else the gradient as is.
          if (graft) {
            g.dispose();
            out[name] = adamU[name];
          } else {
            adamU[name].dispose();
            out[name] = g;
          }
          continue;
        }
        const GGt = np.matmul(g.ref, g.ref.transpose());
        const GtG = np.matmul(g.ref.transpose(), g.ref);
        s.L[name] = state.L[name] ? state.L[name].mul(beta2).add(GGt) : GGt;
        s.R[name] = state.R[name] ? state.R[name].mul(beta2).add(GtG) : GtG;
        if (state.count % updateEvery === 0 || !state.Lroot[name]) {
          state.Lroot[name]?.dispose();
          state.Rroot[name]?.dispose();
          s.Lroot[name] = dampedRoot(s.L[name].ref, eps, `Shampoo ${name} (left statistic)`);
          s.Rroot[name] = dampedRoot(s.R[name].ref, eps, `Shampoo ${name} (right statistic)`);
        }
        const P = np.matmul(np.matmul(s.Lroot[name].ref, g), s.Rroot[name].ref);
        if (graft) {
          const ratio = np
            .sqrt(np.sum(np.square(adamU[name])))
            .div(np.sqrt(np.sum(np.square(P.ref))).add(1e-16));
          out[name] = P.mul(ratio);
        } else {
          adamU[name].dispose();
          out[name] = P;
        }
      }
      return [out, { ...s, adam: adamState }];
    },
  };
}
