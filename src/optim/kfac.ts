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
import { cholesky } from '../linalg/cholesky.js';
import { matmul } from '../linalg/gemm.js';
import { identity, type Matrix, transpose, zeros } from '../linalg/matrix.js';
import { solveLower } from '../linalg/triangular.js';
import {
  inverseNewtonSchulz,
  inverseRootNewton,
  NumericalError,
  polarNewtonSchulz,
} from './matrix-functions.js';
import type { GradientTransformation, ParamDict, Tensor } from './types.js';

export interface KfacOptions {
  /** Tikhonov damping λ (default 1e-3). */
  damping?: number;
  /** EMA decay of the factors (default 0.95). */
  decay?: number;
  factorEvery?: number;
  inverseEvery?: number;
  /**
   * How the damped factors are inverted: 'host' (default) — f64 Cholesky by riesz's own kernels, read
   * back from and uploaded to the device every `inverseEvery` steps; 'newton-schulz' — warm-started,
   * matmul-only, on the device; 'exact' — jax-js's inverse. Measured here on the CPU for a 785×785
   * factor: host ≈ tens of ms, jax-js Newton–Schulz (cold) 7.5 s, jax-js inverse 3.3 s.
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
  layers: Record<string, LayerState>;
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

/** Input taps with a bias column of ones appended when the layer has a bias. */
function augment(a: Tensor, withBias: boolean): Tensor {
  if (!withBias) return a;
  return np.concatenate([a, np.ones([a.shape[0], 1])], 1);
}

export function scaleByKfac({
  damping = 1e-3,
  decay = 0.95,
  factorEvery = 1,
  inverseEvery = 10,
  inverse = 'host',
  biasOf = defaultBias,
  step = 'natural',
  polarSteps = 5,
  klClip,
}: KfacOptions = {}): GradientTransformation<KfacState> {
  return {
    init: () => ({ count: 0, layers: {}, diag: {} }),
    update(grads, state, _params, ctx) {
      const taps = ctx?.taps ?? {};
      const layers = { ...state.layers };
      const diag = { ...state.diag };
      const out: ParamDict = { ...grads };
      const preconditioned: string[] = [];
      const quads: Tensor[] = []; // ⟨u, G⟩ per preconditioned layer, for the KL clip
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
        const B = a.shape[0];
        let layer = layers[name];
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
        if (state.count % inverseEvery === 0 || !layer.Ainv || !layer.Ginv)
          layer = refreshInverses(name, layer, damping, inverse, step === 'polar');
        // Gradient with the bias as an extra column: out×(in+1).
        const Gmat = hasBias ? np.concatenate([g, grads[bias].reshape([g.shape[0], 1])], 1) : g;
        let U = np.matmul(np.matmul(layer.Ginv!.ref, Gmat.ref), layer.Ainv!.ref);
        if (step === 'polar') {
          // Ginv, Ainv are S_Γ, S_Ā with SᵀS… = (damped factor)⁻¹: D = S_Γᵀ polar(S_Γ G S_Āᵀ) S_Ā.
          U.dispose();
          const Gt = np.matmul(np.matmul(layer.Ginv!.ref, Gmat.ref), layer.Ainv!.ref.transpose());
          U = np.matmul(
            np.matmul(layer.Ginv!.ref.transpose(), polarNewtonSchulz(Gt, polarSteps)),
            layer.Ainv!.ref,
          );
        }
        if (klClip) quads.push(np.sum(U.ref.mul(Gmat)));
        else Gmat.dispose();
        const inDim = g.shape[1];
        if (hasBias) {
          out[name] = restore(U.ref.slice([], [0, inDim]));
          out[bias] = U.slice([], [inDim, inDim + 1]).reshape([g.shape[0]]);
          preconditioned.push(bias);
        } else out[name] = restore(U);
        preconditioned.push(name);
        layers[name] = layer;
      }
      if (klClip && quads.length > 0) {
        const quad = quads.reduce((x, y) => x.add(y));
        const nu = np.minimum(np.sqrt(np.reciprocal(quad.mul(klClip.lr ** 2).add(1e-30)).mul(klClip.max)), 1);
        for (const k of preconditioned) out[k] = out[k].mul(nu.ref);
        nu.dispose();
      }
      return [out, { count: state.count + 1, layers, diag }];
    },
  };
}

/** Damped inverses of both factors with the π split of λ (MATH.md §7, §12.12). */
type InverseMethod = 'host' | 'newton-schulz' | 'exact';

/**
 * Refreshes a layer's preconditioning matrices from its damped factors (MATH.md §7, §12.12):
 * for the natural step the inverses (Ā + π√λ I)⁻¹ and (Γ + √λ/π I)⁻¹; for the polar step factors
 * S with S Sᵀ = (damped factor)⁻¹ (Cholesky-based on the host, symmetric inverse roots on device),
 * used as Sᵀ polar(S_Γ G S_Āᵀ)… (see the update). Checks both factors for NaN/Inf first.
 */
function refreshInverses(
  name: string,
  layer: LayerState,
  damping: number,
  method: InverseMethod,
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
    if (method === 'host') {
      prev?.dispose();
      return hostInverse(F.ref, shift, polar, `K-FAC layer ${name}: damped ${which}`);
    }
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

/**
 * (F + shift·I)⁻¹, or L⁻¹ of its Cholesky factor L when `factorOnly`, computed in f64 by riesz's own
 * kernels (Cholesky and triangular solves on the WebAssembly GEMM) and returned as float32.
 * On the CPU this is far faster than jax-js's iterative or LU inverses for factors of a few hundred.
 */
function hostInverse(F: Tensor, shift: number, factorOnly: boolean, what: string): Tensor {
  const n = F.shape[0];
  const data = F.dataSync() as Float32Array;
  const M = zeros(n, n);
  for (let i = 0; i < n; i++) {
    for (let j = 0; j <= i; j++) {
      const v = 0.5 * (data[i * n + j] + data[j * n + i]); // symmetrise away float32 rounding
      M.re[i * n + j] = v;
      M.re[j * n + i] = v;
    }
    M.re[i * n + i] += shift;
  }
  let L: Matrix;
  try {
    L = cholesky(M, what);
  } catch (e) {
    throw new NumericalError(`${(e as Error).message} (increase the damping)`);
  }
  const Linv = solveLower(L, identity(n));
  const out = factorOnly ? Linv : matmul(transpose(Linv), Linv);
  return np.array(Float32Array.from(out.re)).reshape([n, n]);
}

/** π and the damped factors' diagonal shifts, for inspection and tests (MATH.md §12.12). */
export function factoredDamping(traceA: number, dimA: number, traceG: number, dimG: number, damping: number) {
  const pi = traceA > 0 && traceG > 0 ? Math.sqrt(traceA / dimA / (traceG / dimG)) : 1;
  return { pi, inputShift: pi * Math.sqrt(damping), outputShift: Math.sqrt(damping) / pi };
}
