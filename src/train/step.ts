/**
 * One training step, shared by the loop and the benchmarks: the batch onto the device, the forward/
 * backward (with curvature taps when the optimizer needs them), the objective's L2 term, the
 * optimizer's update with what it asks of the batch (exact Fisher products, the objective at a trial
 * point), and the new parameters.
 */
import { numpy as np, random } from '@jax-js/jax';
import { phase } from '../backend/profile.js';
import { readScalar, readScalars } from '../backend/read.js';
import type { Batch } from '../data/dataset.js';
import { borrow, fisherCurvature, fisherGram, type LossAndGrads } from '../nn/fisher.js';
import { applyUpdates, disposeTree } from '../optim/base.js';
import type { ParamDict, Tensor, UpdateContext } from '../optim/types.js';
import type { LossAndGradsFn, PredictFn } from './jit-step.js';
import type { BuiltOptimizer } from './optimizers.js';
import type { Task } from './tasks.js';

export interface StepResult {
  params: ParamDict;
  state: unknown;
  /** The training objective on the batch before the step (loss + ½η‖θ‖²). */
  loss: number;
  /** The batch's squared error of the predictive mean, for tasks whose loss defines it. */
  sse?: number;
  /** Scalars the optimizer reported (K-FAC: damping, alpha, mu, rho). */
  info: Record<string, number>;
  /** False when the objective was not finite: params and state are returned untouched. */
  finite: boolean;
  /** When not finite: the first parameter (in the gradient dict's order) whose gradient has a NaN or
   * ±Inf entry, or null when every gradient is finite (then only the loss is). */
  nonFiniteGradient?: string | null;
}

export interface StepSettings {
  /** η of the objective's ½η‖θ‖² (default: the task's, else 0). */
  l2: number;
  seed: number;
  lossAndGrads: LossAndGradsFn;
  predict: PredictFn;
}

export function batchArrays(task: Task, b: Batch): { x: Tensor; y: Tensor } {
  const x = np.array(b.x).reshape([b.size, ...task.model.inputShape]);
  const y =
    b.y instanceof Int32Array
      ? np.array(b.y, { dtype: np.int32 })
      : np.array(b.y).reshape([b.size, task.train.yDim]);
  return { x, y };
}

/** ½η‖θ‖² as a device scalar (borrows params). */
function l2Term(params: ParamDict, l2: number): Tensor {
  let s: Tensor = np.zeros([]);
  for (const p of Object.values(params)) s = s.add(np.sum(np.square(p.ref)));
  return s.mul(0.5 * l2);
}

/** The objective on (x, y) at params (borrows everything). */
function objectiveAt(task: Task, s: StepSettings, params: ParamDict, x: Tensor, y: Tensor): Promise<number> {
  let value = task.loss.value(s.predict(params, x.ref), y.ref);
  if (s.l2 > 0) value = value.add(l2Term(params, s.l2));
  return readScalar(value);
}

/**
 * dᵢᵀFdⱼ on the batch: from the kept forward pass when the model gives tangents (no second forward
 * pass), else by polarisation of jit-compiled JVP quadratic forms, q(dᵢ + dⱼ) = q(dᵢ) + 2dᵢᵀFdⱼ + q(dⱼ).
 * Borrows everything; exported for tests.
 */
export function curvatureGram(task: Task, r: LossAndGrads, params: ParamDict, x: Tensor) {
  return async (dirs: ParamDict[]): Promise<number[][]> => {
    if (r.forward) return fisherGram(task.loss, r.forward.out, r.forward.tangents(dirs));
    const q = (d: ParamDict) => fisherCurvature(task.model, task.loss, params, x, d);
    const M: number[][] = dirs.map(() => dirs.map(() => 0));
    for (let i = 0; i < dirs.length; i++) M[i][i] = await q(dirs[i]);
    for (let i = 0; i < dirs.length; i++)
      for (let j = i + 1; j < dirs.length; j++) {
        const sum = Object.fromEntries(
          Object.keys(dirs[i]).map((k) => [k, dirs[i][k].ref.add(dirs[j][k].ref)]),
        );
        M[i][j] = M[j][i] = ((await q(sum)) - M[i][i] - M[j][j]) / 2;
        disposeTree(sum);
      }
    return M;
  };
}

/**
 * One step from (params, state) on batch b, the `step`-th of the run (its Fisher sampling key).
 * Asynchronous: the loss (and the squared error) come back in one device read, as WebGPU needs.
 */
export async function trainingStep(
  task: Task,
  built: BuiltOptimizer,
  s: StepSettings,
  params: ParamDict,
  state: unknown,
  b: Batch,
  step: number,
): Promise<StepResult> {
  const { x, y } = batchArrays(task, b);
  const key = built.fisher === 'true' ? random.key(s.seed * 1000003 + step) : undefined;
  const needsBatch = built.curvature === true;
  const r = phase('forward-backward', () =>
    s.lossAndGrads(params, needsBatch ? x.ref : x, needsBatch ? y.ref : y, key, {
      keepForward: needsBatch,
      curvatureRows: built.curvatureRows,
    }),
  );
  let objective = r.loss;
  if (s.l2 > 0) {
    objective = objective.add(l2Term(params, s.l2));
    for (const [k, g] of Object.entries(r.grads)) r.grads[k] = g.add(params[k].ref.mul(s.l2));
  }
  const read = await phase('read-loss', () => readScalars(r.sse ? [objective, r.sse] : [objective]));
  const loss = read[0];
  const sse = r.sse ? read[1] : undefined;
  const release = () => {
    r.forward?.dispose();
    if (needsBatch) {
      x.dispose();
      y.dispose();
    }
    disposeTree(r.taps);
  };
  if (!Number.isFinite(loss)) {
    // Name the first layer whose gradient is non-finite (read back only on this rare path).
    const nonFiniteGradient = await firstNonFinite(r.grads);
    disposeTree(r.grads);
    release();
    return { params, state, loss, sse, info: {}, finite: false, nonFiniteGradient };
  }
  const info: Record<string, number> = {};
  const ctx: UpdateContext = { taps: r.taps, report: (v) => Object.assign(info, v) };
  if (needsBatch) {
    const gram = curvatureGram(task, r, params, x);
    ctx.curvatureGram = (dirs) => phase('fisher-products', () => gram(dirs));
    ctx.loss = loss;
    ctx.lossAt = (d) =>
      phase('trial-loss', () => {
        const trial = applyUpdates(borrow(params), borrow(d, params));
        const value = objectiveAt(task, s, trial, x, y);
        disposeTree(trial);
        return value;
      });
  }
  const [u, next] = await phase('update', () => built.opt.update(r.grads, state, params, ctx));
  release();
  const moved = phase('apply', () => applyUpdates(params, u));
  return { params: moved, state: next, loss, sse, info, finite: true };
}

/**
 * The first entry (in the dict's order) with a NaN or ±Inf value, or null; one read for all of them
 * (borrows the dict).
 */
export async function firstNonFinite(d: ParamDict): Promise<string | null> {
  const names = Object.keys(d);
  const flags = await readScalars(names.map((k) => np.all(np.isfinite(d[k].ref)).astype(np.float32)));
  const i = flags.indexOf(0);
  return i < 0 ? null : names[i];
}
