/**
 * bench/train — one training step of the MNIST deep autoencoder (the task `mnist-autoencoder`: the
 * anchors' tanh net, batch 1000; `--task mnist-autoencoder-sigmoid` for the sigmoid one) with Adam and
 * with K-FAC (the task's settings: the 2-D quadratic model with Levenberg–Marquardt damping, inverses
 * every 5 steps; the 10 steps timed after the 5-step burn-in include two refreshes) in riesz on
 * jax-js's wasm device, against PyTorch on the CPU (Debian's python3-torch) in the same run. The
 * PyTorch peer runs with the machine's OpenBLAS settings ("default") and with
 * OPENBLAS_CORETYPE=SkylakeX for the peer alone ("tuned").
 *
 * --profile prints where each step's time goes (bench's phases: forward/backward, the update and,
 * inside it, K-FAC's factors, inverses, preconditioning, Fisher products and trial loss), wall and
 * CPU time per step. --time-to-adam-loss also measures the wall time K-FAC needs to reach Adam's
 * 300-step train loss (some twenty minutes more).
 *
 * usage: npm run bench:train [-- --steps 5] [-- --profile] [-- --time-to-adam-loss] [-- --task T]
 *        [-- --json FILE] (the step times and ratios as JSON)
 */
import { execFileSync } from 'node:child_process';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { initDevice } from '../src/backend/device.js';
import { profileTotals, setProfiling } from '../src/backend/profile.js';
import { enableThreads } from '../src/backend/threads.js';
import { epochBatches } from '../src/data/dataset.js';
import { disposeTree } from '../src/optim/base.js';
import { eagerLossAndGrads } from '../src/train/jit-step.js';
import { train } from '../src/train/loop.js';
import { buildOptimizer } from '../src/train/optimizers.js';
import { type StepSettings, trainingStep } from '../src/train/step.js';
import { loadTask } from '../src/train/tasks.js';

const stepsArg = process.argv.indexOf('--steps');
const steps = stepsArg >= 0 ? Number(process.argv[stepsArg + 1]) : 5;
const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)];
const mean = (xs: number[]) => xs.reduce((a, b) => a + b, 0) / xs.length;

enableThreads(2);
await initDevice('wasm');
const taskArg = process.argv.indexOf('--task');
const task = loadTask(taskArg >= 0 ? process.argv[taskArg + 1] : 'mnist-autoencoder');

/** Times of steps skip+1 … skip+n (step 0 compiles and allocates; K-FAC also warms its inverses up). */
async function timeSteps(optimizer: string, n: number, skip = 0, onWarm?: () => void): Promise<number[]> {
  let params = task.model.init(0);
  const l2 = task.l2 ?? 0;
  const built = buildOptimizer(optimizer, task.lr[optimizer], params, task.model.head, {
    klClip: task.klClip,
    kfac: task.kfac,
    l2,
  });
  const settings: StepSettings = {
    l2,
    seed: 0,
    lossAndGrads: eagerLossAndGrads(task.model, task.loss, built.fisher),
    predict: (p, x) => task.model.predict(p, x),
  };
  let state = built.opt.init(params);
  const times: number[] = [];
  let i = 0;
  for (const b of epochBatches(task.train, task.batch, 0, 0)) {
    if (i > skip + n) break;
    if (i === skip + 1) onWarm?.();
    const t = performance.now();
    const r = await trainingStep(task, built, settings, params, state, b, i);
    params = r.params;
    state = r.state;
    params['fc0.w'].ref.dataSync(); // wait for the step to finish
    if (i > skip) times.push((performance.now() - t) / 1000);
    i++;
  }
  disposeTree(params);
  disposeTree(state);
  return times;
}

/** Per-phase wall and CPU time per step of `n` steps after `skip` (bench/train --profile). */
async function profileSteps(optimizer: string, n: number, skip: number): Promise<void> {
  setProfiling(false);
  let t0 = 0;
  const times = await timeSteps(optimizer, n, skip, () => {
    setProfiling(true);
    t0 = performance.now();
  });
  const wall = (performance.now() - t0) / n;
  const rows = Object.entries(profileTotals()).sort((a, b) => b[1].cpuMs - a[1].cpuMs);
  console.log(
    `\n  ${optimizer}: ${n} steps after ${skip}, ${(wall / 1000).toFixed(3)} s wall per step (median step ${median(times).toFixed(3)} s)`,
  );
  console.log(
    `  ${'phase'.padEnd(42)} ${'wall ms/step'.padStart(13)} ${'cpu ms/step'.padStart(12)} ${'calls/step'.padStart(11)}`,
  );
  for (const [name, t] of rows)
    console.log(
      `  ${name.padEnd(42)} ${(t.wallMs / n).toFixed(1).padStart(13)} ${(t.cpuMs / n).toFixed(1).padStart(12)} ${(t.calls / n).toFixed(1).padStart(11)}`,
    );
  setProfiling(false);
}

