/**
 * K-FAC (Martens & Grosse 2015) as a choice of inner products (MATH.md §7): Frobenius-type steepest
 * descent with V, W estimated by curvature blocks (kfac-blocks.ts), and the step rules that make it
 * work on hard problems (kfac-rules.ts):
 *
 * 1. each block folds this step's taps into debiased factor averages (every `factorEvery` steps);
 * 2. factorisations are refreshed every `inverseEvery` steps and at each of the first
 *    `inverseWarmup` (burn-in) steps; with eigendecompositions a new λ needs no new factorisation;
 * 3. Δ = the blocks' preconditioned gradient, damped with γ² = λ + η (η the objective's L2);
 * 4. the step rule sets the update:
 *    - 'momentum': δ = αΔ + μδ₋ minimising the damped quadratic model ½δᵀ(F + (λ+η)I)δ + ∇Lᵀδ over
 *      (α, μ), with exact Fisher products on the batch (`ctx.curvatureGram`); 1-D on the first step;
 *    - 'quadratic': the same along Δ alone;
 *    - 'kl-clip': Δ scaled by ν = min(1, √(max / (lr²·⟨Δ, G⟩)));
 *    - 'fixed': Δ as it is (the learning rate scales it);
 * 5. with `adaptDamping`, every T₁ steps the reduction ratio ρ of the step just chosen, on the same
 *    batch, moves λ by the Levenberg–Marquardt rule.
 * Weights without curvature taps pass through unchanged (route them to another optimizer).
 *
 * The transformation emits a gradient-like update (`scaleByLearningRate` after it negates and scales
 * it): with the model rules and lr = 1 the applied step is the model's minimiser.
 */
import { defaultDevice, numpy as np } from '@jax-js/jax';
import { phase } from '../backend/profile.js';
import { readScalars } from '../backend/read.js';
import { UsageError } from '../errors.js';
import {
  type BlockSettings,
  type DeviceKroneckerState,
  type DiagonalState,
  deviceKronecker,
  diagonalBlock,
  type HostKroneckerState,
  hostKronecker,
  type InverseMethod,
  type KroneckerLayout,
} from './kfac-blocks.js';
import {
  adaptDamping,
  debiasedDecay,
  modelChange,
  reductionRatio,
  solveQuadraticModel,
} from './kfac-rules.js';
import type { CurvatureTap, GradientTransformation, ParamDict, Tensor } from './types.js';

export { factoredDamping } from './kfac-blocks.js';

/** How K-FAC turns its preconditioned gradient into the update (step 4 of the module comment). */
export type KfacStepRule = 'momentum' | 'quadratic' | 'kl-clip' | 'fixed';

/** Settings of the Levenberg–Marquardt adaptation of λ (step 5 of the module comment). */
export interface AdaptDampingOptions {
  /** T₁: steps between two reduction-ratio checks (default 5). */
  every?: number;
  /** ω = decay^T₁ (default 0.95^T₁). */
  omega?: number;
  /** Bounds of λ (default [1e-6, 1000]). */
  min?: number;
  max?: number;
}

/** Options of {@link scaleByKfac}: damping, factor and inverse schedules, the step and its rule. */
export interface KfacOptions {
  /** λ, the Tikhonov damping (initial value when adapted; default 1e-2). */
  damping?: number;
  /** Levenberg–Marquardt adaptation of λ (needs the 'momentum' or 'quadratic' rule). */
  adaptDamping?: boolean | AdaptDampingOptions;
  /** η, the L2 coefficient the training objective includes (½η‖θ‖²): it joins the damping. */
  l2?: number;
  /** Upper bound of the factor averages' decay (debiased: min(1 − 1/k, decay); default 0.95). */
  decay?: number;
  factorEvery?: number;
  inverseEvery?: number;
  /** Refresh the factorisations at every one of the first this-many steps (default 0). */
  inverseWarmup?: number;
  /**
   * How the damped factors are inverted: 'cholesky' (default; where rounding leaves a factor not
   * quite PSD it falls back to the eigendecomposition and says so) or 'eigh' — f64 on the host with
   * riesz's own kernels; 'newton-schulz' (warm-started, matmul-only) or 'exact' (jax-js's inverse) —
   * on the device. 'host' is the old name of 'cholesky'. Default: 'cholesky' on the CPU devices,
   * 'newton-schulz' on WebGPU (the factors stay on the GPU).
   */
  inverse?: InverseMethod | 'host';
  /** The bias that belongs to a weight (folded into Ā); default: 'x.w' ↦ 'x.b' when present. */
  biasOf?: (weight: string) => string | undefined;
  /**
   * 'natural' (default): the Riesz gradient Γ⁻¹GĀ⁻¹ — steepest descent in the Frobenius-type norm.
   * 'polar': the operator-norm dual map in the same metrics (MATH.md §8), a whitened Muon.
   */
  step?: 'natural' | 'polar';
  /** Newton–Schulz steps of the polar step (default 5). */
  polarSteps?: number;
  /** The step rule (see the module comment); default 'kl-clip' with `klClip`, else 'fixed'. */
  rule?: KfacStepRule;
  /** The KL clip's bound and learning rate (rule 'kl-clip'). */
  klClip?: { lr: number; max: number };
  /** Old name of rule 'quadratic'. */
  quadraticStep?: boolean;
  /** The learning rate the chain applies after K-FAC (for ρ; default 1). */
  lr?: number;
}

