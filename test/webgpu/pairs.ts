/**
 * One task's webgpu ≡ wasm comparisons, run in a child process by test/webgpu.test.ts: for each
 * optimizer, `steps` steps from seed 0 on the first batches, on Wasm and then on WebGPU, reduced to
 * the numbers the test asserts on. A child, because on SwiftShader one step of a matrix-function
 * optimizer on the autoencoder keeps Dawn busy in synchronous calls for over a minute, which would
 * starve a vitest worker's messages ("Timeout calling onTaskUpdate") and fail the whole run.
 */
import { initDevice } from '../../src/backend/device.js';
import { readF32, readScalars } from '../../src/backend/read.js';
import { epochBatches } from '../../src/data/dataset.js';
import { disposeTree } from '../../src/optim/base.js';
import type { ParamDict } from '../../src/optim/types.js';
import { eagerLossAndGrads, jitLossAndGrads, jitPredict } from '../../src/train/jit-step.js';
import { buildOptimizer } from '../../src/train/optimizers.js';
import { batchArrays, type StepSettings, trainingStep } from '../../src/train/step.js';
import type { Task } from '../../src/train/tasks.js';

/** What one device's run leaves: losses, parameters before and after, the first gradients. */
interface Run {
  /** The objective before each step, then the loss after the last step on the next batch. */
  losses: number[];
  params: Record<string, Float32Array>;
  init: Record<string, Float32Array>;
  grads: Record<string, Float32Array>;
  finite: boolean;
}

/** The comparison of one pair, as the test asserts on it. */
export interface PairSummary {
  optimizer: string;
  /** ‖g_webgpu − g_wasm‖/‖g_wasm‖ of the first step's gradients (same parameters, same batch). */
  rho: number;
  lossesWasm: number[];
  lossesWebgpu: number[];
  /** ‖θ_webgpu − θ_wasm‖ and ‖θ_wasm − θ₀‖ after the steps. */
  diff: number;
  moved: number;
  finite: boolean;
  error?: string;
}

/**
 * Comparison settings: steps, batch rows, and the factor size beyond which K-FAC inverts on the host
 * (and Shampoo takes a statistic's root on the host).
 */
export interface PairSettings {
  steps: number;
  batch: number;
  deviceInverseMax: number;
}

/**
 * The widest K-FAC factor a model's weights give: out×in weights have factors of out and in + 1
 * (the bias), out×C×kh×kw convolution kernels of out and C·kh·kw + 1; other arrays none.
 */
const widest = (p: ParamDict) =>
  Math.max(
    0,
    ...Object.values(p)
      .filter((v) => v.shape.length === 2 || v.shape.length === 4)
      .map(({ shape: [out, ...fanIn] }) => Math.max(out, fanIn.reduce((a, b) => a * b, 1) + 1)),
  );

async function readAll(p: ParamDict): Promise<Record<string, Float32Array>> {
  const out: Record<string, Float32Array> = {};
  for (const [k, v] of Object.entries(p)) out[k] = Float32Array.from(await readF32(v.ref));
  return out;
}

async function run(task: Task, optimizer: string, device: 'wasm' | 'webgpu', s: PairSettings): Promise<Run> {
  await initDevice(device);
  let params = task.model.init(0);
  const init = await readAll(params);
  const l2 = task.l2 ?? 0;
  const hostInverse = widest(params) > s.deviceInverseMax ? { inverse: 'cholesky' as const } : {};
  const built = buildOptimizer(optimizer, task.lr[optimizer] ?? 1e-3, params, task.model.head, {
    klClip: task.klClip,
    kfac: { ...task.kfac, ...hostInverse },
    // Shampoo's statistics wider than the same bound take the host root at a refresh (see above).
    shampoo: { deviceRootMax: s.deviceInverseMax },
    l2,
  });
  const jit = task.jit ?? false;
  const lossAndGrads = (jit ? jitLossAndGrads : eagerLossAndGrads)(task.model, task.loss, built.fisher);
  let firstGrads: ParamDict | null = null;
  const settings: StepSettings = {
    l2,
    seed: 0,
    lossAndGrads: (...args) => {
      const r = lossAndGrads(...args);
      firstGrads ??= Object.fromEntries(Object.entries(r.grads).map(([k, g]) => [k, g.ref]));
      return r;
    },
    predict: jit ? jitPredict(task.model) : (p, x) => task.model.predict(p, x),
  };
  let state = built.opt.init(params);
  const losses: number[] = [];
  let finite = true;
  let step = 0;
  for (const b of epochBatches(task.train, s.batch, 0, 0)) {
    if (step >= s.steps) {
      // The loss after the last step, on the next batch: what the last update did, where it matters.
      const { x, y } = batchArrays(task, b);
      const r = lossAndGrads(params, x, y, undefined);
      disposeTree(r.grads);
      r.forward?.dispose();
      losses.push((await readScalars([r.loss]))[0]);
      break;
    }
    const r = await trainingStep(task, built, settings, params, state, b, step);
    finite &&= r.finite;
    params = r.params;
    state = r.state;
    losses.push(r.loss);
    step++;
  }
  const out = await readAll(params);
  const grads = firstGrads ? await readAll(firstGrads) : {};
  disposeTree(params);
  disposeTree(state);
  if (firstGrads) disposeTree(firstGrads);
  return { losses, params: out, grads, init, finite };
}

const sq = (a: Float32Array, b: Float32Array) => a.reduce((s, v, i) => s + (v - b[i]) ** 2, 0);

/** Both devices' runs of `optimizer` on `task`, reduced to a {@link PairSummary}. */
export async function comparePair(task: Task, optimizer: string, s: PairSettings): Promise<PairSummary> {
  const a = await run(task, optimizer, 'wasm', s);
  const b = await run(task, optimizer, 'webgpu', s);
  let [gd, gn, diff, moved] = [0, 0, 0, 0];
  for (const k of Object.keys(a.grads)) {
    gd += sq(a.grads[k], b.grads[k]);
    gn += sq(a.grads[k], new Float32Array(a.grads[k].length));
  }
  for (const k of Object.keys(a.params)) {
    diff += sq(a.params[k], b.params[k]);
    moved += sq(a.params[k], a.init[k]);
  }
  return {
    optimizer,
    rho: gn > 0 ? Math.sqrt(gd / gn) : Math.sqrt(gd),
    lossesWasm: a.losses,
    lossesWebgpu: b.losses,
    diff: Math.sqrt(diff),
    moved: Math.sqrt(moved),
    finite: a.finite && b.finite,
  };
}
