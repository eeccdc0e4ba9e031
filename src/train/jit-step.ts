/**
 * A jit-compiled forward/backward: the model's `lossAndGrads` traced once per input shape by jax-js,
 * whose compiler fuses the elementwise work between products into few kernels. That pays on models
 * made of many small operations (the character transformer: 2.5× per step); models dominated by
 * large products keep the eager path, which sends those products to riesz's host GEMM (nn/matmul.ts).
 * Curvature taps carry plain fields (positions, transposed) that a traced output cannot: they are
 * recorded while tracing and put back on every call.
 */
import { jit, random } from '@jax-js/jax';
import { borrow, type FisherKind, type LossAndGrads, type Taps } from '../nn/fisher.js';
import type { Loss } from '../nn/losses.js';
import type { Model } from '../nn/model.js';
import type { CurvatureTap, ParamDict, Tensor } from '../optim/types.js';

type TapMeta = Omit<CurvatureTap, 'a' | 'g'>;
type TapArrays = Record<string, Record<string, Tensor>>;

export type LossAndGradsFn = (
  params: ParamDict,
  x: Tensor,
  targets: Tensor,
  key?: Tensor,
  opts?: { keepForward?: boolean; curvatureRows?: number },
) => LossAndGrads;

/**
 * The eager forward/backward (borrows params; consumes x, targets and key). `keepForward` keeps the
 * forward pass for output tangents where the model can give them; `curvatureRows` limits the taps
 * and the kept pass to the batch's first rows where the model can.
 */
export function eagerLossAndGrads(model: Model, loss: Loss, fisher: FisherKind): LossAndGradsFn {
  return (params, x, targets, key, opts) =>
    model.lossAndGrads(params, x, targets, loss, {
      fisher,
      key,
      keepForward: opts?.keepForward,
      curvatureRows: opts?.curvatureRows,
    });
}

/** The same, jit-compiled (same ownership: borrows params; consumes x, targets and key). */
export function jitLossAndGrads(model: Model, loss: Loss, fisher: FisherKind): LossAndGradsFn {
  const meta: Record<string, TapMeta> = {};
  const traced = jit((params: ParamDict, x: Tensor, targets: Tensor, key: Tensor) => {
    const r = model.lossAndGrads(params, x, targets, loss, { fisher, key });
    const taps: TapArrays = {};
    for (const [name, t] of Object.entries(r.taps ?? {})) {
      if ('perExample' in t) taps[name] = { perExample: t.perExample };
      else {
        const { a, g, ...rest } = t;
        meta[name] = rest;
        taps[name] = { a, g };
      }
    }
    // A traced output may not hold undefined.
    return { loss: r.loss, grads: r.grads, taps, ...(r.sse ? { sse: r.sse } : {}) };
  });
  return (params, x, targets, key) => {
    const out = traced(borrow(params), x, targets, key ?? random.key(0)) as {
      loss: Tensor;
      grads: ParamDict;
      taps: TapArrays;
      sse?: Tensor;
    };
    if (fisher === 'none') return { loss: out.loss, grads: out.grads, sse: out.sse };
    const taps: Taps = {};
    for (const [name, t] of Object.entries(out.taps)) {
      taps[name] = 'perExample' in t ? { perExample: t.perExample } : { a: t.a, g: t.g, ...meta[name] };
    }
    return { loss: out.loss, grads: out.grads, taps, sse: out.sse };
  };
}

export type PredictFn = (params: ParamDict, x: Tensor) => Tensor;

/** The model's outputs, jit-compiled (borrows params, consumes x). */
export function jitPredict(model: Model): PredictFn {
  const traced = jit((params: ParamDict, x: Tensor) => model.predict(params, x));
  return (params, x) => traced(borrow(params), x);
}
