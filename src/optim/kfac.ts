/**
 * K-FAC as a choice of inner products (MATH.md §7): for a dense layer s = W a (+ b), W out×in, the
 * Fisher block is approximated by Ā ⊗ Γ with Ā = E[a aᵀ] (inputs, a bias folded in as a trailing 1)
 * and Γ = E[g gᵀ] (pre-activation gradients; sampled targets give the true Fisher — the taps decide).
 * The step is the Riesz gradient with V = Ā⁻¹ and W = Γ, damped in factored Tikhonov form:
 *   u = (Γ + √λ/π I)⁻¹ G (Ā + π√λ I)⁻¹,   π² = (tr Ā / dim Ā) / (tr Γ / dim Γ).
 * Factors are exponential moving averages refreshed every `factorEvery` steps; inverses every
 * `inverseEvery` steps, by warm-started Newton–Schulz (matmul-only) with an exact fallback.
 * Embedding tables (stored V×D, taps with one-hot inputs, `transposed`) get the same rule, whose
 * input factor is then diagonal (token frequencies); vector parameters with per-example gradient
 * taps (layer-norm gains) get the diagonal rule u = G/(F + λ), F = EMA of E[gᵢ²].
 * Weights without curvature taps pass through unchanged (route them to another optimizer).
 */
import { numpy as np } from '@jax-js/jax';
import { UsageError } from '../errors.js';
import {
  accumulateFactors,
  type HostLayer,
  preconditionHost,
  refreshHost,
  toDevice,
  toHost,
  traceOf,
} from './kfac-host.js';
import {
  inverseNewtonSchulz,
  inverseRootNewton,
  NumericalError,
  polarNewtonSchulz,
} from './matrix-functions.js';
import type { GradientTransformation, ParamDict, Tensor } from './types.js';

export interface KfacOptions {
  /** Tikhonov damping λ (default 1e-2; MNIST MLP with lr 0.1: 1e-3 diverges without a KL clip). */
  damping?: number;
  /** EMA decay of the factors (default 0.95). */
  decay?: number;
  factorEvery?: number;
  inverseEvery?: number;
  /**
   * Refresh the inverses at every one of the first this-many steps (default 0), while the factors
   * still change fast, instead of keeping the first batch's inverses for `inverseEvery` steps.
   */
  inverseWarmup?: number;
  /**
   * How the damped factors are inverted: 'host' (default) — f64 Cholesky by riesz's own kernels, read
   * back from and uploaded to the device every `inverseEvery` steps; 'newton-schulz' — warm-started,
   * matmul-only, on the device; 'exact' — jax-js's inverse. On the CPU, jax-js's matmul is slow on
   * untidy factor sizes such as 785×785 (bench/kernels), which makes the device paths costly there.
   */
  inverse?: InverseMethod;
  /** The bias that belongs to a weight (folded into Ā); default: 'x.w' ↦ 'x.b' when present. */
  biasOf?: (weight: string) => string | undefined;
  /**
   * 'natural' (default): the Riesz gradient Γ⁻¹GĀ⁻¹ — steepest descent in the Frobenius-type norm.
   * 'polar': the operator-norm dual map in the same metrics (MATH.md §8),
   * Γ^{−1/2} polar(Γ^{−1/2} G Ā^{−1/2}) Ā^{−1/2} — a whitened Muon (`muonKfac`).
   */
  step?: 'natural' | 'polar';
  /** Newton–Schulz steps of the polar step (default 5). */
  polarSteps?: number;
  /**
   * KL clip: rescale the whole step by ν = min(1, √(max / (lr²·Σ⟨u, G⟩))) so that the predicted
   * change of the model's output distribution, ½·lr²·uᵀFu ≈ lr²·⟨u, G⟩ / 2, stays bounded.
   */
  klClip?: { lr: number; max: number };
  /**
   * Scale the step to the minimiser of the damped quadratic model along it (Martens & Grosse 2015,
   * §6.4, without their momentum): α = ⟨G, u⟩ / (uᵀF u + λ‖u‖²), with uᵀF u from `ctx.curvature`
   * (exact, on the current batch). The learning rate then multiplies α: lr = 1 is the model's step.
   * Excludes the KL clip.
   */
  quadraticStep?: boolean;
}

