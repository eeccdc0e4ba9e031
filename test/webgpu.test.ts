/**
 * Training on WebGPU matches training on Wasm: for every task × optimizer pair, a step or two from
 * the same initialisation on the same batches give the same gradients, losses and parameters to f32
 * tolerance.
 *
 * It runs wherever Node's `webgpu` package (Dawn) finds an adapter. On a machine without a GPU,
 * Debian's chromium ships SwiftShader, a software Vulkan: when its ICD is present and no other is
 * chosen, this file points Dawn at it (the Vulkan loader itself, libvulkan.so.1, must be on the
 * library path: Debian's libvulkan1, or LD_LIBRARY_PATH=/usr/lib/chromium; .ci/run sees to it).
 * Without an adapter the tests skip and say why. SwiftShader is slow (about 1 GFLOP/s): the batches
 * are tiny, the steps few — two on the small tasks, one on the others (RIESZ_WEBGPU_STEPS sets
 * both) — and each task's pairs run in a child process (test/webgpu/pairs.ts says why). Timings here
 * mean nothing.
 */
import { spawn } from 'node:child_process';
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { defaultDevice, numpy as np } from '@jax-js/jax';
import { build } from 'esbuild';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { initDevice } from '../src/backend/device.js';
import { readScalars } from '../src/backend/read.js';
import { fashionDir } from '../src/data/mnist.js';
import { Rng } from '../src/linalg/random.js';
import { inverseNewtonSchulz } from '../src/optim/matrix-functions.js';
import { train } from '../src/train/loop.js';
import { OPTIMIZERS } from '../src/train/optimizers.js';
import { loadTask, TASKS } from '../src/train/tasks.js';
import { UCI_TASKS } from '../src/train/user-task.js';
import type { PairSummary } from './webgpu/pairs.js';
import { startWebgpu } from './webgpu-setup.js';

const RUNNER = 'build/test/webgpu-pair-runner.mjs';
/** The small tasks take two steps (the optimizers' state carries over once); the others one. */
const SMALL = new Set<string>(['linreg-aniso', ...UCI_TASKS]);
const stepsOf = (task: string) => Number(process.env.RIESZ_WEBGPU_STEPS ?? (SMALL.has(task) ? 2 : 1));
const BATCH = 8;
/**
 * K-FAC's factors up to this size are inverted on the device (Newton–Schulz); beyond it the test
 * inverts them on the host as on Wasm. On SwiftShader a cold Newton–Schulz inverse of a 785×785
 * factor takes about a minute and the autoencoder has sixteen such factors; the device inverse is
 * the same code at every size, and the small tasks and the direct test below run it.
 */
const DEVICE_INVERSE_MAX = Number(process.env.RIESZ_WEBGPU_DEVICE_INVERSE_MAX ?? 300);

let why: string | null = null;
beforeAll(async () => {
  why = await startWebgpu();
  if (why) console.warn(`webgpu tests skipped: ${why}`);
  await initDevice('wasm');
  if (!why) {
    await build({
      entryPoints: ['test/webgpu/pair-runner.ts'],
      bundle: true,
      platform: 'node',
      format: 'esm',
      outfile: RUNNER,
      external: ['@jax-js/jax', 'webgpu'],
      logLevel: 'warning',
    });
  }
}, 120_000);
afterAll(async () => {
  await initDevice('wasm');
});

