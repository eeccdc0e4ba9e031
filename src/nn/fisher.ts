/**
 * The forward/backward protocol every model shares: the mean loss, the data gradients and, for
 * K-FAC, curvature taps. With the true Fisher the taps come from a second backward pass whose output
 * gradient uses targets sampled from the model's predictive distribution (reusing the forward caches);
 * with the empirical Fisher they are the data pass's own taps.
 */
import { jit, jvp, random } from '@jax-js/jax';
import { readScalar, readScalars } from '../backend/read.js';
import type { CurvatureTap, DiagonalTap, ParamDict, Tensor } from '../backend/taps.js';
import { disposeTree } from '../backend/taps.js';
import type { Loss } from './losses.js';
import type { Model } from './model.js';

/** Curvature taps by parameter name: a/g pairs for weights, per-example gradients for the vectors
 * K-FAC treats diagonally. */
export type Taps = Record<string, CurvatureTap | DiagonalTap>;

/** One forward/backward's results: the batch's mean loss, the gradients by parameter name, and
 * what was asked for besides (taps, squared error, the kept forward pass). */
export interface LossAndGrads {
  loss: Tensor;
  grads: ParamDict;
  /** Curvature taps per parameter (absent with fisher 'none'). */
  taps?: Taps;
  /** The batch's mean squared error of the predictive mean, for losses that define it. */
  sse?: Tensor;
  /** The forward pass, kept when asked for and the model can give tangents from it. */
  forward?: KeptForward;
}

/** A batch's forward pass kept for forward-mode products after the backward pass. */
export interface KeptForward {
  /** The model's outputs on the batch (owned by this object). */
  out: Tensor;
  /** Output tangents J·d per direction (borrows the directions). */
  tangents(dirs: ParamDict[]): Tensor[];
  /** Frees the kept outputs and caches. */
  dispose(): void;
}

/**
 * The matrix of dᵢᵀ F dⱼ (F the mean output Fisher of the loss at `out`) from output tangents J·dᵢ,
 * by polarisation of the loss's quadratic form: dᵢᵀFdⱼ = (q(dᵢ + dⱼ) − q(dᵢ) − q(dⱼ))/2.
 * Borrows out; consumes the tangents.
 */
export async function fisherGram(loss: Loss, out: Tensor, tangents: Tensor[]): Promise<number[][]> {
  const n = tangents.length;
  const q = (d: Tensor) => loss.fisherQuadratic(out.ref, d);
  // Every q(dᵢ) and q(dᵢ + dⱼ) on the device, then one read.
  const forms: Tensor[] = tangents.map((t) => q(t.ref));
  for (let i = 0; i < n; i++)
    for (let j = i + 1; j < n; j++) forms.push(q(tangents[i].ref.add(tangents[j].ref)));
  for (const t of tangents) t.dispose();
  const v = await readScalars(forms);
  const M = v.slice(0, n).map((d, i) => v.slice(0, n).map((_, j) => (i === j ? d : 0)));
  let at = n;
  for (let i = 0; i < n; i++)
    for (let j = i + 1; j < n; j++) {
      const cross = (v[at++] - v[i] - v[j]) / 2;
      M[i][j] = cross;
      M[j][i] = cross;
    }
  return M;
}

/** Where the taps' output gradients come from: targets sampled from the model ('true' Fisher), the
 * data targets ('empirical'), or no taps at all ('none'). */
export type FisherKind = 'true' | 'empirical' | 'none';

/** Disposes every array in the taps (consumes them). */
export function disposeTaps(taps: Taps): void {
  for (const t of Object.values(taps)) {
    if ('perExample' in t) t.perExample.dispose();
    else {
      t.a.dispose();
      t.g.dispose();
    }
  }
}

/**
 * Loss, gradients and taps from a forward pass's outputs and caches. `backward` consumes its caches
 * and output gradient; `refCaches` returns the caches with one more reference each. Consumes out,
 * caches, targets and key.
 */
export function lossAndGradsFrom<C>(
  out: Tensor,
  caches: C,
  targets: Tensor,
  loss: Loss,
  backward: (caches: C, dOut: Tensor, tapsOnly: boolean) => { grads: ParamDict; taps: Taps },
  refCaches: (caches: C) => C,
  {
    fisher = 'none',
    key,
    tangents,
  }: {
    fisher?: FisherKind;
    key?: Tensor;
    /** Forward-mode tangents from the caches (borrows both); given, the forward pass is kept. */
    tangents?: (caches: C, dirs: ParamDict[]) => Tensor[];
  } = {},
): LossAndGrads {
  const value = loss.value(out.ref, targets.ref);
  const sse = loss.squaredError?.(out.ref, targets.ref);
  let forward: KeptForward | undefined;
  if (tangents) {
    const kept = refCaches(caches);
    const keptOut = out.ref;
    forward = {
      out: keptOut,
      tangents: (dirs) => tangents(kept, dirs),
      dispose: () => {
        disposeTree(kept);
        keptOut.dispose();
      },
    };
  }
  if (fisher !== 'true') {
    key?.dispose();
    const { grads, taps } = backward(caches, loss.grad(out, targets), false);
    if (fisher === 'none') disposeTaps(taps);
    return { loss: value, grads, taps: fisher === 'none' ? undefined : taps, sse, forward };
  }
  const sampled = loss.sample(key ?? random.key(0), out.ref);
  const fisherPass = backward(refCaches(caches), loss.grad(out.ref, sampled), true);
  for (const g of Object.values(fisherPass.grads)) g.dispose();
  const data = backward(caches, loss.grad(out, targets), false);
  disposeTaps(data.taps);
  return { loss: value, grads: data.grads, taps: fisherPass.taps, sse, forward };
}

/** The entries of d in the key order of `like` (jvp matches trees by structure), one more reference each. */
export const borrow = (d: ParamDict, like: ParamDict = d): ParamDict =>
  Object.fromEntries(Object.keys(like).map((k) => [k, d[k].ref]));

type CurvatureProgram = (params: ParamDict, d: ParamDict, x: Tensor) => Tensor;
const programs = new WeakMap<Model, Map<Loss, CurvatureProgram>>();

/**
 * dᵀF·d as one jit-compiled program per model and loss. Compiled, because jax-js's eager `jvp` kept
 * about one set of activations per call alive (14 MB a step on the MNIST autoencoder, until the
 * Wasm memory ran out); the compiled program frees everything and costs the same.
 */
function curvatureProgram(model: Model, loss: Loss): CurvatureProgram {
  let byLoss = programs.get(model);
  if (!byLoss) programs.set(model, (byLoss = new Map()));
  let program = byLoss.get(loss);
  if (!program) {
    program = jit((params: ParamDict, d: ParamDict, x: Tensor) => {
      const forward = (p: ParamDict) => model.predict(p, x);
      const [out, dOut] = jvp(forward, [params], [d]) as [Tensor, Tensor];
      return loss.fisherQuadratic(out, dOut);
    }) as unknown as CurvatureProgram;
    byLoss.set(loss, program);
  }
  return program;
}

/**
 * dᵀF d on a batch, F = mean over examples of JᵢᵀFᵢJᵢ (the Fisher of the model's predictive
 * distribution; Jᵢ the Jacobian of example i's outputs in the parameters): one forward-mode
 * Jacobian–vector product gives J d. Borrows params, x and d.
 */
export function fisherCurvature(
  model: Model,
  loss: Loss,
  params: ParamDict,
  x: Tensor,
  d: ParamDict,
): Promise<number> {
  const value = curvatureProgram(model, loss)(borrow(params), borrow(d, params), x.ref);
  return readScalar(value);
}