interface LayerState {
  A: Tensor;
  G: Tensor;
  /** (Ā + π√λ I)⁻¹, or its inverse square root for the polar step. */
  Ainv: Tensor | null;
  /** (Γ + √λ/π I)⁻¹, or its inverse square root for the polar step. */
  Ginv: Tensor | null;
}

export interface KfacState {
  count: number;
  /** Factors kept on the device (inverse 'newton-schulz' or 'exact'). */
  layers: Record<string, LayerState>;
  /** Factors kept on the host in f64 (inverse 'host', the default). */
  hostLayers: Record<string, HostLayer>;
  /** Diagonal Fisher estimates of vector parameters (layer-norm gains). */
  diag: Record<string, Tensor>;
}

const defaultBias = (w: string) => (w.endsWith('.w') ? `${w.slice(0, -2)}.b` : undefined);

function trace(x: Tensor): number {
  return (np.trace(x).dataSync() as Float32Array)[0];
}

function checkFinite(x: Tensor, what: string): void {
  const ok = (np.all(np.isfinite(x.ref)).dataSync() as Uint8Array | Int32Array)[0];
  if (!ok)
    throw new NumericalError(`K-FAC: ${what} has NaN or Inf entries (check the loss and the learning rate)`);
}

/**
 * α = ⟨G, u⟩ / (uᵀF u + λ‖u‖²): the minimiser of the damped quadratic model along u (consumes G,
 * borrows u). Non-positive or non-finite values mean the model is useless here: α = 0 skips the step.
 */
function quadraticModelStep(
  G: ParamDict,
  u: ParamDict,
  curvature: (d: ParamDict) => number,
  damping: number,
): number {
  let gu = 0;
  let uu = 0;
  for (const [k, g] of Object.entries(G)) {
    gu += (np.sum(g.mul(u[k].ref)).dataSync() as Float32Array)[0];
    uu += (np.sum(np.square(u[k].ref)).dataSync() as Float32Array)[0];
  }
  const denominator = curvature(u) + damping * uu;
  const alpha = gu / denominator;
  return Number.isFinite(alpha) && alpha > 0 ? alpha : 0;
}

/** Input taps with a bias column of ones appended when the layer has a bias. */
function augment(a: Tensor, withBias: boolean): Tensor {
  if (!withBias) return a;
  return np.concatenate([a, np.ones([a.shape[0], 1])], 1);
}

