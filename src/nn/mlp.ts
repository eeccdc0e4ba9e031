/**
 * A multilayer perceptron built from dense layers with explicit backward passes, producing in one
 * forward/backward the gradients and the curvature taps of every layer (names `fc{i}.w`, `fc{i}.b`).
 * For K-FAC's true Fisher the taps' output gradients come from a second backward pass with targets
 * sampled from the model's predictive distribution (reusing the forward caches). The same caches
 * give forward-mode tangents J·d of the outputs (`mlpTangents`), which K-FAC's quadratic model needs,
 * without a second forward pass.
 */
import { defaultDevice, numpy as np, random } from '@jax-js/jax';
import type { CurvatureTap, ParamDict, Tensor } from '../backend/taps.js';
import { denseBackwardWgsl, denseForwardWgsl, fusedWgslReady } from '../backend/wgsl/kernels.js';
import { Rng } from '../linalg/random.js';
import { denseLossAndGrads, densePredict } from './dense-engine.js';
import { type FisherKind, type LossAndGrads, lossAndGradsFrom } from './fisher.js';
import {
  type Activation,
  activationBackward,
  activationForward,
  activationTangent,
  denseBackward,
  denseForward,
} from './layers.js';
import type { Loss } from './losses.js';
import { mm } from './matmul.js';

export type { LossAndGrads } from './fisher.js';

/**
 * Initial weights (biases are zero in every scheme):
 * - 'scaled-normal': N(0, 2/fan_in) for relu nets, N(0, 1/fan_in) otherwise;
 * - 'glorot-uniform': U(±√(6/(fan_in + fan_out))), the anchors' choice for the tanh autoencoder;
 * - 'sparse': Martens' sparse initialisation, 15 non-zero N(0, 1) incoming weights per unit.
 */
export type MlpInit = 'scaled-normal' | 'glorot-uniform' | 'sparse';

/** An MLP's architecture: layer widths, activations and weight initialisation. */
export interface MlpSpec {
  /** Layer widths, input first: [784, 256, 10]. */
  sizes: number[];
  /** Hidden activation (default relu). */
  activation?: Activation;
  /** One activation per hidden layer, overriding `activation` (e.g. a linear code layer). */
  activations?: Activation[];
  /** Output activation before the loss (default identity: losses take logits). */
  output?: Activation;
  /** Weight initialisation (default 'scaled-normal'). */
  init?: MlpInit;
}

/** The name of dense layer i, the prefix of its parameters: `fc{i}` (`fc{i}.w`, `fc{i}.b`). */
export const layerName = (i: number) => `fc${i}`;

/** The activation after layer i (of sizes.length − 1 layers). */
export function layerActivation(spec: MlpSpec, i: number): Activation {
  const L = spec.sizes.length - 1;
  if (i === L - 1) return spec.output ?? 'identity';
  return spec.activations?.[i] ?? spec.activation ?? 'relu';
}

/** Incoming weights of Martens' sparse initialisation. */
const SPARSE_FAN_IN = 15;

function sparseWeights(fanOut: number, fanIn: number, rng: Rng): Tensor {
  const w = new Float32Array(fanOut * fanIn);
  const cols = Array.from({ length: fanIn }, (_, j) => j);
  const k = Math.min(SPARSE_FAN_IN, fanIn);
  for (let r = 0; r < fanOut; r++) {
    // A partial Fisher–Yates shuffle picks k distinct inputs for this unit.
    for (let j = 0; j < k; j++) {
      const pick = j + Math.floor(rng.uniform() * (fanIn - j));
      [cols[j], cols[pick]] = [cols[pick], cols[j]];
      w[r * fanIn + cols[j]] = rng.normal();
    }
  }
  return np.array(w).reshape([fanOut, fanIn]);
}

