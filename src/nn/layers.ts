/**
 * Layers with an explicit forward/backward pair (the style of hand-written training engines): forward
 * returns the output and what backward needs; backward returns the input gradient, the parameter
 * gradients and the curvature tap K-FAC consumes. Shapes: B examples, row-major batches.
 *
 * Dense: s = x Wᵀ + b with W out×in (a map ℝⁱⁿ → ℝᵒᵘᵗ) and x B×in. With ds = ∂L/∂s (B×out):
 *   ∂L/∂W = dsᵀ x,  ∂L/∂b = Σ_rows ds,  ∂L/∂x = ds W.
 * Taps: a = x and g = B·ds, whose rows are the per-example gradients ∂ℓᵢ/∂sᵢ when L = (1/B)Σℓᵢ.
 * Every function consumes its array arguments unless it says it borrows.
 */
import { numpy as np } from '@jax-js/jax';
import type { CurvatureTap, Tensor } from '../backend/taps.js';
import { mm } from './matmul.js';

/** A dense layer's weight W (out×in) and optional bias b (out). */
export interface DenseParams {
  w: Tensor;
  b?: Tensor;
}

/** s = x Wᵀ + b. Borrows the parameters; consumes x, which it keeps as the cache. */
export function denseForward(p: DenseParams, x: Tensor): { y: Tensor; cache: Tensor } {
  let y = mm(x.ref, p.w.ref, false, true);
  if (p.b) y = y.add(p.b.ref);
  return { y, cache: x };
}

/** What {@link denseBackward} returns: ∂L/∂x (null when not needed), ∂L/∂W, ∂L/∂b (null without a
 * bias) and the layer's curvature tap. */
export interface DenseGrads {
  dx: Tensor | null;
  dw: Tensor;
  db: Tensor | null;
  tap: CurvatureTap;
}

/**
 * Backward of `denseForward`. Borrows the parameters; consumes the cache and ds. With
 * `needWeightGrad: false` (K-FAC's sampled-target pass, which only wants the taps) dw and db are
 * zero-size placeholders and their product is skipped.
 */
export function denseBackward(
  p: DenseParams,
  cache: Tensor,
  ds: Tensor,
  { needInput = true, needWeightGrad = true } = {},
): DenseGrads {
  const B = ds.shape[0];
  const dw = needWeightGrad ? mm(ds.ref, cache.ref, true, false) : np.zeros([0]);
  const db = p.b && needWeightGrad ? np.sum(ds.ref, 0) : null;
  const dx = needInput ? mm(ds.ref, p.w.ref) : null;
  return { dx, dw, db, tap: { a: cache, g: ds.mul(B) } };
}

/** An elementwise activation f applied after a dense layer (`identity`: none). */
export type Activation = 'relu' | 'tanh' | 'sigmoid' | 'identity';

/** y = f(s); the cache is what the derivative needs (s for relu, y for tanh and sigmoid). */
export function activationForward(kind: Activation, s: Tensor): { y: Tensor; cache: Tensor | null } {
  switch (kind) {
    case 'relu': {
      return { y: np.maximum(s.ref, 0), cache: s };
    }
    case 'tanh': {
      const y = np.tanh(s);
      return { y: y.ref, cache: y };
    }
    case 'sigmoid': {
      const y = np.reciprocal(np.exp(s.mul(-1)).add(1));
      return { y: y.ref, cache: y };
    }
    case 'identity':
      return { y: s, cache: null };
  }
}

/**
 * f'(s) ⊙ ds, the forward-mode tangent of y = f(s) (a Jacobian–vector product through the
 * activation). Borrows the cache, consumes ds.
 */
export function activationTangent(kind: Activation, cache: Tensor | null, ds: Tensor): Tensor {
  return activationBackward(kind, cache ? cache.ref : null, ds);
}

/** ∂L/∂s from ∂L/∂y: f'(s) ⊙ dy. Consumes cache and dy. */
export function activationBackward(kind: Activation, cache: Tensor | null, dy: Tensor): Tensor {
  switch (kind) {
    case 'relu':
      return np.where(cache!.greater(0), dy, 0);
    case 'tanh':
      return dy.mul(np.ones(cache!.shape).sub(np.square(cache!)));
    case 'sigmoid':
      return dy.mul(cache!.ref.mul(np.ones(cache!.shape).sub(cache!)));
    case 'identity':
      return dy;
  }
}