/** Each task's child process, started at its first pair: one promise per optimizer, in order. */
const children = new Map<string, Map<string, Promise<PairSummary>>>();
function pairOf(task: string, optimizer: string, optimizers: string[]): Promise<PairSummary> {
  let pending = children.get(task);
  if (!pending) {
    const resolvers = new Map<string, { resolve: (s: PairSummary) => void; reject: (e: Error) => void }>();
    pending = new Map(
      optimizers.map((o) => {
        const p = new Promise<PairSummary>((resolve, reject) => resolvers.set(o, { resolve, reject }));
        // Its test awaits it later; until then a rejection (the child died) is not unhandled.
        p.catch(() => {});
        return [o, p];
      }),
    );
    children.set(task, pending);
    const args = [
      RUNNER,
      task,
      String(stepsOf(task)),
      String(BATCH),
      String(DEVICE_INVERSE_MAX),
      ...optimizers,
    ];
    const child = spawn(process.execPath, args, { stdio: ['ignore', 'pipe', 'pipe'] });
    let out = '';
    let err = '';
    child.stdout.on('data', (d: Buffer) => {
      out += d.toString();
      for (let nl = out.indexOf('\n'); nl >= 0; nl = out.indexOf('\n')) {
        const line = out.slice(0, nl);
        out = out.slice(nl + 1);
        // Anything else a library prints to stdout is passed on, not parsed.
        if (!line.startsWith('{"optimizer"')) {
          console.log(`${task} child: ${line}`);
          continue;
        }
        const s = JSON.parse(line) as PairSummary;
        const r = resolvers.get(s.optimizer);
        if (s.error) r?.reject(new Error(`${task}/${s.optimizer} failed in the child: ${s.error}`));
        else r?.resolve(s);
        resolvers.delete(s.optimizer);
      }
    });
    child.stderr.on('data', (d: Buffer) => {
      err = (err + d.toString()).slice(-4000);
    });
    child.on('close', (code) => {
      for (const [o, r] of resolvers)
        r.reject(new Error(`${task}/${o}: the child exited (${code}) first: ${err}`));
    });
  }
  return pending.get(optimizer) as Promise<PairSummary>;
}

/**
 * f32 tolerance, in three parts.
 * - The first step's gradients (same parameters, same batch): ρ = ‖g_webgpu − g_wasm‖/‖g_wasm‖ at
 *   most 1e-2. Vulkan allows exp, division and inverse square roots a few ulp, and backpropagation
 *   amplifies that layer by layer: ρ is ~1e-5 on linear regression, 1e-4 on the MLPs, 3e-3 through
 *   the transformer's two blocks.
 * - The losses before each step and after the last one, to max(1e-3, ρ) relative: what the steps
 *   did where it matters.
 * - The parameters, to max(2%, 20ρ) of how far the steps moved them (or 1e-5 when they barely moved).
 *   K-FAC inverts in f64 on the host on Wasm and in f32 by Newton–Schulz on WebGPU, and the
 *   normalising optimizers amplify ρ where the gradient is small: Adam's first step is the sign of g,
 *   Muon's polar factor weighs every singular direction alike, Shampoo's inverse roots lift small
 *   eigenvalues (on the transformer, with ρ = 3.4e-3, two steps differ by 3–4.5% of the movement).
 *   After one step the gradients were taken at the same parameters; a second step's can differ
 *   where a ReLU's input sits within round-off of zero, which moves a whole row (one such flip on
 *   fashion-mlp moved SGD's parameters 3% apart): hence one step beyond the small tasks.
 * - Beyond the small tasks a batch of 8 gives the weights rank-8 gradients, and a polar factor
 *   (Muon, muon-kfac) is then not determined to f32: Newton–Schulz lifts the round-off in the
 *   null directions by the product of its first coefficients (about 990 for Polar Express). Two
 *   devices' parameters differed there by 3–10% of the movement (MNIST MLP 3.2%, convnet 4.2%,
 *   sigmoid autoencoder's muon-kfac 9.6%), so the bound is 25%: it still catches a wrong polar
 *   factor (a transposed or unnormalised one is off by the whole movement), and the gradients and
 *   losses are held as tightly as everywhere.
 */