if (process.argv.includes('--profile')) {
  await profileSteps('adam', steps, 3);
  await profileSteps('kfac', 10, task.kfac?.inverseWarmup ?? 0);
  process.exit(0);
}

const peer = (env: NodeJS.ProcessEnv) =>
  JSON.parse(
    execFileSync(
      '/usr/bin/python3',
      [
        join(import.meta.dirname, '../../bench/peers/train_torch.py'),
        String(steps),
        task.name === 'mnist-autoencoder-sigmoid' ? 'sigmoid' : 'tanh',
      ],
      { encoding: 'utf8', env },
    ),
  ) as { adam_step_s: number[]; threads: number };
const torchDefault = peer({ ...process.env });
const torchTuned = peer({ ...process.env, OPENBLAS_CORETYPE: 'SkylakeX' });
// PyTorch may pick one thread on this machine; riesz uses two, so the peer also runs on two.
const torchTwo = peer({ ...process.env, OPENBLAS_CORETYPE: 'SkylakeX', OMP_NUM_THREADS: '2' });
// Skip 3 steps: the first ones compile jax-js kernels (step 0 alone left 1.1 s medians).
const adam = median(await timeSteps('adam', steps, 3));
const kfac = mean(await timeSteps('kfac', 10, task.kfac?.inverseWarmup ?? 0));
const td = median(torchDefault.adam_step_s);
const tt = median(torchTuned.adam_step_s);
const t2 = median(torchTwo.adam_step_s);
const best = Math.min(td, tt, t2);
console.log(`bench/train — ${task.name}, batch ${task.batch}, CPU (2 riesz threads)\n`);
console.log(
  `  PyTorch Adam step          ${td.toFixed(3)} s (default, ${torchDefault.threads} threads)   ${tt.toFixed(3)} s (SkylakeX kernels)   ${t2.toFixed(3)} s (SkylakeX, ${torchTwo.threads} threads)`,
);
console.log(
  `  riesz Adam step            ${adam.toFixed(3)} s   speed vs PyTorch at its best: ${(best / adam).toFixed(2)}×   target ≥ 0.25×`,
);
console.log(
  `  riesz K-FAC step (mean of 10 after the warm-up, two inverse refreshes)  ${kfac.toFixed(3)} s   = ${(kfac / adam).toFixed(2)}× riesz's Adam step   target ≤ 1.5×`,
);
const jsonArg = process.argv.indexOf('--json');
if (jsonArg >= 0) {
  const record = {
    date: new Date().toISOString(),
    task: task.name,
    batch: task.batch,
    torch_adam_step_s: { default: td, skylakex: tt, skylakex_two_threads: t2 },
    riesz_adam_step_s: adam,
    riesz_kfac_step_s: kfac,
    adam_speed_vs_torch_best: best / adam,
    kfac_over_adam: kfac / adam,
  };
  writeFileSync(process.argv[jsonArg + 1], `${JSON.stringify(record, null, 2)}\n`);
}

// Time to Adam's loss: Adam trains 300 steps; its target is the mean train loss of its last 10
// steps; K-FAC trains on the same batches until a step's loss reaches that, or until it has used
// Adam's whole wall time. Target: K-FAC gets there in ≤ 1/3 of Adam's wall time. (~10 minutes)
if (process.argv.includes('--time-to-adam-loss')) {
  const quiet = { progress: () => {} };
  const a = await train(task, { optimizer: 'adam', steps: 300, ...quiet });
  const target = mean(a.curve.slice(-10).map((p) => p.train_loss));
  const k = await train(task, {
    optimizer: 'kfac',
    steps: 300,
    targetLoss: target,
    maxWallS: a.wall_s,
    ...quiet,
  });
  console.log(
    `\n  Adam, 300 steps: wall ${a.wall_s.toFixed(0)} s, train loss (mean of the last 10 steps) ${target.toFixed(2)}`,
  );
  console.log(
    k.time_to_target_s === null
      ? `  K-FAC did not reach it within Adam's wall time (${k.steps} steps, loss ${k.final_train_loss.toFixed(2)}): ratio > 1   target ≤ 0.33`
      : `  K-FAC reached it after ${k.time_to_target_s.toFixed(0)} s: ${(k.time_to_target_s / a.wall_s).toFixed(2)}× Adam's wall time   target ≤ 0.33`,
  );
}
