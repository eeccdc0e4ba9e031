/**
 * Preconditioners that are choices of geometry (MATH.md §6, §8, §9), for 2-D weight matrices stored
 * out×in (a map ℝⁱⁿ → ℝᵒᵘᵗ). Entries that are not 2-D (or 4-D conv kernels, for Muon) pass through
 * unchanged: route them to another optimizer (see partition.ts).
 */
import { numpy as np } from '@jax-js/jax';
import {
  type NewtonSchulzSchedule,
  type NewtonSchulzScheduleName,
  resolveSchedule,
} from '../linalg/matfun.js';
import { mapDict } from './base.js';
import { type PolarCoefficients, polarNewtonSchulz } from './matrix-functions.js';
import type { ParamDict, SyncGradientTransformation, Tensor } from './types.js';

/** Gram matrices of one weight's domain (V, in×in) and codomain (W, out×out); omitted = identity. */
export interface WeightGeometry {
  domain?: Tensor;
  codomain?: Tensor;
}

/**
 * The Riesz gradient W⁻¹ G V of each weight (MATH.md §6): steepest descent in ⟨S,T⟩ = tr(V⁻¹SᵀWT).
 * `geometry` gives each weight's Gram matrices (borrowed, not consumed). With identity Gram matrices
 * the gradient passes through untouched, so `frobenius` with V = W = I is `sgd` bit-for-bit.
 */
export function preconditionFrobenius(
  geometry: (name: string, shape: number[]) => WeightGeometry | null | undefined,
): SyncGradientTransformation<null> {
  return {
    init: () => null,
    update(grads, state) {
      const out = mapDict(grads, (g, name) => {
        if (g.shape.length !== 2) return g;
        const geo = geometry(name, g.shape);
        let u = g;
        if (geo?.codomain) u = np.linalg.solve(geo.codomain.ref, u);
        if (geo?.domain) u = np.matmul(u, geo.domain.ref);
        return u;
      });
      return [out, state];
    },
  };
}

/** Options of {@link scaleByMuon}: momentum, and the Newton–Schulz iteration for the polar factor. */
export interface MuonOptions {
  /** Momentum β (default 0.95). */
  beta?: number;
  /** Nesterov momentum (default true). */
  nesterov?: boolean;
  /**
   * The Newton–Schulz schedule (linalg/matfun.ts): 'polar-express' (default; converges to the polar
   * factor in five steps), 'quintic' (Keller Jordan's fixed (3.4445, −4.775, 2.0315): as fast, but
   * its singular values stay in roughly [0.7, 1.2]), 'cubic', or a schedule given as data.
   */
  polar?: NewtonSchulzScheduleName | NewtonSchulzSchedule;
  /** Newton–Schulz steps (default: the schedule's own, 5 for both Polar Express and the quintic). */
  steps?: number;
  /** One fixed (a, b, c) for every step, overriding `polar` (kept for existing callers). */
  coefficients?: PolarCoefficients;
}

/**
 * Muon's direction (MATH.md §8 with V = W = I): momentum, then the approximate polar factor of the
 * momentum by Newton–Schulz (Polar Express unless `polar` says otherwise), scaled by
 * √max(1, rows/cols). Conv kernels (out×in×kh×kw) are flattened to out×(in·kh·kw) and back.
 */
export function scaleByMuon({
  beta = 0.95,
  nesterov = true,
  polar = 'polar-express',
  steps,
  coefficients,
}: MuonOptions = {}): SyncGradientTransformation<{ m: ParamDict }> {
  // Resolved once, so that an unknown schedule name fails when the optimizer is built.
  const schedule = resolveSchedule(coefficients ?? polar);
  return {
    init: (params) => ({ m: mapDict(params, (p) => np.zerosLike(p.ref)) }),
    update(grads, state) {
      const m: ParamDict = { ...state.m };
      const out = mapDict(grads, (g, name) => {
        const shape = g.shape;
        if (shape.length !== 2 && shape.length !== 4) return g;
        m[name] = state.m[name].mul(beta).add(g.ref);
        let dir = m[name].ref;
        if (nesterov) dir = g.add(dir.mul(beta));
        else g.dispose();
        const rows = shape[0];
        const cols = shape.slice(1).reduce((a, b) => a * b, 1);
        const O = polarNewtonSchulz(dir.reshape([rows, cols]), steps, schedule);
        return O.mul(Math.sqrt(Math.max(1, rows / cols))).reshape(shape);
      });
      return [out, { m }];
    },
  };
}

/** Options of {@link pion}: the rotation's step size and on which side(s) it rotates. */
export interface PionOptions {
  /** Step size η of the rotation (the transform applies it itself: the map is not linear in η). */
  lr: number;
  /** Rotate on the left (output space), the right (input space) or both (default both). */
  side?: 'left' | 'right' | 'both';
}

/**
 * Spectrum-preserving update (MATH.md §9): A ← Q_L A Q_R with Q = cayley(−ηΩ) = (I + ηΩ/2)⁻¹(I − ηΩ/2),
 * Ω_L = G Aᵀ − A Gᵀ and Ω_R = Aᵀ G − Gᵀ A (skew, so Q is orthogonal and every singular value of A is
 * kept); each rotation decreases the loss to first order by η‖Ω‖²/2. Emits the update Q_L A Q_R − A,
 * already scaled: do not chain a learning-rate step after it.
 */
export function pion({ lr, side = 'both' }: PionOptions): SyncGradientTransformation<null> {
  const cayley = (Omega: Tensor): Tensor => {
    const n = Omega.shape[0];
    const half = Omega.mul(lr / 2);
    return np.linalg.solve(np.eye(n).add(half.ref), np.eye(n).sub(half));
  };
  return {
    init: () => null,
    update(grads, state, params) {
      const out = mapDict(grads, (g, name) => {
        const A = params?.[name];
        if (g.shape.length !== 2 || !A) return g;
        let next = A.ref;
        if (side !== 'right') {
          const GAt = np.matmul(g.ref, A.ref.transpose());
          next = np.matmul(cayley(GAt.ref.sub(GAt.transpose())), next);
        }
        if (side !== 'left') {
          const AtG = np.matmul(A.ref.transpose(), g.ref);
          next = np.matmul(next, cayley(AtG.ref.sub(AtG.transpose())));
        }
        g.dispose();
        return next.sub(A.ref);
      });
      return [out, state];
    },
  };
}