/** Parameters by `spec.init` (see MlpInit) with zero biases. */
export function initMlp(spec: MlpSpec, seed = 0): ParamDict {
  const params: ParamDict = {};
  const init = spec.init ?? 'scaled-normal';
  const rng = new Rng(seed * 7919 + 17);
  let key = random.key(seed);
  for (let i = 0; i + 1 < spec.sizes.length; i++) {
    const [fanIn, fanOut] = [spec.sizes[i], spec.sizes[i + 1]];
    const [k1, k2] = random.split(key, 2) as unknown as [Tensor, Tensor];
    key = k1;
    const w = `${layerName(i)}.w`;
    if (init === 'sparse') {
      k2.dispose();
      params[w] = sparseWeights(fanOut, fanIn, rng);
    } else if (init === 'glorot-uniform') {
      const r = Math.sqrt(6 / (fanIn + fanOut));
      params[w] = random.uniform(k2, [fanOut, fanIn], { minval: -r, maxval: r });
    } else {
      const gain = (spec.activation ?? 'relu') === 'relu' ? 2 : 1;
      params[w] = random.normal(k2, [fanOut, fanIn]).mul(Math.sqrt(gain / fanIn));
    }
    params[`${layerName(i)}.b`] = np.zeros([fanOut]);
  }
  key.dispose();
  return params;
}

/** What one layer's forward pass keeps for backward: the dense layer's input, the activation's
 * cache, and which activation it was. (A relu's cache is its input s in jax-js operations and its
 * output y = max(s, 0) from the fused WGSL kernels: s > 0 exactly where y > 0, so either serves.) */
export interface LayerCache {
  dense: Tensor;
  act: Tensor | null;
  kind: Activation;
}

/** Forward pass (borrows params, consumes x): outputs and the caches backward needs. */
export function mlpForward(
  params: ParamDict,
  x: Tensor,
  spec: MlpSpec,
): { out: Tensor; caches: LayerCache[] } {
  const L = spec.sizes.length - 1;
  const caches: LayerCache[] = [];
  let h = x;
  if (fusedWgslReady([x, ...Object.values(params)])) {
    // WebGPU: one fused kernel per layer (product, bias and activation) in place of three or four
    // jax-js operations; the activation's cache is the layer's output.
    for (let i = 0; i < L; i++) {
      const name = layerName(i);
      const kind = layerActivation(spec, i);
      const y = denseForwardWgsl(h, params[`${name}.w`], params[`${name}.b`] ?? null, kind);
      caches.push({ dense: h, act: kind === 'identity' ? null : y.ref, kind });
      h = y;
    }
    return { out: h, caches };
  }
  for (let i = 0; i < L; i++) {
    const { y, cache } = denseForward({ w: params[`${layerName(i)}.w`], b: params[`${layerName(i)}.b`] }, h);
    const kind = layerActivation(spec, i);
    const act = activationForward(kind, y);
    caches.push({ dense: cache, act: act.cache, kind });
    h = act.y;
  }
  return { out: h, caches };
}

/**
 * Backward through every layer from ∂L/∂out (borrows params; consumes caches and dOut). With
 * `tapsOnly` the weight-gradient products are skipped (the sampled-target pass of the true Fisher).
 */
function mlpBackward(
  params: ParamDict,
  caches: LayerCache[],
  dOut: Tensor,
  tapsOnly = false,
): { grads: ParamDict; taps: Record<string, CurvatureTap> } {
  const grads: ParamDict = {};
  const taps: Record<string, CurvatureTap> = {};
  let d = dOut;
  for (let i = caches.length - 1; i >= 0; i--) {
    const c = caches[i];
    const name = layerName(i);
    const w = params[`${name}.w`];
    const b = params[`${name}.b`];
    if (fusedWgslReady([c.dense, w, d, ...(c.act ? [c.act] : [])])) {
      // WebGPU: dZ = dY ⊙ f'(Y), the tap g = B·dZ, dX, dW and db in one command buffer (an identity
      // layer has no Y: its derivative does not read it, so dY stands in).
      const r = denseBackwardWgsl(c.dense, w, c.act ?? d, d, c.kind, {
        needInput: i > 0,
        needWeightGrad: !tapsOnly,
        needBias: b !== undefined,
        tapScale: d.shape[0],
      });
      c.act?.dispose();
      d.dispose();
      grads[`${name}.w`] = r.dw ?? np.zeros([0]);
      if (r.db) grads[`${name}.b`] = r.db;
      taps[`${name}.w`] = { a: c.dense, g: r.g };
      d = r.dx as Tensor;
      continue;
    }
    const ds = activationBackward(c.kind, c.act, d);
    const r = denseBackward({ w, b }, c.dense, ds, {
      needInput: i > 0,
      needWeightGrad: !tapsOnly,
    });
    grads[`${name}.w`] = r.dw;
    if (r.db) grads[`${name}.b`] = r.db;
    taps[`${name}.w`] = r.tap;
    d = r.dx as Tensor;
  }
  return { grads, taps };
}

