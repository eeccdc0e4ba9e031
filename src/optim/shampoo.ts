/**
 * Shampoo (MATH.md §8): per weight G (out×in), statistics L = Σ G Gᵀ and R = Σ Gᵀ G, and the step
 * L^{−1/4} G R^{−1/4}. With one step's statistics it is the polar factor U Qᵀ of G — Muon's direction.
 * The inverse fourth roots of L + ε(tr L/dim)I and R + ε(tr R/dim)I are refreshed every
 * `updateEvery` steps (shampoo-roots.ts):
 *
 * - on the CPU devices (the default there) the statistics and roots live on the host in f64, the
 *   roots from a symmetric eigendecomposition (jax-js's Wasm matmul is slow on MNIST's 784×784
 *   statistic, and f64 resolves the small damping);
 * - on WebGPU they are f32 jax-js arrays on the device, accumulated there, the roots from the
 *   coupled Newton iteration with an f32 check; a root that fails it is replaced by the f64 host
 *   root of that statistic, with a warning once per statistic. A first device version diverged on
 *   MNIST's statistics: ε = 1e-6 of the mean eigenvalue is below what f32 statistics resolve, and
 *   round-off left the damped statistic with negative eigenvalues, which the iteration amplifies.
 *   See shampoo-roots.ts for how the device path avoids that and what it falls back to.
 *
 * The step is grafted to Adam's: rescaled per weight to the Frobenius norm Adam's update would have,
 * which fixes its size (Shampoo fixes the direction). On the device the rescaling stays there (no
 * read); on the host the norms of all weights come back in one read.
 */
import { defaultDevice, numpy as np } from '@jax-js/jax';
import { readScalars } from '../backend/read.js';
import { matmul } from '../linalg/gemm.js';
import { frobeniusNorm, type Matrix, transpose } from '../linalg/matrix.js';
import { type AdamState, scaleByAdam } from './base.js';
import { toDevice, toHost } from './host-arrays.js';
import {
  type DeviceRootOutcome,
  type DeviceStatistic,
  dampedRoot,
  deviceDampedRoots,
} from './shampoo-roots.js';
import type { GradientTransformation, ParamDict, Tensor } from './types.js';

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
  /**
   * Where the statistics and roots live: 'host' (f64, eigendecomposition) or 'device' (f32 jax-js
   * arrays, coupled Newton iteration with the host root as fallback). Default: 'device' when jax-js's
   * default device is `webgpu` when the transformation is built, else 'host'.
   */
  roots?: 'host' | 'device';
  /**
   * On the device path, statistics wider than this take the f64 host root at each refresh (one read
   * of the statistic) instead of the device iteration, without a warning (default: none; the WebGPU
   * tests use it to keep software-GPU runs short).
   */
  deviceRootMax?: number;
  /** Called at each device refresh with what happened to each statistic (for measurements). */
  onDeviceRoot?: (name: string, outcome: DeviceRootOutcome) => void;
}

/** A statistic or root: an f64 host matrix (host path) or an f32 jax-js array (device path). */
type Stored = Matrix | Tensor;

interface ShampooState {
  count: number;
  /**
   * Statistics and their inverse fourth roots: f64 host matrices on the host path, f32 jax-js
   * arrays on the device path (a checkpoint of either resumes on either: they are converted).
   */
  L: Record<string, Stored>;
  R: Record<string, Stored>;
  Lroot: Record<string, Stored>;
  Rroot: Record<string, Stored>;
  adam: AdamState;
}

const isTensor = (x: Stored): x is Tensor => x instanceof np.Array;

/** A stored matrix on the host (consumes a jax-js array). */
async function onHost(x: Stored | undefined): Promise<Matrix | undefined> {
  return x === undefined || !isTensor(x) ? x : toHost(x);
}

