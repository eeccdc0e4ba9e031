/**
 * A multilayer perceptron built from dense layers with explicit backward passes, producing in one
 * forward/backward the gradients and the curvature taps of every layer (names `fc{i}.w`, `fc{i}.b`).
 * For K-FAC's true Fisher the taps' output gradients come from a second backward pass with targets
 * sampled from the model's predictive distribution (reusing the forward caches).
 */
import { numpy as np, random } from '@jax-js/jax';
import type { CurvatureTap, ParamDict, Tensor } from '../optim/types.js';
import { type FisherKind, type LossAndGrads, lossAndGradsFrom } from './fisher.js';
import {
  type Activation,
  activationBackward,
  activationForward,
  denseBackward,
  denseForward,
} from './layers.js';
import type { Loss } from './losses.js';

export type { LossAndGrads } from './fisher.js';

export interface MlpSpec {
  /** Layer widths, input first: [784, 256, 10]. */
  sizes: number[];
  /** Hidden activation (default relu). */
  activation?: Activation;
  /** Output activation before the loss (default identity: losses take logits). */
  output?: Activation;
}

export const layerName = (i: number) => `fc${i}`;

/** Parameters with N(0, 2/fan_in) weights for relu (1/fan_in otherwise) and zero biases. */
export function initMlp(spec: MlpSpec, seed = 0): ParamDict {
  const params: ParamDict = {};
  let key = random.key(seed);
  for (let i = 0; i + 1 < spec.sizes.length; i++) {
    const [fanIn, fanOut] = [spec.sizes[i], spec.sizes[i + 1]];
    const [k1, k2] = random.split(key, 2) as unknown as [Tensor, Tensor];
    key = k1;
    const gain = (spec.activation ?? 'relu') === 'relu' ? 2 : 1;
    params[`${layerName(i)}.w`] = random.normal(k2, [fanOut, fanIn]).mul(Math.sqrt(gain / fanIn));
    params[`${layerName(i)}.b`] = np.zeros([fanOut]);
  }
  key.dispose();
  return params;
}

interface LayerCache {
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
  for (let i = 0; i < L; i++) {
    const { y, cache } = denseForward({ w: params[`${layerName(i)}.w`], b: params[`${layerName(i)}.b`] }, h);
    const kind = i === L - 1 ? (spec.output ?? 'identity') : (spec.activation ?? 'relu');
    const act = activationForward(kind, y);
    caches.push({ dense: cache, act: act.cache, kind });
    h = act.y;
  }
  return { out: h, caches };
}

/** Backward through every layer from ∂L/∂out (borrows params; consumes caches and dOut). */
function mlpBackward(
  params: ParamDict,
  caches: LayerCache[],
  dOut: Tensor,
): { grads: ParamDict; taps: Record<string, CurvatureTap> } {
  const grads: ParamDict = {};
  const taps: Record<string, CurvatureTap> = {};
  let d = dOut;
  for (let i = caches.length - 1; i >= 0; i--) {
    const c = caches[i];
    const ds = activationBackward(c.kind, c.act, d);
    const name = layerName(i);
    const r = denseBackward({ w: params[`${name}.w`], b: params[`${name}.b`] }, c.dense, ds, {
      needInput: i > 0,
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
 * Mean loss, gradients and (optionally) curvature taps in one forward pass.
 * fisher: 'true' samples targets from the model for the taps' output gradients (K-FAC's default),
 * 'empirical' uses the data targets, 'none' returns no taps. Borrows params; consumes x, targets, key.
 */
export function mlpLossAndGrads(
  params: ParamDict,
  x: Tensor,
  targets: Tensor,
  spec: MlpSpec,
  loss: Loss,
  { fisher = 'none', key }: { fisher?: FisherKind; key?: Tensor } = {},
): LossAndGrads {
  const { out, caches } = mlpForward(params, x, spec);
  return lossAndGradsFrom(out, caches, targets, loss, (c, d) => mlpBackward(params, c, d), refCaches, {
    fisher,
    key,
  });
}
