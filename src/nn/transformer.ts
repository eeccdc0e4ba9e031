/**
 * A small decoder-only transformer for next-character prediction, with explicit backward passes and
 * curvature taps for every weight (the layers of attention.ts, layers.ts and embedding.ts):
 *   h = tok.emb[ids] + pos.emb[t]
 *   per block: h += attn(ln1(h));  h += fc2(relu(fc1(ln2(h))))      (pre-norm residual blocks)
 *   logits = head(lnf(h))                                              ((B·T)×V, one row per token)
 * Activations are token rows (B·T)×D; the loss is the mean over all B·T predictions, so K-FAC's taps
 * treat every token as an example. Parameter names: tok.emb, pos.emb, block{i}.{ln1,ln2}.{gain,bias},
 * block{i}.attn.{qkv,proj}.{w,b}, block{i}.mlp.{fc1,fc2}.{w,b}, lnf.{gain,bias}, head.{w,b}.
 */
import { numpy as np, random } from '@jax-js/jax';
import type { ParamDict, Tensor } from '../backend/taps.js';
import {
  type AttentionCache,
  attentionBackward,
  attentionForward,
  disposeAttentionCache,
  refAttentionCache,
} from './attention.js';
import { embeddingBackward, embeddingForward, layerNormBackward, layerNormForward } from './embedding.js';
import { lossAndGradsFrom, type Taps } from './fisher.js';
import { activationBackward, activationForward, denseBackward, denseForward } from './layers.js';
import type { Model } from './model.js';

/** A character transformer's size: vocabulary, context length, width, heads and blocks. */
export interface CharTransformerSpec {
  vocab: number;
  /** Characters per example (the attention window). */
  context: number;
  width: number;
  heads: number;
  layers: number;
  /** Width of the blocks' MLP (default 4·width). */
  hidden?: number;
}

/**
 * GPT-2-style initialisation: embeddings N(0, 0.02²), maps into a block N(0, 1/fan_in) (2/fan_in
 * before relu), maps back into the residual stream scaled down by √(2·layers), zero biases, unit gains.
 */
export function initCharTransformer(s: CharTransformerSpec, seed = 0): ParamDict {
  const D = s.width;
  const Hd = s.hidden ?? 4 * D;
  const shapes: [string, number[], number][] = [
    ['tok.emb', [s.vocab, D], 0.02],
    ['pos.emb', [s.context, D], 0.02],
  ];
  const residual = 1 / Math.sqrt(2 * s.layers);
  for (let i = 0; i < s.layers; i++) {
    shapes.push(
      [`block${i}.attn.qkv.w`, [3 * D, D], Math.sqrt(1 / D)],
      [`block${i}.attn.proj.w`, [D, D], Math.sqrt(1 / D) * residual],
      [`block${i}.mlp.fc1.w`, [Hd, D], Math.sqrt(2 / D)],
      [`block${i}.mlp.fc2.w`, [D, Hd], Math.sqrt(1 / Hd) * residual],
    );
  }
  shapes.push(['head.w', [s.vocab, D], Math.sqrt(1 / D)]);
  const keys = random.split(random.key(seed), shapes.length) as unknown as Tensor;
  const params: ParamDict = {};
  shapes.forEach(([name, shape, scale], i) => {
    params[name] = random.normal(keys.ref.slice(i), shape).mul(scale);
    if (name.endsWith('.w')) params[name.replace(/\.w$/, '.b')] = np.zeros([shape[0]]);
  });
  keys.dispose();
  const norms = [
    ...Array.from({ length: s.layers }, (_, i) => [`block${i}.ln1`, `block${i}.ln2`]).flat(),
    'lnf',
  ];
  for (const n of norms) {
    params[`${n}.gain`] = np.ones([D]);
    params[`${n}.bias`] = np.zeros([D]);
  }
  return params;
}

type LnCache = ReturnType<typeof layerNormForward>['cache'];

