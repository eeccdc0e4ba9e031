/**
 * The optax shape of an optimizer, over named jax-js arrays.
 *
 * Parameters, gradients and updates are flat records from a parameter's name ("fc1.w") to its array.
 * Names (rather than anonymous pytrees) are what routing rules and curvature taps key on.
 *
 * Ownership follows jax-js: `init` borrows `params`; `update` consumes `grads` and `state`, borrows
 * `params`, and returns updates and a new state owned by the caller; `applyUpdates` consumes both
 * arguments. A transformation that needs a value twice takes `.ref`.
 */
import type { numpy as np } from '@jax-js/jax';

export type Tensor = np.Array;
export type ParamDict = Record<string, Tensor>;

/** Per-layer curvature taps for one step (see nn/): input activations a (B×in) and pre-activation
 * output gradients g (B×out), g's rows being per-example ∂ℓᵢ/∂sᵢ. Keyed by the weight's name. */
export interface CurvatureTap {
  /** Layer inputs, B×in (one-hot rows for an embedding). */
  a: Tensor;
  /** Per-example pre-activation output gradients, B×out. */
  g: Tensor;
  /** Spatial positions per example for convolutions (rows of a and g are example × position). */
  positions?: number;
  /** The parameter is stored in×out (an embedding table V×D, or a kernel used as x @ K). */
  transposed?: boolean;
}

/** Per-example gradients of a vector parameter (B×D), for K-FAC's diagonal rule (layer-norm gains). */
export interface DiagonalTap {
  perExample: Tensor;
}

export interface UpdateContext {
  taps?: Record<string, CurvatureTap | DiagonalTap>;
  /**
   * The matrix of dᵢᵀ F dⱼ for directions dᵢ on the current batch, F the model's Fisher (the training
   * loop computes it with forward-mode Jacobian–vector products). Borrows the directions.
   */
  curvatureGram?: (directions: ParamDict[]) => number[][];
  /** The training objective on the current batch at the current parameters. */
  loss?: number;
  /** The training objective on the current batch at θ + step (one more forward pass; borrows step). */
  lossAt?: (step: ParamDict) => number;
  /** Scalars an optimizer reports for the metrics of this step (λ, α, μ, ρ, …). */
  report?: (values: Record<string, number>) => void;
}

export interface GradientTransformation<S> {
  init(params: ParamDict): S;
  update(grads: ParamDict, state: S, params?: ParamDict, ctx?: UpdateContext): [ParamDict, S];
}

/** The state type of a transformation. */
export type StateOf<T> = T extends GradientTransformation<infer S> ? S : never;
