/**
 * The fused kernels' references: the same quantities in plain jax-js operations, on any device. The
 * tests hold kernels.ts to these; they are also what runs where the fused kernels cannot. Every
 * function borrows its arguments.
 */
import { numpy as np } from '@jax-js/jax';
import type { Tensor } from '../taps.js';
import type { WgslActivation } from './shaders.js';

function activate(act: WgslActivation, s: Tensor): Tensor {
  switch (act) {
    case 'identity':
      return s;
    case 'relu':
      return np.maximum(s, 0);
    case 'tanh':
      return np.tanh(s);
    case 'sigmoid':
      return np.reciprocal(np.exp(s.mul(-1)).add(1));
  }
}

/** f'(s)·dy written through y = f(s). Borrows y and dy. */
function derivative(act: WgslActivation, y: Tensor, dy: Tensor): Tensor {
  switch (act) {
    case 'identity':
      return dy.ref;
    case 'relu':
      return np.where(y.ref.greater(0), dy.ref, 0);
    case 'tanh':
      return dy.ref.mul(np.ones(y.shape).sub(np.square(y.ref)));
    case 'sigmoid':
      return dy.ref.mul(y.ref.mul(np.ones(y.shape).sub(y.ref)));
  }
}

/** Y = f(X Wᵀ + b) in jax-js operations. */
export function denseForwardReference(x: Tensor, w: Tensor, b: Tensor | null, act: WgslActivation): Tensor {
  let s = np.matmul(x.ref, w.ref.transpose());
  if (b) s = s.add(b.ref);
  return activate(act, s);
}

/** dZ = dY ⊙ f'(Y), dX = dZ W, dW = dZᵀ X, db = Σ_rows dZ in jax-js operations. */
export function denseBackwardReference(
  x: Tensor,
  w: Tensor,
  y: Tensor,
  dy: Tensor,
  act: WgslActivation,
): { dz: Tensor; dx: Tensor; dw: Tensor; db: Tensor } {
  const dz = derivative(act, y, dy);
  return {
    dx: np.matmul(dz.ref, w.ref),
    dw: np.matmul(dz.ref.transpose(), x.ref),
    db: np.sum(dz.ref, 0),
    dz,
  };
}

/** aᵀa in jax-js operations. */
export function gramReference(a: Tensor): Tensor {
  return np.matmul(a.ref.transpose(), a.ref);
}
