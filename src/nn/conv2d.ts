/**
 * 2-D convolution (stride 1, 'same' or 'valid' padding) as im2col + a matrix product, with an explicit
 * backward pass. Input x is B×C×H×W, the kernel K is out×C×kh×kw (stored as the out×(C·kh·kw) matrix
 * the geometry optimizers see after flattening), output B×out×H'×W'. Deep-learning convention
 * (cross-correlation): s[b, o, i, j] = Σ_{c,a,e} K[o, c, a, e] · x_pad[b, c, i + a, j + e] (+ bias[o]).
 *
 * Curvature tap (K-FAC for convolutions, MATH.md §7): a = the patches (B·H'·W' rows of C·kh·kw),
 * g = B·∂L/∂s per position (B·H'·W' rows of out), and `positions` = H'·W', by which K-FAC scales its
 * input factor so that Ā ⊗ Γ matches Ω ⊗ Γ of Grosse & Martens' KFC.
 */
import { numpy as np } from '@jax-js/jax';
import type { CurvatureTap, Tensor } from '../backend/taps.js';

/** A convolution's kernel and optional bias (one per output channel). */
export interface Conv2dParams {
  /** out×C×kh×kw. */
  w: Tensor;
  b?: Tensor;
}

/** 'same' pads so that the output keeps H×W; 'valid' does not pad, giving (H − kh + 1)×(W − kw + 1). */
export type Padding = 'same' | 'valid';

interface ConvCache {
  patches: Tensor;
  xShape: number[];
  outHW: [number, number];
  pad: [number, number];
}

function padding(kind: Padding, kh: number, kw: number): [number, number] {
  return kind === 'same' ? [Math.floor((kh - 1) / 2), Math.floor((kw - 1) / 2)] : [0, 0];
}

/** B×C×H×W → (B·H'·W')×(C·kh·kw) patch matrix (consumes x). */
export function im2col(
  x: Tensor,
  kh: number,
  kw: number,
  pad: [number, number],
  kind: Padding,
): { patches: Tensor; outHW: [number, number] } {
  const [B, C, H, W] = x.shape;
  const hi = kind === 'same' ? [kh - 1 - pad[0], kw - 1 - pad[1]] : [0, 0];
  const xp = np.pad(x, [
    [0, 0],
    [0, 0],
    [pad[0], hi[0]],
    [pad[1], hi[1]],
  ]);
  const Ho = H + pad[0] + hi[0] - kh + 1;
  const Wo = W + pad[1] + hi[1] - kw + 1;
  const shifts: Tensor[] = [];
  for (let a = 0; a < kh; a++)
    for (let e = 0; e < kw; e++) shifts.push(xp.ref.slice([], [], [a, a + Ho], [e, e + Wo]));
  xp.dispose();
  // B×C×(kh·kw)×H'×W' → B×H'×W'×C×(kh·kw) → rows of patches, columns ordered (c, a, e) like K.
  const stacked = np.stack(shifts, 2);
  const patches = stacked.transpose([0, 3, 4, 1, 2]).reshape([B * Ho * Wo, C * kh * kw]);
  return { patches, outHW: [Ho, Wo] };
}

/** Forward (borrows params, consumes x). */
export function conv2dForward(
  p: Conv2dParams,
  x: Tensor,
  kind: Padding = 'same',
): { y: Tensor; cache: ConvCache } {
  const [out, C, kh, kw] = p.w.shape;
  const B = x.shape[0];
  const xShape = x.shape;
  const pad = padding(kind, kh, kw);
  const { patches, outHW } = im2col(x, kh, kw, pad, kind);
  let s = np.matmul(patches.ref, p.w.ref.reshape([out, C * kh * kw]).transpose());
  if (p.b) s = s.add(p.b.ref);
  const y = s.reshape([B, outHW[0], outHW[1], out]).transpose([0, 3, 1, 2]);
  return { y, cache: { patches, xShape, outHW, pad } };
}

/** What {@link conv2dBackward} returns: ∂L/∂x (null when not needed), ∂L/∂K, ∂L/∂b (null without a
 * bias) and the convolution's curvature tap. */
export interface Conv2dGrads {
  dx: Tensor | null;
  dw: Tensor;
  db: Tensor | null;
  tap: CurvatureTap;
}

/** Backward (borrows params; consumes the cache and ds, which is B×out×H'×W'). */
export function conv2dBackward(
  p: Conv2dParams,
  cache: ConvCache,
  ds: Tensor,
  { needInput = true } = {},
): Conv2dGrads {
  const [out, C, kh, kw] = p.w.shape;
  const [B, , H, W] = cache.xShape;
  const [Ho, Wo] = cache.outHW;
  const dsRows = ds.transpose([0, 2, 3, 1]).reshape([B * Ho * Wo, out]);
  const dw = np.matmul(dsRows.ref.transpose(), cache.patches.ref).reshape([out, C, kh, kw]);
  const db = p.b ? np.sum(dsRows.ref, 0) : null;
  let dx: Tensor | null = null;
  if (needInput) {
    // col2im: each kernel offset's slice of the patch gradient adds back at its shifted place.
    const dP = np
      .matmul(dsRows.ref, p.w.ref.reshape([out, C * kh * kw]))
      .reshape([B, Ho, Wo, C, kh * kw])
      .transpose([0, 3, 4, 1, 2]);
    const [p0, p1] = cache.pad;
    const Hp = Ho + kh - 1;
    const Wp = Wo + kw - 1;
    let acc: Tensor | null = null;
    for (let a = 0; a < kh; a++) {
      for (let e = 0; e < kw; e++) {
        const piece = dP.ref.slice([], [], a * kw + e).reshape([B, C, Ho, Wo]);
        const placed = np.pad(piece, [
          [0, 0],
          [0, 0],
          [a, Hp - Ho - a],
          [e, Wp - Wo - e],
        ]);
        acc = acc ? acc.add(placed) : placed;
      }
    }
    dP.dispose();
    dx = acc!.slice([], [], [p0, p0 + H], [p1, p1 + W]);
  }
  return { dx, dw, db, tap: { a: cache.patches, g: dsRows.mul(B), positions: Ho * Wo } };
}