export function scaleByKfac({
  damping = 1e-2,
  decay = 0.95,
  factorEvery = 1,
  inverseEvery = 10,
  inverseWarmup = 0,
  inverse = 'host',
  biasOf = defaultBias,
  step = 'natural',
  polarSteps = 5,
  klClip,
  quadraticStep = false,
}: KfacOptions = {}): GradientTransformation<KfacState> {
  if (quadraticStep && klClip) throw new UsageError('K-FAC: quadraticStep and klClip exclude each other');
  return {
    init: () => ({ count: 0, layers: {}, hostLayers: {}, diag: {} }),
    update(grads, state, _params, ctx) {
      const taps = ctx?.taps ?? {};
      if (quadraticStep && !ctx?.curvature) {
        throw new UsageError('K-FAC quadraticStep needs ctx.curvature (dᵀFd) from the training loop');
      }
      // ⟨G, u⟩ of the quadratic model needs the raw gradients, which preconditioning consumes.
      const raw = quadraticStep
        ? Object.fromEntries(Object.entries(grads).map(([k, v]) => [k, v.ref]))
        : null;
      const layers = { ...state.layers };
      const diag = { ...state.diag };
      const out: ParamDict = { ...grads };
      const preconditioned: string[] = [];
      const quads: Tensor[] = []; // ⟨u, G⟩ per preconditioned layer, for the KL clip
      let hostQuad = 0;
      const hostLayers = { ...state.hostLayers };
      for (const [name, anyTap] of Object.entries(taps)) {
        const raw = grads[name];
        if (!raw) continue;
        if ('perExample' in anyTap) {
          // Diagonal rule: u = G / (F + λ) with F = EMA of E[(per-example gradient)²].
          const Fnew = np.mean(np.square(anyTap.perExample.ref), 0);
          const prev = diag[name];
          const F = prev ? prev.mul(decay).add(Fnew.mul(1 - decay)) : Fnew;
          out[name] = raw.div(F.ref.add(damping));
          diag[name] = F;
          preconditioned.push(name);
          continue;
        }
        const tap = anyTap;
        if (raw.shape.length !== 2 && raw.shape.length !== 4) continue;
        // Conv kernels out×C×kh×kw are the out×(C·kh·kw) matrices their patches multiply; tables
        // stored in×out (embeddings) are the transpose of the map.
        const kernelShape = raw.shape;
        const g = tap.transposed
          ? raw.transpose()
          : raw.shape.length === 4
            ? raw.reshape([raw.shape[0], raw.shape[1] * raw.shape[2] * raw.shape[3]])
            : raw;
        const restore = (U: Tensor) => (tap.transposed ? U.transpose() : U.reshape(kernelShape));
        const bias = biasOf(name);
        const hasBias = bias !== undefined && bias in grads;
        const a = augment(tap.a.ref, hasBias);
        // Gradient with the bias as an extra column: out×(in+1).
        const Gmat = hasBias ? np.concatenate([g, grads[bias].reshape([g.shape[0], 1])], 1) : g;
        const refresh = state.count < inverseWarmup || state.count % inverseEvery === 0;
        let U: Tensor;
        if (inverse === 'host') {
          let layer = hostLayers[name];
          if (state.count % factorEvery === 0 || !layer) {
            layer = accumulateFactors(layer, toHost(a), toHost(tap.g.ref), tap.positions ?? 1, decay);
          } else a.dispose();
          if (refresh || !layer.Ainv || !layer.Ginv) {
            const dA = layer.A.rows;
            const dG = layer.G.rows;
            layer = refreshHost(
              name,
              layer,
              factoredDamping(traceOf(layer.A), dA, traceOf(layer.G), dG, damping),
              step === 'polar',
            );
          }
          hostLayers[name] = layer;
          const Gh = toHost(Gmat.ref);
          const Uh = preconditionHost(layer, Gh, step === 'polar', polarSteps);
          if (klClip) hostQuad += Uh.re.reduce((acc, v, k) => acc + v * Gh.re[k], 0);
          U = toDevice(Uh);
        } else {
          let layer = layers[name];
          const B = a.shape[0];
          if (state.count % factorEvery === 0 || !layer) {
            // Convolutions: Ā = E_examples[Σ_positions a aᵀ] (KFC), i.e. rows·T / rows.
            const Anew = np.matmul(a.ref.transpose(), a).mul((tap.positions ?? 1) / B);
            const Gnew = np.matmul(tap.g.ref.transpose(), tap.g.ref).div(B);
            layer = layer
              ? {
                  ...layer,
                  A: layer.A.mul(decay).add(Anew.mul(1 - decay)),
                  G: layer.G.mul(decay).add(Gnew.mul(1 - decay)),
                }
              : { A: Anew, G: Gnew, Ainv: null, Ginv: null };
          } else a.dispose();
          if (refresh || !layer.Ainv || !layer.Ginv)
            layer = refreshInverses(name, layer, damping, inverse, step === 'polar');
          layers[name] = layer;
          U = np.matmul(np.matmul(layer.Ginv!.ref, Gmat.ref), layer.Ainv!.ref);
          if (step === 'polar') {
            // Ginv, Ainv are symmetric S = (damped factor)^{−1/2}: D = S_Γ polar(S_Γ G S_Ā) S_Ā.
            U.dispose();
            const Gt = np.matmul(np.matmul(layer.Ginv!.ref, Gmat.ref), layer.Ainv!.ref);
            U = np.matmul(np.matmul(layer.Ginv!.ref, polarNewtonSchulz(Gt, polarSteps)), layer.Ainv!.ref);
          }
        }
        if (klClip && inverse !== 'host') quads.push(np.sum(U.ref.mul(Gmat)));
        else Gmat.dispose();
        const inDim = g.shape[1];
        if (hasBias) {
          out[name] = restore(U.ref.slice([], [0, inDim]));
          out[bias] = U.slice([], [inDim, inDim + 1]).reshape([g.shape[0]]);
          preconditioned.push(bias);
        } else out[name] = restore(U);
        preconditioned.push(name);
      }
      if (klClip && inverse === 'host' && preconditioned.length > 0) {
        const nu = Math.min(1, Math.sqrt(klClip.max / (klClip.lr ** 2 * Math.max(hostQuad, 1e-30))));
        for (const k of preconditioned) out[k] = out[k].mul(nu);
      }
      if (klClip && quads.length > 0) {
        const quad = quads.reduce((x, y) => x.add(y));
        const nu = np.minimum(np.sqrt(np.reciprocal(quad.mul(klClip.lr ** 2).add(1e-30)).mul(klClip.max)), 1);
        for (const k of preconditioned) out[k] = out[k].mul(nu.ref);
        nu.dispose();
      }
      if (raw) {
        const alpha = quadraticModelStep(raw, out, ctx!.curvature!, damping);
        for (const k of Object.keys(out)) out[k] = out[k].mul(alpha);
      }
      return [out, { count: state.count + 1, layers, hostLayers, diag }];
    },
  };
}

