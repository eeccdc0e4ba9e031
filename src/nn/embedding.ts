/**
 * Embedding lookup and layer normalisation, with explicit backward passes.
 *
 * Embedding: E is V×D (vocabulary × width); y = E[ids] for int32 ids of shape B; ∂L/∂E = onehot(ids)ᵀ dy.
 * Layer norm over the last axis (width D): x̂ = (x − μ)/√(σ² + ε), y = γ ⊙ x̂ + β; with dŷ = γ ⊙ dy,
 *   ∂L/∂x = (dŷ − mean(dŷ) − x̂ ⊙ mean(dŷ ⊙ x̂)) / √(σ² + ε).
 * K-FAC taps: the embedding is a dense layer with one-hot inputs stored transposed; layer-norm gains
 * and biases get per-example gradients for the diagonal rule. Both consume their array arguments and borrow
 * parameters.
 */
import { nn, numpy as np } from '@jax-js/jax';
import type { CurvatureTap, DiagonalTap, Tensor } from '../backend/taps.js';

/** y = E[ids], the table's rows for the ids. Borrows E; consumes ids, which it keeps as the cache. */
export function embeddingForward(E: Tensor, ids: Tensor): { y: Tensor; cache: Tensor } {
  return { y: np.take(E.ref, ids.ref, 0), cache: ids };
}

/**
 * ∂L/∂E and K-FAC's tap: the table is the transpose of a dense layer with one-hot inputs, so the
 * tap is a = onehot(ids) (B×V), g = B·dy, marked `transposed` (its input factor is diagonal: token
 * frequencies).
 */
export function embeddingBackward(E: Tensor, ids: Tensor, dy: Tensor): { dE: Tensor; tap: CurvatureTap } {
  const B = dy.shape[0];
  const onehot = nn.oneHot(ids, E.shape[0]);
  const dE = np.matmul(onehot.ref.transpose(), dy.ref);
  return { dE, tap: { a: onehot, g: dy.mul(B), transposed: true } };
}

/** Layer norm's gain γ and bias β (width D each). */
export interface LayerNormParams {
  gain: Tensor;
  bias: Tensor;
}

interface LayerNormCache {
  xhat: Tensor;
  invStd: Tensor;
}

/** y = γ ⊙ (x − μ)/√(σ² + ε) + β over the last axis. Borrows the parameters; consumes x. */
export function layerNormForward(
  p: LayerNormParams,
  x: Tensor,
  eps = 1e-5,
): { y: Tensor; cache: LayerNormCache } {
  const mu = np.mean(x.ref, -1, { keepdims: true });
  const xc = x.sub(mu);
  const variance = np.mean(np.square(xc.ref), -1, { keepdims: true });
  const invStd = np.reciprocal(np.sqrt(variance.add(eps)));
  const xhat = xc.mul(invStd.ref);
  return { y: xhat.ref.mul(p.gain.ref).add(p.bias.ref), cache: { xhat, invStd } };
}

/**
 * Backward of {@link layerNormForward}: ∂L/∂x, ∂L/∂γ, ∂L/∂β and the per-example taps of γ and β.
 * Borrows the parameters; consumes the cache and dy.
 */
export function layerNormBackward(
  p: LayerNormParams,
  cache: LayerNormCache,
  dy: Tensor,
): { dx: Tensor; dgain: Tensor; dbias: Tensor; tap: DiagonalTap; biasTap: DiagonalTap } {
  const { xhat, invStd } = cache;
  const B = dy.shape[0];
  const axes = dy.shape.slice(0, -1).map((_, i) => i);
  const inner = dy.shape.slice(1, -1).map((_, i) => i + 1);
  // Per-example gain gradients (summed over any positions), scaled to per-example losses.
  const dyx = dy.ref.mul(xhat.ref);
  const perExample = (inner.length > 0 ? np.sum(dyx.ref, inner) : dyx.ref).mul(B);
  const biasPerExample = (inner.length > 0 ? np.sum(dy.ref, inner) : dy.ref).mul(B);
  const dgain = np.sum(dyx, axes);
  const dbias = np.sum(dy.ref, axes);
  const dxhat = dy.mul(p.gain.ref);
  const m1 = np.mean(dxhat.ref, -1, { keepdims: true });
  const m2 = np.mean(dxhat.ref.mul(xhat.ref), -1, { keepdims: true });
  const dx = dxhat.sub(m1).sub(xhat.mul(m2)).mul(invStd);
  return { dx, dgain, dbias, tap: { perExample }, biasTap: { perExample: biasPerExample } };
}