function refCaches(caches: LayerCache[]): LayerCache[] {
  return caches.map((c) => ({ dense: c.dense.ref, act: c.act ? c.act.ref : null, kind: c.kind }));
}

/**
 * Output tangents J·d, one per direction d (a change of every parameter), by forward mode through
 * the forward pass's caches: ds = dh·Wᵀ + h·dWᵀ + db, dh' = f'(s) ⊙ ds. Borrows everything.
 */
export function mlpTangents(params: ParamDict, caches: LayerCache[], dirs: ParamDict[]): Tensor[] {
  return dirs.map((d) => {
    let dh: Tensor | null = null;
    for (let i = 0; i < caches.length; i++) {
      const name = layerName(i);
      const c = caches[i];
      let ds = mm(c.dense.ref, d[`${name}.w`].ref, false, true);
      if (dh) ds = ds.add(mm(dh, params[`${name}.w`].ref, false, true));
      const db = d[`${name}.b`];
      if (db) ds = ds.add(db.ref);
      dh = activationTangent(c.kind, c.act, ds);
    }
    return dh as Tensor;
  });
}

/** Whether the CPU engine (dense-engine.ts) can take this call: concrete arrays on a CPU device. */
function onEngine(params: ParamDict, x: Tensor): boolean {
  const device = defaultDevice();
  if (device !== 'wasm' && device !== 'cpu') return false;
  return x instanceof np.Array && Object.values(params).every((p) => p instanceof np.Array);
}

/**
 * The MLP's outputs (borrows params, consumes x): on the CPU devices one forward pass of the Wasm
 * engine (the same outputs to f32 tolerance), elsewhere the layers' jax-js forward pass.
 */
export function mlpPredict(params: ParamDict, x: Tensor, spec: MlpSpec): Tensor {
  if (onEngine(params, x)) {
    const activations = spec.sizes.slice(1).map((_, i) => layerActivation(spec, i));
    const out = densePredict(params, x, { sizes: spec.sizes, activations });
    if (out) return out;
  }
  const { out, caches } = mlpForward(params, x, spec);
  for (const c of caches) {
    c.dense.dispose();
    c.act?.dispose();
  }
  return out;
}

/**
 * Mean loss, gradients and (optionally) curvature taps in one forward pass. On the CPU devices the
 * Wasm engine of dense-engine.ts computes them (the same results to f32 tolerance).
 * fisher: 'true' samples targets from the model for the taps' output gradients (K-FAC's default),
 * 'empirical' uses the data targets, 'none' returns no taps. `keepForward` also returns the forward
 * pass (outputs and tangents). `curvatureRows` S: the taps of the 'true' Fisher and the kept forward
 * pass cover the batch's first S rows only (the engine honours it; the jax-js path uses the whole
 * batch). Borrows params; consumes x, targets, key.
 */
export function mlpLossAndGrads(
  params: ParamDict,
  x: Tensor,
  targets: Tensor,
  spec: MlpSpec,
  loss: Loss,
  {
    fisher = 'none',
    key,
    keepForward = false,
    curvatureRows,
  }: { fisher?: FisherKind; key?: Tensor; keepForward?: boolean; curvatureRows?: number } = {},
): LossAndGrads {
  if (onEngine(params, x)) {
    const activations = spec.sizes.slice(1).map((_, i) => layerActivation(spec, i));
    const r = denseLossAndGrads(params, x, targets, { sizes: spec.sizes, activations }, loss, {
      fisher,
      key,
      keepForward,
      curvatureRows,
    });
    if (r) return r;
  }
  const { out, caches } = mlpForward(params, x, spec);
  return lossAndGradsFrom(
    out,
    caches,
    targets,
    loss,
    (c, d, tapsOnly) => mlpBackward(params, c, d, tapsOnly),
    refCaches,
    {
      fisher,
      key,
      tangents: keepForward ? (c, dirs) => mlpTangents(params, c, dirs) : undefined,
    },
  );
}