type BlockState = HostKroneckerState | DeviceKroneckerState | DiagonalState;

/** K-FAC's state: the step count, the current λ, the previous update and each block's factors. */
export interface KfacState {
  count: number;
  /** λ now. */
  damping: number;
  /** The previous update (gradient-like, before the learning rate), for the momentum rule. */
  prev: ParamDict | null;
  blocks: Record<string, BlockState>;
}

const defaultBias = (w: string) => (w.endsWith('.w') ? `${w.slice(0, -2)}.b` : undefined);

/** ⟨a, b⟩ as a device scalar (borrows both). */
function dot(a: Tensor, b: Tensor): Tensor {
  return np.sum(a.ref.mul(b.ref));
}

/** Σ_k ⟨a_k, b_k⟩ as a device scalar (borrows both). */
function dotDicts(a: ParamDict, b: ParamDict): Tensor {
  let s: Tensor | null = null;
  for (const k of Object.keys(a)) s = s ? s.add(dot(a[k], b[k])) : dot(a[k], b[k]);
  return s ?? np.zeros([]);
}

/**
 * The model's inner products on the host, for the CPU devices, in the order of the device path:
 * ⟨dᵢ, dⱼ⟩ (i ≤ j), then ⟨g, dᵢ⟩. One f64 pass over each key's arrays computes all of them (jax-js
 * made a product array per pair; borrows all).
 */
async function hostModelDots(g: ParamDict, dirs: ParamDict[]): Promise<number[]> {
  const [d0, d1] = dirs;
  let [s00, s01, s11, sg0, sg1] = [0, 0, 0, 0, 0];
  for (const k of Object.keys(g)) {
    const [x, a, b] = (await Promise.all(
      [g, d0, ...(d1 ? [d1] : [])].map((d) => d[k].ref.data()),
    )) as Float32Array[];
    if (b) {
      for (let i = 0; i < x.length; i++) {
        const xi = x[i];
        const ai = a[i];
        const bi = b[i];
        s00 += ai * ai;
        s01 += ai * bi;
        s11 += bi * bi;
        sg0 += xi * ai;
        sg1 += xi * bi;
      }
    } else {
      for (let i = 0; i < x.length; i++) {
        s00 += a[i] * a[i];
        sg0 += x[i] * a[i];
      }
    }
  }
  return d1 ? [s00, s01, s11, sg0, sg1] : [s00, sg0];
}

function layoutOf(
  name: string,
  g: Tensor,
  tap: CurvatureTap,
  bias: string | undefined,
): KroneckerLayout | null {
  if (g.shape.length !== 2 && g.shape.length !== 4) return null;
  return {
    weight: name,
    bias,
    kind: tap.transposed ? 'embedding' : g.shape.length === 4 ? 'conv2d' : 'dense',
    shape: g.shape,
  };
}

/**
 * K-FAC as a gradient transformation (see the module comment). It reads the curvature taps from
 * `ctx.taps`; the model rules also need `ctx.curvatureGram` (and, adapting λ, `ctx.loss` and `ctx.lossAt`).
 * @throws UsageError when options exclude each other (e.g. klClip with another rule).
 */