/** A stored matrix on the device (an f32 copy of a host matrix). */
function onDevice(x: Stored | undefined): Tensor | undefined {
  return x === undefined || isTensor(x) ? x : toDevice(x);
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
  roots = defaultDevice() === 'webgpu' ? 'device' : 'host',
  deviceRootMax,
  onDeviceRoot,
}: ShampooOptions = {}): GradientTransformation<ShampooState> {
  const adam = scaleByAdam();
  return {
    init: (params) => ({ count: 0, L: {}, R: {}, Lroot: {}, Rroot: {}, adam: adam.init(params) }),
    async update(grads, state) {
      // Adam's update for grafting (its own state advances in step).
      const refs: ParamDict = {};
      for (const k of Object.keys(grads)) refs[k] = grads[k].ref;
      const [adamU, adamState] = adam.update(refs, state.adam);
      const out: ParamDict = {};
      const matrices: string[] = [];
      for (const [name, g] of Object.entries(grads)) {
        if (g.shape.length === 2) {
          matrices.push(name);
          continue;
        }
        // Not a matrix: Adam's step when grafting, else the gradient as is.
        if (graft) {
          g.dispose();
          out[name] = adamU[name];
        } else {
          adamU[name].dispose();
          out[name] = g;
        }
      }
      // The next statistics and roots start as the current ones; the step replaces what it updates.
      const s: Statistics = {
        count: state.count + 1,
        L: { ...state.L },
        R: { ...state.R },
        Lroot: { ...state.Lroot },
        Rroot: { ...state.Rroot },
      };
      await (roots === 'device' ? deviceStep : hostStep)(matrices, grads, adamU, state, s, out);
      return [out, { ...s, adam: adamState }];
    },
  };

  type Statistics = Omit<ShampooState, 'adam'>;

  /** The host path: f64 statistics and eigendecomposition roots; the graft norms in one read. */
  async function hostStep(
    names: string[],
    grads: ParamDict,
    adamU: ParamDict,
    state: ShampooState,
    s: Statistics,
    out: ParamDict,
  ): Promise<void> {
    const adamNorms = graft ? await readScalars(names.map((k) => np.sum(np.square(adamU[k])))) : [];
    if (!graft) for (const k of names) adamU[k].dispose();
    for (const [i, name] of names.entries()) {
      const G = await toHost(grads[name]);
      const [prevL, prevR] = [await onHost(state.L[name]), await onHost(state.R[name])];
      s.L[name] = accumulate(prevL, matmul(G, transpose(G)), beta2);
      s.R[name] = accumulate(prevR, matmul(transpose(G), G), beta2);
      let [Lroot, Rroot] = [await onHost(state.Lroot[name]), await onHost(state.Rroot[name])];
      if (state.count % updateEvery === 0 || !Lroot || !Rroot) {
        Lroot = dampedRoot(s.L[name] as Matrix, eps, `Shampoo ${name} (left statistic)`);
        Rroot = dampedRoot(s.R[name] as Matrix, eps, `Shampoo ${name} (right statistic)`);
      }
      s.Lroot[name] = Lroot;
      s.Rroot[name] = Rroot;
      const P = matmul(matmul(Lroot, G), Rroot);
      if (graft) {
        const adamNorm = Math.sqrt(adamNorms[i]);
        const pNorm = frobeniusNorm(P);
        for (let k = 0; k < P.re.length; k++) P.re[k] *= adamNorm / (pNorm + 1e-30);
      }
      out[name] = toDevice(P);
    }
  }

  /**
   * The device path: f32 statistics accumulated on the device, roots by the coupled Newton
   * iteration at refresh points (two reads for all weights, more only where a root falls back), the
   * preconditioned product and the grafting on the device (no read).
   */
  async function deviceStep(
    names: string[],
    grads: ParamDict,
    adamU: ParamDict,
    state: ShampooState,
    s: Statistics,
    out: ParamDict,
  ): Promise<void> {
    const refresh: DeviceStatistic[] = [];
    const targets: { name: string; side: 'Lroot' | 'Rroot' }[] = [];
    for (const name of names) {
      const g = grads[name];
      const GGt = np.matmul(g.ref, g.ref.transpose());
      const GtG = np.matmul(g.ref.transpose(), g.ref);
      const [prevL, prevR] = [onDevice(state.L[name]), onDevice(state.R[name])];
      const L = prevL ? prevL.mul(beta2).add(GGt) : GGt;
      const R = prevR ? prevR.mul(beta2).add(GtG) : GtG;
      s.L[name] = L;
      s.R[name] = R;
      s.Lroot[name] = onDevice(state.Lroot[name]) as Tensor;
      s.Rroot[name] = onDevice(state.Rroot[name]) as Tensor;
      if (state.count % updateEvery === 0 || !s.Lroot[name] || !s.Rroot[name]) {
        refresh.push(
          { S: L, name: `Shampoo ${name} (left statistic)` },
          { S: R, name: `Shampoo ${name} (right statistic)` },
        );
        targets.push({ name, side: 'Lroot' }, { name, side: 'Rroot' });
      }
    }
    if (refresh.length > 0) {
      let fresh: Tensor[];
      try {
        fresh = await deviceDampedRoots(refresh, eps, { maxDim: deviceRootMax, report: onDeviceRoot });
      } catch (e) {
        // The state is consumed: release what this step holds before the error leaves.
        for (const name of names) {
          for (const x of [s.L[name], s.R[name], s.Lroot[name], s.Rroot[name]])
            if (x && isTensor(x)) x.dispose();
          grads[name].dispose();
          adamU[name].dispose();
        }
        throw e;
      }
      for (const [k, { name, side }] of targets.entries()) {
        const old = s[side][name];
        if (old && isTensor(old)) old.dispose();
        s[side][name] = fresh[k];
      }
    }
    for (const name of names) {
      const P = np.matmul(
        np.matmul((s.Lroot[name] as Tensor).ref, grads[name]),
        (s.Rroot[name] as Tensor).ref,
      );
      if (graft) {
        const ratio = np
          .sqrt(np.sum(np.square(adamU[name])))
          .div(np.sqrt(np.sum(np.square(P.ref))).add(1e-30));
        out[name] = P.mul(ratio);
      } else {
        adamU[name].dispose();
        out[name] = P;
      }
    }
  }
}
