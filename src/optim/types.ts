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
import type { CurvatureTap, DiagonalTap, ParamDict } from '../backend/taps.js';

export type { CurvatureTap, DiagonalTap, ParamDict, Tensor } from '../backend/taps.js';

/** What the training loop offers a transformation besides the gradients: curvature taps, Fisher
 * products, the batch's loss, and a way to report metrics. */
export interface UpdateContext {
  taps?: Record<string, CurvatureTap | DiagonalTap>;
  /**
   * The matrix of dᵢᵀ F dⱼ for directions dᵢ on the current batch, F the model's Fisher (the training
   * loop computes it with forward-mode Jacobian–vector products). Borrows the directions.
   */
  curvatureGram?: (directions: ParamDict[]) => Promise<number[][]>;
  /** The training objective on the current batch at the current parameters. */
  loss?: number;
  /** The training objective on the current batch at θ + step (one more forward pass; borrows step). */
  lossAt?: (step: ParamDict) => Promise<number>;
  /** Scalars an optimizer reports for the metrics of this step (λ, α, μ, ρ, …). */
  report?: (values: Record<string, number>) => void;
}

/**
 * What `update` returns: the updates and the new state, or a promise of them. A transformation that
 * must read device arrays back (K-FAC's host factors and step rules, Shampoo's statistics, the finite
 * check) returns a promise, since WebGPU reads are asynchronous; the purely elementwise ones return
 * the pair itself. `await` works on both.
 */
export type UpdateResult<S> = [ParamDict, S] | Promise<[ParamDict, S]>;

/** An optax-style optimizer stage: an initial state, and an update that maps gradients to updates. */
export interface GradientTransformation<S> {
  /** The initial state for these parameters (borrows params). */
  init(params: ParamDict): S;
  /**
   * Updates and the new state from the gradients (consumes grads and state; borrows params). May
   * return a promise (see {@link UpdateResult}): call it as `await opt.update(...)`.
   */
  update(grads: ParamDict, state: S, params?: ParamDict, ctx?: UpdateContext): UpdateResult<S>;
}

/** A transformation whose update never reads the device: it returns the pair, not a promise. */
export interface SyncGradientTransformation<S> extends GradientTransformation<S> {
  /** Updates and the new state from the gradients (consumes grads and state; borrows params). */
  update(grads: ParamDict, state: S, params?: ParamDict, ctx?: UpdateContext): [ParamDict, S];
}

/** The state type of a transformation. */
export type StateOf<T> = T extends GradientTransformation<infer S> ? S : never;