type InverseMethod = 'host' | 'newton-schulz' | 'exact';

/**
 * Device path: refreshes a layer's preconditioning matrices from its damped factors (MATH.md §7,
 * §12.12) — the inverses (Ā + π√λ I)⁻¹ and (Γ + √λ/π I)⁻¹, or for the polar step their symmetric
 * inverse square roots. Checks both factors for NaN/Inf first. (The host path is in kfac-host.ts.)
 */
function refreshInverses(
  name: string,
  layer: LayerState,
  damping: number,
  method: Exclude<InverseMethod, 'host'>,
  polar: boolean,
): LayerState {
  checkFinite(layer.A, `layer ${name}: input factor Ā`);
  checkFinite(layer.G, `layer ${name}: output-gradient factor Γ`);
  const dA = layer.A.shape[0];
  const dG = layer.G.shape[0];
  const { inputShift, outputShift } = factoredDamping(
    trace(layer.A.ref),
    dA,
    trace(layer.G.ref),
    dG,
    damping,
  );
  const make = (F: Tensor, shift: number, prev: Tensor | null, which: string): Tensor => {
    const n = F.shape[0];
    const M = F.ref.add(np.eye(n).mul(shift));
    if (polar) {
      prev?.dispose();
      return inverseRootNewton(M, 2, { name: `K-FAC layer ${name}: ${which}` });
    }
    if (method === 'newton-schulz') return inverseNewtonSchulz(M, { start: prev ?? undefined });
    prev?.dispose();
    return np.linalg.inv(M);
  };
  return {
    ...layer,
    Ainv: make(layer.A, inputShift, layer.Ainv, 'input factor'),
    Ginv: make(layer.G, outputShift, layer.Ginv, 'output factor'),
  };
}

/** π and the damped factors' diagonal shifts, for inspection and tests (MATH.md §12.12). */
export function factoredDamping(traceA: number, dimA: number, traceG: number, dimG: number, damping: number) {
  const pi = traceA > 0 && traceG > 0 ? Math.sqrt(traceA / dimA / (traceG / dimG)) : 1;
  return { pi, inputShift: pi * Math.sqrt(damping), outputShift: Math.sqrt(damping) / pi };
}
