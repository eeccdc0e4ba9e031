/**
 * The user-facing baseline optimizers, each a short chain of building blocks (optax's alias.ts).
 * Geometry: all of them are Euclidean (V = W = I); `adam` rescales coordinates by a diagonal metric.
 */
import { UsageError } from '../errors.js';
import { addDecayedWeights, chain, type Schedule, scaleByLearningRate } from './base.js';
import { adamChain, momentumChain } from './fused.js';
import {
  type MuonOptions,
  preconditionFrobenius,
  scaleByMuon,
  type WeightGeometry,
} from './geometry-transforms.js';
import { type KfacOptions, scaleByKfac } from './kfac.js';
import { type ShampooOptions, scaleByShampoo } from './shampoo.js';
import type { GradientTransformation, SyncGradientTransformation } from './types.js';

/** Plain gradient descent, p ← p − η·g: the identity geometry. */
export function sgd(lr: number | Schedule): SyncGradientTransformation<unknown[]> {
  return chain(scaleByLearningRate(lr));
}

/**
 * Heavy-ball (or Nesterov) momentum: m ← βm + g; p ← p − η·m (or − η(g + βm)). On the CPU devices one
 * fused Wasm pass per parameter (optim/fused.ts), the same bits as the chain of its stages.
 */
export function momentum(
  lr: number | Schedule,
  { decay = 0.9, nesterov = false }: { decay?: number; nesterov?: boolean } = {},
): SyncGradientTransformation<unknown[]> {
  return momentumChain(lr, { decay, nesterov });
}

/**
 * Adam (Kingma & Ba): p ← p − η·m̂/(√v̂ + ε). On the CPU devices one fused Wasm pass per parameter
 * (optim/fused.ts), the same bits as `chain(scaleByAdam(opts), scaleByLearningRate(lr))`.
 */
export function adam(
  lr: number | Schedule,
  opts: { b1?: number; b2?: number; eps?: number } = {},
): SyncGradientTransformation<unknown[]> {
  return adamChain(lr, opts);
}

/** AdamW: Adam with decoupled weight decay, p ← p − η(m̂/(√v̂ + ε) + λp) (fused as `adam` is). */
export function adamw(
  lr: number | Schedule,
  { weightDecay = 1e-4, ...opts }: { b1?: number; b2?: number; eps?: number; weightDecay?: number } = {},
): SyncGradientTransformation<unknown[]> {
  return adamChain(lr, { ...opts, weightDecay });
}

/**
 * Steepest descent in the Frobenius-type geometry ⟨S,T⟩ = tr(V⁻¹SᵀWT) of each weight: p ← p − η·W⁻¹GV
 * (MATH.md §6). `geometry` gives V (domain, in×in) and W (codomain, out×out) per weight; identity
 * (the default) is exactly `sgd`.
 */
export function frobenius(
  lr: number | Schedule,
  geometry: (name: string, shape: number[]) => WeightGeometry | null | undefined = () => null,
): SyncGradientTransformation<unknown[]> {
  return chain(preconditionFrobenius(geometry), scaleByLearningRate(lr));
}

/**
 * K-FAC (MATH.md §7): the Riesz gradient with V = Ā⁻¹, W = Γ from curvature taps, damped; with
 * `klClip` (a number) the step is rescaled so that lr²·⟨u, G⟩ ≤ klClip (constant lr only).
 */
export function kfac(
  lr: number | Schedule,
  { klClip, ...opts }: Omit<KfacOptions, 'klClip'> & { klClip?: number } = {},
): GradientTransformation<unknown[]> {
  const clip = klClip !== undefined && typeof lr === 'number' ? { lr, max: klClip } : undefined;
  const rule = opts.rule ?? (opts.quadraticStep ? 'quadratic' : clip ? 'kl-clip' : 'fixed');
  if (opts.quadraticStep && clip) throw new UsageError('K-FAC: quadraticStep and klClip exclude each other');
  return chain(scaleByKfac({ ...opts, rule, klClip: clip }), scaleByLearningRate(lr));
}

/** Shampoo with Adam grafting (MATH.md §8): L^{−1/4} G R^{−1/4}, sized like Adam's step. */
export function shampoo(lr: number | Schedule, opts: ShampooOptions = {}): GradientTransformation<unknown[]> {
  return chain(scaleByShampoo(opts), scaleByLearningRate(lr));
}

/**
 * Muon (MATH.md §8, V = W = I): the operator-norm dual map of Nesterov momentum by Newton–Schulz,
 * scaled √max(1, rows/cols), with decoupled weight decay p ← p − η(O + λp).
 */
export function muon(
  lr: number | Schedule,
  { weightDecay = 0, ...opts }: MuonOptions & { weightDecay?: number } = {},
): SyncGradientTransformation<unknown[]> {
  return chain(scaleByMuon(opts), addDecayedWeights(weightDecay), scaleByLearningRate(lr));
}

/**
 * Muon in K-FAC's metrics (MATH.md §8, V = Ā⁻¹, W = Γ): the operator-norm dual map
 * Γ^{−1/2} polar(Γ^{−1/2} G Ā^{−1/2}) Ā^{−1/2}, with damped factors as in `kfac`.
 */
export function muonKfac(
  lr: number | Schedule,
  opts: Omit<KfacOptions, 'step'> = {},
): GradientTransformation<unknown[]> {
  return chain(scaleByKfac({ ...opts, step: 'polar' }), scaleByLearningRate(lr));
}
