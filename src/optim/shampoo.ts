/**
 * Shampoo (MATH.md §8): per weight G (out×in), statistics L = Σ G Gᵀ and R = Σ Gᵀ G, and the step
 * L^{−1/4} G R^{−1/4}. With one step's statistics it is the polar factor U Qᵀ of G — Muon's direction.
 * Inverse fourth roots come from a symmetric eigendecomposition in f64 on the host, refreshed every
 * `updateEvery` steps with damping ε·(tr/dim)·I (the coupled Newton iteration in float32 on the device
 * diverged on MNIST's statistics, and jax-js's Wasm matmul is slow on its 784×784 statistic). The step is grafted to Adam's: rescaled per weight
 * to the Frobenius norm Adam's update would have, which fixes its size (Shampoo fixes the direction).
 */
import { numpy as np } from '@jax-js/jax';
import { readScalar } from '../backend/read.js';
import { matmul } from '../linalg/gemm.js';
import { hermitianFunction } from '../linalg/matfun.js';
import { frobeniusNorm, type Matrix, transpose } from '../linalg/matrix.js';
import { type AdamState, scaleByAdam } from './base.js';
import { toDevice, toHost } from './host-arrays.js';
import { NumericalError } from './matrix-functions.js';
import type { GradientTransformation, ParamDict } from './types.js';

/** Options of {@link scaleByShampoo}: statistics decay, damping, refresh interval and grafting. */
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
  /** Statistics and their inverse fourth roots, on the host in f64 (see kfac-blocks.ts for why). */
  L: Record<string, Matrix>;
  R: Record<string, Matrix>;
  Lroot: Record<string, Matrix>;
  Rroot: Record<string, Matrix>;
  adam: AdamState;
}

/** (S + ε(tr S/n)I)^{−1/4} by a symmetric eigendecomposition in f64. */
function dampedRoot(S: Matrix, eps: number, name: string): Matrix {
  const n = S.rows;
  let tr = 0;
  for (let i = 0; i < n; i++) tr += S.re[i * n + i];
  for (let k = 0; k < S.re.length; k++) {
    if (!Number.isFinite(S.re[k])) throw new NumericalError(`${name} has NaN or Inf entries`);
  }
  const shift = eps * (tr / n) + 1e-30;
  return hermitianFunction(S, (lambda) => Math.max(lambda + shift, shift) ** -0.25);
}

function accumulate(prev: Matrix | undefined, next: Matrix, beta2: number): Matrix {
  if (!prev) return next;
  for (let k = 0; k < next.re.length; k++) next.re[k] += beta2 * prev.re[k];
  return next;
}

/**
 * Shampoo's direction L^{−1/4} G R^{−1/4} for every 2-D weight, grafted to Adam's size unless
 * `graft: false`; other parameters get Adam's step (or, without grafting, the gradient).
 * @throws NumericalError when a statistic has NaN or Inf entries.
 */
export function scaleByShampoo({
  beta2 = 1,
  eps = 1e-6,
  updateEvery = 10,
  graft = true,
}: ShampooOptions = {}): GradientTransformation<ShampooState> {
  const adam = scaleByAdam();
  return {
    init: (params) => ({ count: 0, L: {}, R: {}, Lroot: {}, Rroot: {}, adam: adam.init(params) }),
    async update(grads, state) {
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
        const G = await toHost(g);
        s.L[name] = accumulate(state.L[name], matmul(G, transpose(G)), beta2);
        s.R[name] = accumulate(state.R[name], matmul(transpose(G), G), beta2);
        if (state.count % updateEvery === 0 || !state.Lroot[name]) {
          s.Lroot[name] = dampedRoot(s.L[name], eps, `Shampoo ${name} (left statistic)`);
          s.Rroot[name] = dampedRoot(s.R[name], eps, `Shampoo ${name} (right statistic)`);
        }
        const P = matmul(matmul(s.Lroot[name], G), s.Rroot[name]);
        if (graft) {
          const adamNorm = Math.sqrt(await readScalar(np.sum(np.square(adamU[name]))));
          const pNorm = frobeniusNorm(P);
          for (let k = 0; k < P.re.length; k++) P.re[k] *= adamNorm / (pNorm + 1e-30);
        } else adamU[name].dispose();
        out[name] = toDevice(P);
      }
      return [out, { ...s, adam: adamState }];
    },
  };
}
