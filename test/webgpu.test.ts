/**
 * Training on WebGPU matches training on Wasm: for every task × optimizer pair, a few steps from the
 * same initialisation on the same batches give the same losses and parameters to f32 tolerance.
 *
 * It runs wherever Node's `webgpu` package (Dawn) finds an adapter. On a machine without a GPU,
 * Debian's chromium ships SwiftShader, a software Vulkan: when its ICD is present and no other is
 * chosen, this file points Dawn at it (the Vulkan loader itself, libvulkan.so.1, must be on the
 * library path: Debian's libvulkan1, or LD_LIBRARY_PATH=/usr/lib/chromium; .ci/run sees to it).
 * Without an adapter the tests skip and say why. SwiftShader is slow: the batches are tiny, the
 * steps few (RIESZ_WEBGPU_STEPS, default 2) and the tasks small by default (see below). Timings here
 * mean nothing.
 */
import { existsSync } from 'node:fs';
import { defaultDevice, numpy as np } from '@jax-js/jax';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { initDevice } from '../src/backend/device.js';
import { readF32, readScalars } from '../src/backend/read.js';
import { epochBatches } from '../src/data/dataset.js';
import { Rng } from '../src/linalg/random.js';
import { disposeTree } from '../src/optim/base.js';
import { inverseNewtonSchulz } from '../src/optim/matrix-functions.js';
import type { ParamDict } from '../src/optim/types.js';
import { eagerLossAndGrads, jitLossAndGrads, jitPredict } from '../src/train/jit-step.js';
import { train } from '../src/train/loop.js';
import { buildOptimizer, OPTIMIZERS } from '../src/train/optimizers.js';
import { batchArrays, type StepSettings, trainingStep } from '../src/train/step.js';
import { loadTask, TASKS, type Task } from '../src/train/tasks.js';

const SWIFTSHADER = '/usr/lib/chromium/vk_swiftshader_icd.json';
const STEPS = Number(process.env.RIESZ_WEBGPU_STEPS ?? 2);
const BATCH = 8;
/**
 * K-FAC's factors up to this size are inverted on the device (Newton–Schulz); beyond it the test
 * inverts them on the host as on Wasm. On SwiftShader (~1 GFLOP/s) a cold Newton–Schulz inverse of
 * a 785×785 factor takes about a minute and the autoencoder has sixteen such factors; the device
 * inverse itself is the same code at every size, and the small tasks and the direct test below run it.
 */
const DEVICE_INVERSE_MAX = Number(process.env.RIESZ_WEBGPU_DEVICE_INVERSE_MAX ?? 300);
/** The widest K-FAC factor a model's parameters give (a layer's inputs plus its bias, or outputs). */
const widest = (p: ParamDict) => Math.max(...Object.values(p).flatMap((v) => v.shape.map((d) => d + 1)));

let why: string | null = null;
beforeAll(async () => {
  if (!process.env.VK_ICD_FILENAMES && existsSync(SWIFTSHADER)) process.env.VK_ICD_FILENAMES = SWIFTSHADER;
  process.env.XDG_RUNTIME_DIR ??= '/tmp';
  try {
    await initDevice('webgpu');
  } catch (e) {
    why = (e as Error).message;
    console.warn(`webgpu tests skipped: ${why}`);
  }
  await initDevice('wasm');
}, 120_000);
afterAll(async () => {
  await initDevice('wasm');
});

interface Run {
  losses: number[];
  params: Record<string, Float32Array>;
  /** The first step's gradients (before the L2 term). */
  grads: Record<string, Float32Array>;
  init: Record<string, Float32Array>;
}

const tasks = new Map<string, Task>();
const taskOf = (name: string) => {
  let t = tasks.get(name);
  if (!t) tasks.set(name, (t = loadTask(name)));
  return t;
};

