/**
 * The arrays that layers produce and optimizers consume, shared by nn/ and optim/ so that neither
 * imports the other for them: named jax-js arrays, curvature taps, and disposal of array trees.
 */
import { numpy as np } from '@jax-js/jax';

/** A jax-js array. */
export type Tensor = np.Array;
/** A model's parameters (or their gradients) by name, e.g. `fc0.w`, `fc0.b`. */
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
  /**
   * The same statistics already summed on the host, where the producer had them at hand (the CPU
   * engine): aᵀa (in×in), the column sums of a, and gᵀg (out×out), row-major f32, unscaled.
   */
  sums?: { aa: Float32Array; a: Float32Array; gg: Float32Array };
}

/** Per-example gradients of a vector parameter (B×D), for K-FAC's diagonal rule (layer-norm gains). */
export interface DiagonalTap {
  perExample: Tensor;
}

/** Disposes every jax-js array in a tree of records and lists (other leaves are ignored). */
export function disposeTree(x: unknown): void {
  // Typed arrays (the CPU engine's factor sums) hold no device arrays: walking them entry by entry
  // cost a fifth of a K-FAC step.
  if (x === null || x === undefined || ArrayBuffer.isView(x)) return;
  if (x instanceof np.Array) {
    x.dispose();
    return;
  }
  if (Array.isArray(x)) x.forEach(disposeTree);
  else if (typeof x === 'object') Object.values(x as object).forEach(disposeTree);
}
