/**
 * What the training loop needs of a model: parameters, a forward pass for evaluation, and one
 * forward/backward that returns the loss, the gradients and (for K-FAC) the curvature taps.
 */
import type { ParamDict, Tensor } from '../backend/taps.js';
import type { FisherKind, LossAndGrads } from './fisher.js';
import type { Loss } from './losses.js';
import { initMlp, layerActivation, layerName, type MlpSpec, mlpLossAndGrads, mlpPredict } from './mlp.js';

/** A model as the training loop sees it: a description, its input shape, parameter initialisation,
 * evaluation and one forward/backward. */
export interface Model {
  readonly description: string;
  /** Shape of one example (e.g. [784] or [1, 28, 28]). */
  readonly inputShape: number[];
  /** Names of the output head's weights (routing gives them to AdamW). */
  readonly head: string[];
  /** Fresh parameters from `seed` (the same seed gives the same parameters). */
  init(seed: number): ParamDict;
  /** Outputs for a batch (borrows params, consumes x); intermediate caches are freed. */
  predict(params: ParamDict, x: Tensor): Tensor;
  /**
   * Mean loss, gradients and, as `opts.fisher` asks, curvature taps in one forward/backward.
   * Borrows params; consumes x, targets and key.
   */
  lossAndGrads(
    params: ParamDict,
    x: Tensor,
    targets: Tensor,
    loss: Loss,
    opts: {
      fisher?: FisherKind;
      key?: Tensor;
      /** Keep the forward pass for output tangents (models that can give them; others ignore it). */
      keepForward?: boolean;
      /**
       * Curvature on a subset: the sampled-target taps and the kept forward pass cover only the
       * batch's first this-many rows (the CPU engine's MLP honours it; other models use the batch).
       */
      curvatureRows?: number;
    },
  ): LossAndGrads;
}

function describeActivations(spec: MlpSpec): string {
  const hidden = spec.sizes.slice(1, -1).map((_, i) => layerActivation(spec, i));
  const distinct = [...new Set(hidden)];
  return distinct.length <= 1 ? (distinct[0] ?? spec.activation ?? 'relu') : hidden.join(',');
}

/** The MLP of mlp.ts as a Model. */
export function mlpModel(spec: MlpSpec): Model {
  return {
    description: `MLP ${spec.sizes.join('-')} (${describeActivations(spec)})`,
    inputShape: [spec.sizes[0]],
    head: spec.sizes.length > 2 ? [`${layerName(spec.sizes.length - 2)}.w`] : [],
    init: (seed) => initMlp(spec, seed),
    predict: (params, x) => mlpPredict(params, x, spec),
    lossAndGrads: (params, x, targets, loss, opts) => mlpLossAndGrads(params, x, targets, spec, loss, opts),
  };
}