/** STEPS steps of `optimizer` on `task` on `device`, from seed 0 on the first batches. */
async function run(taskName: string, optimizer: string, device: 'wasm' | 'webgpu'): Promise<Run> {
  await initDevice(device);
  const task = taskOf(taskName);
  let params = task.model.init(0);
  const init = await readAll(params);
  const l2 = task.l2 ?? 0;
  const built = buildOptimizer(optimizer, task.lr[optimizer] ?? 1e-3, params, task.model.head, {
    klClip: task.klClip,
    kfac: { ...task.kfac, ...(widest(params) > DEVICE_INVERSE_MAX ? { inverse: 'cholesky' } : {}) },
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
  let step = 0;
  for (const b of epochBatches(task.train, BATCH, 0, 0)) {
    if (step >= STEPS) {
      // The loss after the last step, on the next batch: what the last update did, where it matters.
      const { x, y } = batchArrays(task, b);
      const r = settings.lossAndGrads(params, x, y, undefined);
      disposeTree(r.grads);
      r.forward?.dispose();
      losses.push((await readScalars([r.loss]))[0]);
      break;
    }
    const r = await trainingStep(task, built, settings, params, state, b, step);
    expect(r.finite, `${taskName}/${optimizer} on ${device}: step ${step} not finite`).toBe(true);
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
  return { losses, params: out, grads, init };
}

async function readAll(p: ParamDict): Promise<Record<string, Float32Array>> {
  const out: Record<string, Float32Array> = {};
  for (const [k, v] of Object.entries(p)) out[k] = Float32Array.from(await readF32(v.ref));
  return out;
}

/**
 * f32 tolerance, in three parts.
 * - The first step's gradients (same parameters, same batch): ρ = ‖g_webgpu − g_wasm‖/‖g_wasm‖ at
 *   most 1e-2. Vulkan allows exp, division and inverse square roots a few ulp, and backpropagation
 *   amplifies that layer by layer: ρ is ~1e-5 on linear regression, 1e-4 on iris, 3e-3 through the
 *   transformer's two blocks.
 * - The losses before each step and after the last one, to max(1e-3, ρ) relative: what the steps
 *   did where it matters.
 * - The parameters, to max(2%, 20ρ) of how far the steps moved them (or 1e-5 when they barely moved).
 *   K-FAC inverts in f64 on the host on Wasm and in f32 by Newton–Schulz on WebGPU, and the
 *   normalising optimizers amplify ρ where the gradient is small: Adam's first step is the sign of g,
 *   Muon's polar factor weighs every singular direction alike, Shampoo's inverse roots lift small
 *   eigenvalues (on the transformer, with ρ = 3.4e-3, they differ by 3–4.5% of the movement).
 */
function expectMatch(name: string, a: Run, b: Run): void {
  let [gd, gn] = [0, 0];
  for (const k of Object.keys(a.grads))
    for (let i = 0; i < a.grads[k].length; i++) {
      gd += (a.grads[k][i] - b.grads[k][i]) ** 2;
      gn += a.grads[k][i] ** 2;
    }
  const rho = gn > 0 ? Math.sqrt(gd / gn) : Math.sqrt(gd);
  expect(rho, `${name}: the first gradients differ by ρ = ${rho}`).toBeLessThanOrEqual(1e-2);
  expect(b.losses.length).toBe(a.losses.length);
  a.losses.forEach((l, i) => {
    expect(
      Math.abs(b.losses[i] - l),
      `${name}: loss ${i === a.losses.length - 1 ? 'after the last step' : `of step ${i}`}: wasm ${l}, webgpu ${b.losses[i]}`,
    ).toBeLessThanOrEqual(Math.max(1e-3, rho) * Math.max(1, Math.abs(l)));
  });
  let [diff, moved] = [0, 0];
  for (const k of Object.keys(a.params))
    for (let i = 0; i < a.params[k].length; i++) {
      diff += (a.params[k][i] - b.params[k][i]) ** 2;
      moved += (a.params[k][i] - a.init[k][i]) ** 2;
    }
  [diff, moved] = [Math.sqrt(diff), Math.sqrt(moved)];
  const bound = Math.max(2e-2, 20 * rho);
  expect(
    diff,
    `${name}: ‖θ_webgpu − θ_wasm‖ = ${diff} after moving ${moved} (bound ${bound} of it, ρ = ${rho})`,
  ).toBeLessThanOrEqual(Math.max(bound * moved, 1e-5));
}

/**
 * The pairs: by default every optimizer on the two small tasks (a few minutes on SwiftShader with
 * 2 cores); RIESZ_WEBGPU_TASKS=all (or a comma-separated list) and RIESZ_WEBGPU_OPTIMIZERS (the same)
 * choose others — an MNIST-sized task takes minutes per optimizer on SwiftShader.
 */
const pick = (v: string | undefined, all: readonly string[], dflt: readonly string[]) =>
  v === 'all' ? [...all] : v ? v.split(',') : [...dflt];
const chosenTasks = pick(process.env.RIESZ_WEBGPU_TASKS, TASKS, ['linreg-aniso', 'uci-iris']);
const chosenOptimizers = pick(process.env.RIESZ_WEBGPU_OPTIMIZERS, OPTIMIZERS, OPTIMIZERS);

describe.each(chosenTasks.map((t) => [t]))('webgpu ≡ wasm on %s', (taskName) => {
  it.each(chosenOptimizers.map((o) => [o]))(
    '%s',
    async (optimizer) => {
      if (why) {
        console.warn(`skipped ${taskName}/${optimizer}: no WebGPU adapter (${why})`);
        return;
      }
      const a = await run(taskName, optimizer, 'wasm');
      const b = await run(taskName, optimizer, 'webgpu');
      expect(defaultDevice()).toBe('webgpu');
      expectMatch(`${taskName}/${optimizer}`, a, b);
    },
    600_000,
  );
});

describe('device matrix functions on webgpu', () => {
  it('Newton–Schulz inverts a 256×256 SPD matrix (eigenvalues 1e-3…1) from the cold start', async () => {
    if (why) {
      console.warn(`skipped: no WebGPU adapter (${why})`);
      return;
    }
    await initDevice('webgpu');
    const n = 256;
    // Q diag(d) Qᵀ with Q orthogonal from a QR-free recipe: a product of Householder reflections.
    const rng = new Rng(3);
    let A = np.diag(np.array(Float32Array.from({ length: n }, (_, i) => 1e-3 ** (i / (n - 1)))));
    for (let r = 0; r < 3; r++) {
      const v = Float32Array.from({ length: n }, () => rng.normal());
      const norm = Math.hypot(...v);
      const H = np.eye(n).sub(np.outer(np.array(v), np.array(v)).mul(2 / norm ** 2));
      A = np.matmul(np.matmul(H.ref, A), H);
    }
    const X = await inverseNewtonSchulz(A.ref, { exactFallback: false });
    const R = np.eye(n).sub(np.matmul(A, X));
    const [rms] = await readScalars([np.sqrt(np.sum(np.square(R))).div(Math.sqrt(n))]);
    expect(rms).toBeLessThan(1e-3);
    expect(defaultDevice()).toBe('webgpu');
  }, 600_000);
});

describe('the training loop on webgpu', () => {
  it('trains, evaluates and checkpoints (train() end to end)', async () => {
    if (why) {
      console.warn(`skipped: no WebGPU adapter (${why})`);
      return;
    }
    await initDevice('webgpu');
    const s = await train(taskOf('uci-iris'), { optimizer: 'kfac', steps: 3, batch: 16 });
    expect(Number.isFinite(s.final_train_loss)).toBe(true);
    expect(s.test_accuracy).not.toBeNull();
  }, 600_000);
});