/** Optimizers that take a polar factor (see expectMatch). */
const POLAR = new Set(['muon', 'muon-kfac']);
/**
 * Shampoo's parameters, held to 10% of the movement. On WebGPU its statistics are f32 and their
 * roots come from the device (shampoo-roots.ts); on Wasm both are f64. A batch of 8 gives
 * statistics of rank 8 or less, and the damping 1e-6·tr/n lies below the round-off of an f32
 * statistic (about 1e-7 of its largest eigenvalue): where a statistic's eigenvalue is near zero the
 * f64 root is about shift^{−1/4}, the f32 one (λ + noise + shift)^{−1/4} (or the fallback's clamp of
 * it). A second step's gradient has components in the first one's null space, weighed some 50× more
 * than the rest, and a gradient's own small singular directions meet the same noise. Measured
 * (SwiftShader, ‖θ_webgpu − θ_wasm‖ over the movement): two steps on the small tasks 1.4–8.2%
 * (uci-breast-cancer 8.2%, uci-wine 7.5%), one step on the others 1.0% (MNIST MLP) to 7.3% (the
 * sigmoid autoencoder), while the losses matched to 1e-3; with the roots on the host on both
 * devices, as before, every Shampoo pair passed at 2%. A wrong root (transposed, another power) is
 * off by the whole movement.
 */
const SHAMPOO_BOUND = 0.1;

function expectMatch(name: string, s: PairSummary, rankDeficient: boolean): void {
  const { rho } = s;
  expect(s.finite, `${name}: a step was not finite`).toBe(true);
  expect(rho, `${name}: the first gradients differ by ρ = ${rho}`).toBeLessThanOrEqual(1e-2);
  expect(s.lossesWebgpu.length).toBe(s.lossesWasm.length);
  s.lossesWasm.forEach((l, i) => {
    const what = i === s.lossesWasm.length - 1 ? 'after the last step' : `of step ${i}`;
    expect(
      Math.abs(s.lossesWebgpu[i] - l),
      `${name}: loss ${what}: wasm ${l}, webgpu ${s.lossesWebgpu[i]}`,
    ).toBeLessThanOrEqual(Math.max(1e-3, rho) * Math.max(1, Math.abs(l)));
  });
  const bound =
    rankDeficient && POLAR.has(s.optimizer)
      ? 0.25
      : s.optimizer === 'shampoo'
        ? Math.max(SHAMPOO_BOUND, 20 * rho)
        : Math.max(2e-2, 20 * rho);
  expect(
    s.diff,
    `${name}: ‖θ_webgpu − θ_wasm‖ = ${s.diff} after moving ${s.moved} (bound ${bound} of it, ρ = ${rho})`,
  ).toBeLessThanOrEqual(Math.max(bound * s.moved, 1e-5));
}

/**
 * The pairs: every task × every optimizer by default (12 minutes on SwiftShader on 2 quiet cores);
 * RIESZ_WEBGPU_TASKS and RIESZ_WEBGPU_OPTIMIZERS (comma-separated lists, or 'all') choose fewer.
 */
const pick = (v: string | undefined, all: readonly string[]) =>
  v === undefined || v === 'all' ? [...all] : v.split(',');
const chosenTasks = pick(process.env.RIESZ_WEBGPU_TASKS, TASKS);
const chosenOptimizers = pick(process.env.RIESZ_WEBGPU_OPTIMIZERS, OPTIMIZERS);

describe.each(chosenTasks.map((t) => [t]))('webgpu ≡ wasm on %s', (taskName) => {
  it.each(chosenOptimizers.map((o) => [o]))(
    '%s',
    async (optimizer) => {
      if (why) {
        console.warn(`skipped ${taskName}/${optimizer}: no WebGPU adapter (${why})`);
        return;
      }
      if (taskName === 'fashion-mlp' && !existsSync(join(fashionDir(), 't10k-labels-idx1-ubyte.gz'))) {
        console.warn(
          `skipped ${taskName}/${optimizer}: run 'bash scripts/fetch-fashion-mnist.sh' first (.ci/run does)`,
        );
        return;
      }
      const summary = await pairOf(taskName, optimizer, chosenOptimizers);
      expectMatch(`${taskName}/${optimizer}`, summary, !SMALL.has(taskName));
    },
    900_000,
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
    const s = await train(loadTask('uci-iris'), { optimizer: 'kfac', steps: 3, batch: 16 });
    expect(Number.isFinite(s.final_train_loss)).toBe(true);
    expect(s.test_accuracy).not.toBeNull();
  }, 600_000);
});
