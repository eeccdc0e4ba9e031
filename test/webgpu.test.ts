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
import { defaultDevice } from '@jax-js/jax';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { initDevice } from '../src/backend/device.js';
import { readF32 } from '../src/backend/read.js';
import { epochBatches } from '../src/data/dataset.js';
import { disposeTree } from '../src/optim/base.js';
import type { ParamDict } from '../src/optim/types.js';
import { eagerLossAndGrads, jitLossAndGrads, jitPredict } from '../src/train/jit-step.js';
import { train } from '../src/train/loop.js';
import { buildOptimizer, OPTIMIZERS } from '../src/train/optimizers.js';
import { type StepSettings, trainingStep } from '../src/train/step.js';
import { loadTask, TASKS, type Task } from '../src/train/tasks.js';

const SWIFTSHADER = '/usr/lib/chromium/vk_swiftshader_icd.json';
const STEPS = Number(process.env.RIESZ_WEBGPU_STEPS ?? 2);
const BATCH = 8;

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
  moved: number;
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
    kfac: task.kfac,
    l2,
  });
  const jit = task.jit ?? false;
  const settings: StepSettings = {
    l2,
    seed: 0,
    lossAndGrads: (jit ? jitLossAndGrads : eagerLossAndGrads)(task.model, task.loss, built.fisher),
    predict: jit ? jitPredict(task.model) : (p, x) => task.model.predict(p, x),
  };
  let state = built.opt.init(params);
  const losses: number[] = [];
  let step = 0;
  for (const b of epochBatches(task.train, BATCH, 0, 0)) {
    if (step >= STEPS) break;
    const r = await trainingStep(task, built, settings, params, state, b, step);
    expect(r.finite, `${taskName}/${optimizer} on ${device}: step ${step} not finite`).toBe(true);
    params = r.params;
    state = r.state;
    losses.push(r.loss);
    step++;
  }
  const out = await readAll(params);
  disposeTree(params);
  disposeTree(state);
  let moved = 0;
  for (const k of Object.keys(out))
    for (let i = 0; i < out[k].length; i++) moved += (out[k][i] - init[k][i]) ** 2;
  return { losses, params: out, moved: Math.sqrt(moved) };
}

async function readAll(p: ParamDict): Promise<Record<string, Float32Array>> {
  const out: Record<string, Float32Array> = {};
  for (const [k, v] of Object.entries(p)) out[k] = Float32Array.from(await readF32(v.ref));
  return out;
}

/**
 * f32 tolerance: the losses to 1e-3 relative; the parameters' difference to 2% of how far the steps
 * moved them (K-FAC inverts in f64 on the host on Wasm and in f32 by Newton–Schulz on WebGPU, and
 * the two engines sum in different orders), or 1e-5 absolute when they barely moved.
 */
function expectMatch(name: string, a: Run, b: Run): void {
  expect(b.losses.length).toBe(a.losses.length);
  a.losses.forEach((l, i) => {
    expect(
      Math.abs(b.losses[i] - l),
      `${name}: loss of step ${i}: wasm ${l}, webgpu ${b.losses[i]}`,
    ).toBeLessThanOrEqual(1e-3 * Math.max(1, Math.abs(l)));
  });
  let diff = 0;
  for (const k of Object.keys(a.params))
    for (let i = 0; i < a.params[k].length; i++) diff += (a.params[k][i] - b.params[k][i]) ** 2;
  diff = Math.sqrt(diff);
  expect(diff, `${name}: ‖θ_webgpu − θ_wasm‖ = ${diff} after moving ${a.moved}`).toBeLessThanOrEqual(
    Math.max(2e-2 * a.moved, 1e-5),
  );
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