interface BlockCache {
  ln1: LnCache;
  attn: AttentionCache;
  ln2: LnCache;
  fc1In: Tensor;
  relu: Tensor;
  fc2In: Tensor;
}

interface Caches {
  tokIds: Tensor;
  posIds: Tensor;
  blocks: BlockCache[];
  lnf: LnCache;
  headIn: Tensor;
}

const ln = (p: ParamDict, n: string) => ({ gain: p[`${n}.gain`], bias: p[`${n}.bias`] });
const dense = (p: ParamDict, n: string) => ({ w: p[`${n}.w`], b: p[`${n}.b`] });
const attnParams = (p: ParamDict, i: number) => ({
  qkvW: p[`block${i}.attn.qkv.w`],
  qkvB: p[`block${i}.attn.qkv.b`],
  projW: p[`block${i}.attn.proj.w`],
  projB: p[`block${i}.attn.proj.b`],
});

function positions(batch: number, T: number): Tensor {
  const ids = new Int32Array(batch * T);
  for (let r = 0; r < ids.length; r++) ids[r] = r % T;
  return np.array(ids, { dtype: np.int32 });
}

/** Logits (B·T)×V for x: B×T character ids (as floats). Borrows params; consumes x. */
function forward(p: ParamDict, s: CharTransformerSpec, x: Tensor): { out: Tensor; caches: Caches } {
  const [B, T] = x.shape;
  const tokIds = x.astype(np.int32).reshape([B * T]);
  const posIds = positions(B, T);
  const tok = embeddingForward(p['tok.emb'], tokIds);
  const pos = embeddingForward(p['pos.emb'], posIds);
  let h = tok.y.add(pos.y);
  const blocks: BlockCache[] = [];
  for (let i = 0; i < s.layers; i++) {
    const n1 = layerNormForward(ln(p, `block${i}.ln1`), h.ref);
    const att = attentionForward(attnParams(p, i), n1.y, B, s.heads);
    h = h.add(att.y);
    const n2 = layerNormForward(ln(p, `block${i}.ln2`), h.ref);
    const f1 = denseForward(dense(p, `block${i}.mlp.fc1`), n2.y);
    const act = activationForward('relu', f1.y);
    const f2 = denseForward(dense(p, `block${i}.mlp.fc2`), act.y);
    h = h.add(f2.y);
    blocks.push({
      ln1: n1.cache,
      attn: att.cache,
      ln2: n2.cache,
      fc1In: f1.cache,
      relu: act.cache!,
      fc2In: f2.cache,
    });
  }
  const nf = layerNormForward(ln(p, 'lnf'), h);
  const head = denseForward(dense(p, 'head'), nf.y);
  return {
    out: head.y,
    caches: { tokIds: tok.cache, posIds: pos.cache, blocks, lnf: nf.cache, headIn: head.cache },
  };
}

