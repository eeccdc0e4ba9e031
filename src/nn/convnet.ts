/**
 * A small convolutional network for 28×28 digits, with explicit backward passes and curvature taps:
 *   conv1 3×3, 1→8, same, relu → 2×2 average pool → conv2 3×3, 8→16, same, relu → 2×2 average pool
 *   → flatten (16·7·7 = 784) → fc 784→10 (logits).
 * Parameter names: conv1.w/b, conv2.w/b, fc.w/b (the head).
 */
import { numpy as np, random } from '@jax-js/jax';
import type { CurvatureTap, ParamDict, Tensor } from '../backend/taps.js';
import { conv2dBackward, conv2dForward } from './conv2d.js';
import { type LossAndGrads, lossAndGradsFrom } from './fisher.js';
import { activationBackward, denseBackward, denseForward } from './layers.js';
import type { Loss } from './losses.js';
import type { Model } from './model.js';

/** 2×2 average pooling of B×C×H×W (H, W even). */
function pool(x: Tensor): Tensor {
  const [B, C, H, W] = x.shape;
  return np.mean(x.reshape([B, C, H / 2, 2, W / 2, 2]), [3, 5]);
}

function poolBackward(dy: Tensor): Tensor {
  return np.repeat(np.repeat(dy, 2, 2), 2, 3).div(4);
}

function init(seed: number): ParamDict {
  const k = random.split(random.key(seed), 3) as unknown as Tensor;
  const keys = [0, 1, 2].map((i) => k.ref.slice(i));
  k.dispose();
  return {
    'conv1.w': random.normal(keys[0], [8, 1, 3, 3]).mul(Math.sqrt(2 / 9)),
    'conv1.b': np.zeros([8]),
    'conv2.w': random.normal(keys[1], [16, 8, 3, 3]).mul(Math.sqrt(2 / 72)),
    'conv2.b': np.zeros([16]),
    'fc.w': random.normal(keys[2], [10, 784]).mul(Math.sqrt(1 / 784)),
    'fc.b': np.zeros([10]),
  };
}

interface Caches {
  c1: ReturnType<typeof conv2dForward>['cache'];
  s1: Tensor;
  c2: ReturnType<typeof conv2dForward>['cache'];
  s2: Tensor;
  fc: Tensor;
}

function forward(p: ParamDict, x: Tensor): { out: Tensor; caches: Caches } {
  const B = x.shape[0];
  const l1 = conv2dForward({ w: p['conv1.w'], b: p['conv1.b'] }, x, 'same');
  const h1 = pool(np.maximum(l1.y.ref, 0));
  const l2 = conv2dForward({ w: p['conv2.w'], b: p['conv2.b'] }, h1, 'same');
  const h2 = pool(np.maximum(l2.y.ref, 0)).reshape([B, 784]);
  const f = denseForward({ w: p['fc.w'], b: p['fc.b'] }, h2);
  return { out: f.y, caches: { c1: l1.cache, s1: l1.y, c2: l2.cache, s2: l2.y, fc: f.cache } };
}

function backward(
  p: ParamDict,
  c: Caches,
  dOut: Tensor,
): { grads: ParamDict; taps: Record<string, CurvatureTap> } {
  const B = dOut.shape[0];
  const f = denseBackward({ w: p['fc.w'], b: p['fc.b'] }, c.fc, dOut);
  const d2 = activationBackward('relu', c.s2, poolBackward(f.dx!.reshape([B, 16, 7, 7])));
  const l2 = conv2dBackward({ w: p['conv2.w'], b: p['conv2.b'] }, c.c2, d2);
  const d1 = activationBackward('relu', c.s1, poolBackward(l2.dx!));
  const l1 = conv2dBackward({ w: p['conv1.w'], b: p['conv1.b'] }, c.c1, d1, { needInput: false });
  return {
    grads: {
      'conv1.w': l1.dw,
      'conv1.b': l1.db!,
      'conv2.w': l2.dw,
      'conv2.b': l2.db!,
      'fc.w': f.dw,
      'fc.b': f.db!,
    },
    taps: { 'conv1.w': l1.tap, 'conv2.w': l2.tap, 'fc.w': f.tap },
  };
}

function refCaches(c: Caches): Caches {
  return {
    c1: { ...c.c1, patches: c.c1.patches.ref },
    s1: c.s1.ref,
    c2: { ...c.c2, patches: c.c2.patches.ref },
    s2: c.s2.ref,
    fc: c.fc.ref,
  };
}

function disposeCaches(c: Caches): void {
  for (const t of [c.c1.patches, c.s1, c.c2.patches, c.s2, c.fc]) t.dispose();
}

/** The convolutional network above as a {@link Model}, for B×1×28×28 digit images and 10 classes. */
export const mnistConvnet: Model = {
  description: 'convnet conv3×3(8)-pool-conv3×3(16)-pool-fc(10), relu',
  inputShape: [1, 28, 28],
  head: ['fc.w'],
  init,
  predict(params, x) {
    const { out, caches } = forward(params, x);
    disposeCaches(caches);
    return out;
  },
  lossAndGrads(params, x, targets, loss: Loss, opts): LossAndGrads {
    const { out, caches } = forward(params, x);
    return lossAndGradsFrom(out, caches, targets, loss, (c, d) => backward(params, c, d), refCaches, opts);
  },
};
