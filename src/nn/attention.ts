/**
 * Causal multi-head self-attention with an explicit backward pass.
 *
 * Per head, with q, k, v of shape B×H×T×d and c = 1/√d:
 *   S = c·q kᵀ + M (M = −∞ above the diagonal: position t sees positions ≤ t),
 *   P = softmax(S) along the last axis,  O = P v.
 * Backward from dO:
 *   dv = Pᵀ dO,  dP = dO vᵀ,  dS = P ⊙ (dP − rowsum(dP ⊙ P)),  dq = c·dS k,  dk = c·dSᵀ q.
 * The layer wraps the core in two dense maps on token rows (B·T)×D: qkv (D → 3D) and proj (D → D),
 * whose curvature taps treat every token as an example (K-FAC "expand"). Consumes array arguments;
 * borrows parameters.
 */
import { nn, numpy as np } from '@jax-js/jax';
import type { CurvatureTap, Tensor } from '../backend/taps.js';
import { denseBackward, denseForward } from './layers.js';

/** A large negative score instead of −∞, so that masked rows stay finite in float32. */
const MASKED = -1e9;

/** What the attention core keeps for backward: q, k, v and the attention weights P. */
export interface AttentionCoreCache {
  q: Tensor;
  k: Tensor;
  v: Tensor;
  p: Tensor;
}

function causalMask(T: number): Tensor {
  return np.tril(np.ones([T, T])).greater(0);
}

/** O = softmax(c·q kᵀ + M) v for q, k, v of shape B×H×T×d. */
export function attentionCoreForward(
  q: Tensor,
  k: Tensor,
  v: Tensor,
): { out: Tensor; cache: AttentionCoreCache } {
  const T = q.shape[2];
  const c = 1 / Math.sqrt(q.shape[3]);
  const scores = np.matmul(q.ref, np.swapaxes(k.ref, 2, 3)).mul(c);
  const p = nn.softmax(np.where(causalMask(T), scores, MASKED), -1);
  const out = np.matmul(p.ref, v.ref);
  return { out, cache: { q, k, v, p } };
}

/** Backward of {@link attentionCoreForward}: dq, dk, dv from dO. Consumes the cache and dO. */
export function attentionCoreBackward(
  cache: AttentionCoreCache,
  dOut: Tensor,
): { dq: Tensor; dk: Tensor; dv: Tensor } {
  const { q, k, v, p } = cache;
  const c = 1 / Math.sqrt(q.shape[3]);
  const dv = np.matmul(np.swapaxes(p.ref, 2, 3), dOut.ref);
  const dp = np.matmul(dOut, np.swapaxes(v, 2, 3));
  const rowDot = np.sum(dp.ref.mul(p.ref), -1, { keepdims: true });
  // Masked entries have P = 0, so dS is 0 there without another mask.
  const ds = p.mul(dp.sub(rowDot)).mul(c);
  const dq = np.matmul(ds.ref, k);
  const dk = np.matmul(np.swapaxes(ds, 2, 3), q);
  return { dq, dk, dv };
}

/** The attention layer's two dense maps: qkv (D → 3D) and proj (D → D), weights and biases. */
export interface AttentionParams {
  qkvW: Tensor;
  qkvB: Tensor;
  projW: Tensor;
  projB: Tensor;
}

/** What {@link attentionForward} keeps for backward: both dense maps' inputs, the core's cache and
 * the shape (sequences, tokens per sequence, heads). */
export interface AttentionCache {
  qkvIn: Tensor;
  projIn: Tensor;
  core: AttentionCoreCache;
  batch: number;
  context: number;
  heads: number;
}

/** Self-attention of token rows x ((B·T)×D, B sequences of T tokens) with `heads` heads. */
export function attentionForward(
  p: AttentionParams,
  x: Tensor,
  batch: number,
  heads: number,
): { y: Tensor; cache: AttentionCache } {
  const [rows, D] = x.shape;
  const T = rows / batch;
  const d = D / heads;
  const qkv = denseForward({ w: p.qkvW, b: p.qkvB }, x);
  // (B·T)×3D → 3×B×H×T×d
  const split = np.transpose(qkv.y.reshape([batch, T, 3, heads, d]), [2, 0, 3, 1, 4]);
  const core = attentionCoreForward(split.ref.slice(0), split.ref.slice(1), split.slice(2));
  const merged = np.transpose(core.out, [0, 2, 1, 3]).reshape([rows, D]);
  const proj = denseForward({ w: p.projW, b: p.projB }, merged);
  return {
    y: proj.y,
    cache: { qkvIn: qkv.cache, projIn: proj.cache, core: core.cache, batch, context: T, heads },
  };
}

/**
 * Backward of {@link attentionForward}: ∂L/∂x, the four parameter gradients and the curvature taps of
 * qkv and proj. Borrows the parameters; consumes the cache and dy.
 */
export function attentionBackward(
  p: AttentionParams,
  cache: AttentionCache,
  dy: Tensor,
): {
  dx: Tensor;
  grads: { qkvW: Tensor; qkvB: Tensor; projW: Tensor; projB: Tensor };
  taps: { qkv: CurvatureTap; proj: CurvatureTap };
} {
  const { batch, context: T, heads } = cache;
  const [rows, D] = dy.shape;
  const d = D / heads;
  const proj = denseBackward({ w: p.projW, b: p.projB }, cache.projIn, dy);
  const dOut = np.transpose(proj.dx!.reshape([batch, T, heads, d]), [0, 2, 1, 3]);
  const { dq, dk, dv } = attentionCoreBackward(cache.core, dOut);
  // 3×B×H×T×d → (B·T)×3D, the inverse of the forward split.
  const dqkv = np.transpose(np.stack([dq, dk, dv]), [1, 3, 0, 2, 4]).reshape([rows, 3 * D]);
  const qkv = denseBackward({ w: p.qkvW, b: p.qkvB }, cache.qkvIn, dqkv);
  return {
    dx: qkv.dx!,
    grads: { qkvW: qkv.dw, qkvB: qkv.db!, projW: proj.dw, projB: proj.db! },
    taps: { qkv: qkv.tap, proj: proj.tap },
  };
}

/** Every array of the cache with one more reference (for a second backward pass). */
export function refAttentionCache(c: AttentionCache): AttentionCache {
  return {
    ...c,
    qkvIn: c.qkvIn.ref,
    projIn: c.projIn.ref,
    core: { q: c.core.q.ref, k: c.core.k.ref, v: c.core.v.ref, p: c.core.p.ref },
  };
}

/** Disposes every array of the cache (consumes it). */
export function disposeAttentionCache(c: AttentionCache): void {
  for (const t of [c.qkvIn, c.projIn, c.core.q, c.core.k, c.core.v, c.core.p]) t.dispose();
}