/** Gradients and taps of every parameter from ∂L/∂logits. Borrows params; consumes caches and dOut. */
function backward(p: ParamDict, c: Caches, dOut: Tensor): { grads: ParamDict; taps: Taps } {
  const grads: ParamDict = {};
  const taps: Taps = {};
  const denseBack = (name: string, input: Tensor, ds: Tensor) => {
    const r = denseBackward(dense(p, name), input, ds);
    grads[`${name}.w`] = r.dw;
    grads[`${name}.b`] = r.db!;
    taps[`${name}.w`] = r.tap;
    return r.dx!;
  };
  const normBack = (name: string, cache: LnCache, dy: Tensor) => {
    const r = layerNormBackward(ln(p, name), cache, dy);
    grads[`${name}.gain`] = r.dgain;
    grads[`${name}.bias`] = r.dbias;
    taps[`${name}.gain`] = r.tap;
    taps[`${name}.bias`] = r.biasTap;
    return r.dx;
  };
  let d = normBack('lnf', c.lnf, denseBack('head', c.headIn, dOut));
  for (let i = c.blocks.length - 1; i >= 0; i--) {
    const b = c.blocks[i];
    const dAct = denseBack(`block${i}.mlp.fc2`, b.fc2In, d.ref);
    const dMlp = denseBack(`block${i}.mlp.fc1`, b.fc1In, activationBackward('relu', b.relu, dAct));
    d = d.add(normBack(`block${i}.ln2`, b.ln2, dMlp));
    const att = attentionBackward(attnParams(p, i), b.attn, d.ref);
    grads[`block${i}.attn.qkv.w`] = att.grads.qkvW;
    grads[`block${i}.attn.qkv.b`] = att.grads.qkvB;
    grads[`block${i}.attn.proj.w`] = att.grads.projW;
    grads[`block${i}.attn.proj.b`] = att.grads.projB;
    taps[`block${i}.attn.qkv.w`] = att.taps.qkv;
    taps[`block${i}.attn.proj.w`] = att.taps.proj;
    d = d.add(normBack(`block${i}.ln1`, b.ln1, att.dx));
  }
  const tok = embeddingBackward(p['tok.emb'], c.tokIds, d.ref);
  const pos = embeddingBackward(p['pos.emb'], c.posIds, d);
  grads['tok.emb'] = tok.dE;
  grads['pos.emb'] = pos.dE;
  taps['tok.emb'] = tok.tap;
  taps['pos.emb'] = pos.tap;
  return { grads, taps };
}

const refLn = (c: LnCache): LnCache => ({ xhat: c.xhat.ref, invStd: c.invStd.ref });

function refCaches(c: Caches): Caches {
  return {
    tokIds: c.tokIds.ref,
    posIds: c.posIds.ref,
    blocks: c.blocks.map((b) => ({
      ln1: refLn(b.ln1),
      attn: refAttentionCache(b.attn),
      ln2: refLn(b.ln2),
      fc1In: b.fc1In.ref,
      relu: b.relu.ref,
      fc2In: b.fc2In.ref,
    })),
    lnf: refLn(c.lnf),
    headIn: c.headIn.ref,
  };
}

function disposeCaches(c: Caches): void {
  const lnArrays = (l: LnCache) => [l.xhat, l.invStd];
  for (const b of c.blocks) {
    disposeAttentionCache(b.attn);
    for (const t of [...lnArrays(b.ln1), ...lnArrays(b.ln2), b.fc1In, b.relu, b.fc2In]) t.dispose();
  }
  for (const t of [c.tokIds, c.posIds, ...lnArrays(c.lnf), c.headIn]) t.dispose();
}

/**
 * The transformer as a Model: inputs B×T ids, outputs (B·T)×V logits for targets of length B·T.
 *
 * @example
 * ```ts
 * const model = charTransformer({ vocab: 11, context: 6, width: 8, heads: 2, layers: 2 });
 * const params = model.init(0);
 * // x: B×6 character ids as floats, t: the B·6 next-character ids (int32)
 * const { loss, grads, taps } = model.lossAndGrads(params, x, t, softmaxCrossEntropy, { fisher: 'true', key });
 * // K-FAC preconditions every weight: kfac(0.2, { klClip: 0.01 }).update(grads, state, params, { taps })
 * ```
 * (transformer.test.ts runs this.)
 */
export function charTransformer(spec: CharTransformerSpec): Model {
  return {
    description:
      `transformer ${spec.layers} blocks × width ${spec.width}, ${spec.heads} heads, ` +
      `context ${spec.context}, vocabulary ${spec.vocab}`,
    inputShape: [spec.context],
    head: ['head.w'],
    init: (seed) => initCharTransformer(spec, seed),
    predict(params, x) {
      const { out, caches } = forward(params, spec, x);
      disposeCaches(caches);
      return out;
    },
    lossAndGrads(params, x, targets, loss, opts) {
      const { out, caches } = forward(params, spec, x);
      const back = (c: Caches, d: Tensor) => backward(params, c, d);
      return lossAndGradsFrom(out, caches, targets, loss, back, refCaches, opts);
    },
  };
}
