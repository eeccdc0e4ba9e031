/**
 * Preconditioners that are choices of geometry (MATH.md §6, §8, §9), for 2-D weight matrices stored
 * out×in (a map ℝⁱⁿ → ℝᵒᵘᵗ). Entries that are not 2-D (or 4-D conv kernels, for Muon) pass through
 * unchanged: route them to another optimizer (see partition.ts).
 */
import { defaultDevice, numpy as np } from '@jax-js/jax';
import { readScalars } from '../backend/read.js';
import {
  type NewtonSchulzSchedule,
  type NewtonSchulzScheduleName,
  resolveSchedule,
} from '../linalg/matfun.js';
import { mapDict } from './base.js';
import { cayleyNewtonSchulz, type PolarCoefficients, polarNewtonSchulz } from './matrix-functions.js';
import type { GradientTransformation, ParamDict, SyncGradientTransformation, Tensor } from './types.js';

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
 *
 * On the CPU devices the Cayley transform is a linear solve. On WebGPU, where jax-js's solve is a
 * slow LU, it is a Newton–Schulz inverse whose length comes from ‖H‖_F (one read per step for all
 * layers, so the update is asynchronous there).
 */
export function pion({ lr, side = 'both' }: PionOptions): GradientTransformation<null> {
  const skew = (M: Tensor) => M.ref.sub(M.transpose()).mul(lr / 2);
  return {
    init: () => null,
    update(grads, state, params) {
      // H = ηΩ/2 per rotated side of each 2-D weight.
      const sides: Record<string, { left?: Tensor; right?: Tensor }> = {};
      for (const [name, g] of Object.entries(grads)) {
        const A = params?.[name];
        if (g.shape.length !== 2 || !A) continue;
        sides[name] = {
          left: side !== 'right' ? skew(np.matmul(g.ref, A.ref.transpose())) : undefined,
          right: side !== 'left' ? skew(np.matmul(A.ref.transpose(), g.ref)) : undefined,
        };
      }
      const rotate = (cayley: (H: Tensor) => Tensor): [ParamDict, null] => {
        const out = mapDict(grads, (g, name) => {
          const s = sides[name];
          if (!s) return g;
          const A = params?.[name] as Tensor;
          let next = A.ref;
          if (s.left) next = np.matmul(cayley(s.left), next);
          if (s.right) next = np.matmul(next, cayley(s.right));
          g.dispose();
          return next.sub(A.ref);
        });
        return [out, state];
      };
      if (defaultDevice() !== 'webgpu') return rotate(cayleySolve);
      const hs = Object.values(sides).flatMap((s) => [s.left, s.right].filter((h) => h !== undefined));
      return readScalars(hs.map((h) => np.sum(np.square(h.ref)))).then((normsSq) => {
        const normOf = new Map(hs.map((h, i) => [h, normsSq[i]]));
        return rotate((H) => cayleyNewtonSchulz(H, normOf.get(H) ?? Number.NaN));
      });
    },
  };
}

/** (I + H)⁻¹(I − H) by a linear solve. Consumes H. */
function cayleySolve(H: Tensor): Tensor {
  const n = H.shape[0];
  return np.linalg.solve(np.eye(n).add(H.ref), np.eye(n).sub(H));
}