export function scaleByKfac({
  damping = 1e-2,
  adaptDamping: adapt = false,
  l2 = 0,
  decay = 0.95,
  factorEvery = 1,
  inverseEvery = 10,
  inverseWarmup = 0,
  inverse,
  biasOf = defaultBias,
  step = 'natural',
  polarSteps = 5,
  rule: ruleOption,
  klClip,
  quadraticStep = false,
  lr = 1,
}: KfacOptions = {}): GradientTransformation<KfacState> {
  if (quadraticStep && klClip) throw new UsageError('K-FAC: quadraticStep and klClip exclude each other');
  const rule: KfacStepRule = ruleOption ?? (quadraticStep ? 'quadratic' : klClip ? 'kl-clip' : 'fixed');
  if (rule === 'kl-clip' && !klClip) throw new UsageError("K-FAC: rule 'kl-clip' needs klClip { lr, max }");
  if (rule !== 'kl-clip' && klClip)
    throw new UsageError(`K-FAC: klClip and rule '${rule}' exclude each other`);
  const modelRule = rule === 'momentum' || rule === 'quadratic';
  if (adapt && !modelRule) {
    throw new UsageError(
      `K-FAC: adaptDamping needs rule 'momentum' or 'quadratic' (a model to compare with), not '${rule}'`,
    );
  }
  const lm = adapt ? (adapt === true ? {} : adapt) : null;
  const every = lm?.every ?? 5;
  const lmRule = { omega: lm?.omega ?? decay ** every, min: lm?.min ?? 1e-6, max: lm?.max ?? 1000 };
  const method: InverseMethod =
    inverse === 'host' || inverse === undefined
      ? inverse === undefined && defaultDevice() === 'webgpu'
        ? 'newton-schulz'
        : 'cholesky'
      : inverse;
  const onHost = method === 'eigh' || method === 'cholesky';
  const settings: BlockSettings = { inverse: method, step, polarSteps };
  const weightOf = (k: number) => debiasedDecay(k, decay);

  return {
    init: () => ({ count: 0, damping, prev: null, blocks: {} }),
    async update(grads, state, _params, ctx) {
      const taps = ctx?.taps ?? {};
      if (modelRule && (!ctx?.curvatureGram || (lm && (!ctx.lossAt || ctx.loss === undefined)))) {
        throw new UsageError(
          `K-FAC rule '${rule}' needs ctx.curvatureGram${lm ? ', ctx.loss and ctx.lossAt' : ''} from the training loop`,
        );
      }
      const lambda = state.damping;
      const shift = lambda + l2; // γ²
      const count = state.count;
      const accumulate = count % factorEvery === 0;
      const refresh = count < inverseWarmup || count % inverseEvery === 0;
      // The raw gradients: ⟨∇L, d⟩ of the model rules and ⟨Δ, G⟩ of the KL clip.
      const raw =
        rule === 'fixed' ? null : Object.fromEntries(Object.entries(grads).map(([k, v]) => [k, v.ref]));
      const blocks = { ...state.blocks };
      const out: ParamDict = { ...grads };
      const preconditioned: string[] = [];
      for (const [name, tap] of Object.entries(taps)) {
        const g = grads[name];
        if (!g) continue;
        if ('perExample' in tap) {
          let s = blocks[name] as DiagonalState | undefined;
          if (accumulate || !s) s = diagonalBlock.accumulate(s, { perExample: tap.perExample.ref }, weightOf);
          blocks[name] = s;
          out[name] = diagonalBlock.precondition(s, g, shift);
          preconditioned.push(name);
          continue;
        }
        const bias = biasOf(name);
        const layout = layoutOf(name, g, tap, bias !== undefined && bias in grads ? bias : undefined);
        if (!layout) continue;
        const borrowed = { ...tap, a: tap.a.ref, g: tap.g.ref };
        let s: HostKroneckerState | DeviceKroneckerState;
        if (onHost) {
          const before = blocks[name] as HostKroneckerState | undefined;
          let h0 = before;
          if (accumulate || !h0)
            h0 = await phase('factors', () => hostKronecker.accumulate(before, layout, borrowed, weightOf));
          else disposeTap(borrowed);
          const h1 = h0;
          const h = phase('inverses', () =>
            refresh || !h1.Ainv
              ? hostKronecker.refresh(h1, name, settings, shift)
              : hostKronecker.damp(h1, name, settings, shift),
          );
          s = h;
          Object.assign(
            out,
            await phase('precondition', () => hostKronecker.precondition(h, layout, grads, settings)),
          );
        } else {
          let d = blocks[name] as DeviceKroneckerState | undefined;
          if (accumulate || !d) d = deviceKronecker.accumulate(d, layout, borrowed, weightOf);
          else disposeTap(borrowed);
          d =
            refresh || !d.Ainv
              ? await deviceKronecker.refresh(d, name, settings, shift)
              : await deviceKronecker.damp(d, name, settings, shift);
          s = d;
          Object.assign(out, deviceKronecker.precondition(d, layout, grads, settings));
        }
        blocks[name] = s;
        preconditioned.push(name);
        if (layout.bias) preconditioned.push(layout.bias);
      }
      let nextDamping = lambda;
      let prev: ParamDict | null = null;
      if (rule === 'kl-clip' && raw) {
        // ⟨Δ, G⟩ summed on the device: one read.
        const [quad] = await readScalars([
          preconditioned.reduce<Tensor>((acc, k) => acc.add(dot(out[k], raw[k])), np.zeros([])),
        ]);
        const nu = Math.min(1, Math.sqrt(klClip!.max / (klClip!.lr ** 2 * Math.max(quad, 1e-30))));
        for (const k of preconditioned) out[k] = out[k].mul(nu);
        ctx?.report?.({ kl_scale: nu });
      } else if (modelRule && raw) {
        const dirs: ParamDict[] = [out];
        const previous = rule === 'momentum' ? state.prev : null;
        if (previous) dirs.push(previous);
        const C = await ctx!.curvatureGram!(dirs);
        // The Gram matrix of the directions and their products with ∇L: one read.
        const k = dirs.length;
        const values = await phase('dots', () =>
          defaultDevice() === 'webgpu'
            ? readScalars([
                ...dirs.flatMap((di, i) => dirs.slice(i).map((dj) => dotDicts(di, dj))),
                ...dirs.map((di) => dotDicts(raw, di)),
              ])
            : hostModelDots(raw, dirs),
        );
        const N = dirs.map(() => new Array<number>(k).fill(0));
        let at = 0;
        for (let i = 0; i < k; i++) for (let j = i; j < k; j++) N[i][j] = N[j][i] = values[at++];
        const b = values.slice(at);
        const solved = solveQuadraticModel({ curvature: C, gram: N, grad: b, damping: lambda, l2 });
        const [alpha, mu = 0] = solved.coefficients;
        const combined: ParamDict = {};
        for (const k of Object.keys(out)) {
          let u = out[k].mul(alpha);
          if (previous && mu !== 0) u = u.add(previous[k].ref.mul(mu));
          combined[k] = u;
        }
        let rho = Number.NaN;
        // The check closes each window of T₁ steps, so that a new λ lands on the step where the
        // factorisations are refreshed anyway (every T₁ = T₃ steps by default): with Cholesky
        // inverses a new λ costs a new factorisation.
        if (lm && count % every === every - 1) {
          // ρ of the step actually applied, s = −lr·(αΔ + μδ₋), on this batch.
          const stepDict = Object.fromEntries(Object.entries(combined).map(([k, v]) => [k, v.ref.mul(-lr)]));
          const after = await ctx!.lossAt!(stepDict);
          for (const v of Object.values(stepDict)) v.dispose();
          const predicted = modelChange(
            solved.coefficients.map((x) => x * lr),
            C,
            N,
            b,
            l2,
          );
          rho = reductionRatio(ctx!.loss!, after, predicted);
          nextDamping = adaptDamping(lambda, rho, lmRule);
        }
        // Δ's entries were consumed by the products above.
        for (const k of Object.keys(combined)) out[k] = combined[k];
        if (rule === 'momentum') prev = Object.fromEntries(Object.entries(out).map(([k, v]) => [k, v.ref]));
        ctx?.report?.({ damping: lambda, alpha, mu, rho, directions: solved.used });
      }
      if (raw) for (const v of Object.values(raw)) v.dispose();
      state.prev && disposeDict(state.prev);
      return [out, { count: count + 1, damping: nextDamping, prev, blocks }];
    },
  };
}

function disposeTap(tap: CurvatureTap): void {
  tap.a.dispose();
  tap.g.dispose();
}

function disposeDict(d: ParamDict): void {
  for (const v of Object.values(d)) v.dispose();
}
