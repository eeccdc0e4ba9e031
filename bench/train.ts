/**
 * bench/train — one training step of the MNIST deep autoencoder (the task `mnist-autoencoder`: the
 * anchors' tanh net 784-1000-500-250-30 mirrored with a linear code, sigmoid cross-entropy summed
 * over pixels, batch 1000; `--task mnist-autoencoder-sigmoid` for the sigmoid one) with Adam and with
 * K-FAC (the task's settings: the 2-D quadratic model with Levenberg–Marquardt damping, inverses
 * every 5 steps, the curvature on 250 of the 1000 rows; the 10 steps timed after the 5-step burn-in
 * include two refreshes) in riesz on
 * jax-js's wasm device, against its peers in the same run, all on riesz's initial weights and first
 * batch:
 * - `torch`: PyTorch on the CPU (Debian's python3-torch, /usr/bin/python3, a child process) with the
 *   machine's OpenBLAS settings ("default"), on two threads, and — where the CPU has AVX-512 — with
 *   OPENBLAS_CORETYPE=SkylakeX on one and two threads; the fastest is "PyTorch at its best";
 * - `tfjs`: TensorFlow.js 4.22 on `@tensorflow/tfjs-backend-wasm` (in this process);
 * - `jaxjs`: plain jax-js, the loss, `valueAndGrad` and Adam in jax-js ops, the step under `jit`, on
 *   the wasm device (in this process).
 * Every peer reports its loss at riesz's initial weights and after one Adam step; bench/train checks
 * them against riesz's (the same work), then prints each ratio against issue 9's target.
 *
 * --profile prints where each step's time goes (phases of src/backend/profile.ts: forward/backward
 * and inside it the CPU engine's GEMM, elementwise kernels and copies; the update and inside it
 * K-FAC's factors, inverses, preconditioning, Fisher products and trial loss), wall and CPU time
 * per step, then the same grouped (GEMM, elementwise, copies, jax-js ops and dispatch, K-FAC's
 * parts). Any task: `--task mnist-mlp`, `--task mobydick-char` (jit-compiled, as the loop runs it).
 * --time-to-adam-loss also measures the wall time K-FAC needs to reach Adam's 300-step train loss
 * (some twenty minutes more).
 * --fused-ab R times the step with the fused optimizer pass on and off (optim/fused.ts), R rounds
 * interleaved, for Adam (and the optimizers of --fused-ab-optimizers, e.g. adam,momentum), and
 * prints the medians and their ratio, then exits. --no-fused switches the pass off for the whole run
 * (e.g. to profile the eager chain).
 *
 * usage: npm run bench:train [-- --steps 5] [-- --peers torch,tfjs,jaxjs,kfac] [-- --profile]
 *        [-- --task T] [-- --json FILE] [-- --time-to-adam-loss] [-- --fused-ab R]
 *        [-- --no-fused]
 *   --peers picks what runs besides riesz's Adam (default: all of kfac, torch, tfjs, jaxjs);
 *   --json writes the step times, the loss checks and the ratios.
 */
import { execFileSync } from 'node:child_process';
import { readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { initDevice } from '../src/backend/device.js';
import { phase, profileTotals, setProfiling } from '../src/backend/profile.js';
import { enableThreads } from '../src/backend/threads.js';
import { type Batch, epochBatches } from '../src/data/dataset.js';
import { disposeTree } from '../src/optim/base.js';
import { setFusedUpdates } from '../src/optim/fused.js';
import type { ParamDict } from '../src/optim/types.js';
import { eagerLossAndGrads, jitLossAndGrads, jitPredict } from '../src/train/jit-step.js';
import { train } from '../src/train/loop.js';
import { buildOptimizer } from '../src/train/optimizers.js';
import { batchArrays, type StepSettings, trainingStep } from '../src/train/step.js';
import { loadTask, type Task } from '../src/train/tasks.js';
import {
  median,
  type PeerActivation,
  type PeerProblem,
  type PeerResult,
  writeProblemFile,
} from './peers/problem.js';
import { runJaxjsPeer } from './peers/train_jaxjs.js';
import { runTfjsPeer } from './peers/train_tfjs.js';
import { gemmTotal, groupProfile, type PhaseRow } from './profile-groups.js';

const arg = (name: string): string | undefined => {
  const i = process.argv.indexOf(name);
  return i >= 0 ? process.argv[i + 1] : undefined;
};
const steps = Number(arg('--steps') ?? 5);
const mean = (xs: number[]) => xs.reduce((a, b) => a + b, 0) / xs.length;
const PEERS = ['kfac', 'torch', 'tfjs', 'jaxjs'] as const;
type PeerName = (typeof PEERS)[number];
const peersArg = arg('--peers');
const chosen = new Set<string>(peersArg === undefined ? PEERS : peersArg.split(',').filter((s) => s !== ''));
for (const p of chosen) {
  if (!(PEERS as readonly string[]).includes(p) && p !== 'adam') {
    console.error(
      `bench/train: unknown peer '${p}' in --peers; valid: adam (always runs), ${PEERS.join(', ')}`,
    );
    process.exit(2);
  }
}
const runs = (p: PeerName) => chosen.has(p);

enableThreads(2);
await initDevice('wasm');
if (process.argv.includes('--no-fused')) setFusedUpdates(false);
const task = loadTask(arg('--task') ?? 'mnist-autoencoder');

/** Settings of a riesz step for `optimizer` on the task (jit-compiled where the task is). */
function stepSetup(optimizer: string, params: ParamDict) {
  const l2 = task.l2 ?? 0;
  const built = buildOptimizer(optimizer, task.lr[optimizer], params, task.model.head, {
    klClip: task.klClip,
    kfac: task.kfac,
    l2,
  });
  const settings: StepSettings = {
    l2,
    seed: 0,
    lossAndGrads: (task.jit ? jitLossAndGrads : eagerLossAndGrads)(task.model, task.loss, built.fisher),
    predict: task.jit ? jitPredict(task.model) : (p, x) => task.model.predict(p, x),
  };
  return { built, settings };
}

/** Times of steps skip+1 … skip+n (step 0 compiles and allocates; K-FAC also warms its inverses up). */
async function timeSteps(optimizer: string, n: number, skip = 0, onWarm?: () => void): Promise<number[]> {
  let params = task.model.init(0);
  const { built, settings } = stepSetup(optimizer, params);
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
    // Wait for the step to finish: jax-js runs queued work here (phase 'wait-step').
    phase('wait-step', () => Object.values(params)[0].ref.dataSync());
    if (i > skip) times.push((performance.now() - t) / 1000);
    i++;
  }
  disposeTree(params);
  disposeTree(state);
  return times;
}

/** Per-phase wall and CPU time per step of `n` steps after `skip` (bench/train --profile). */
async function profileSteps(optimizer: string, n: number, skip: number) {
  setProfiling(false);
  let t0 = 0;
  let c0 = 0;
  const cpuNow = () => {
    const c = process.cpuUsage();
    return (c.user + c.system) / 1000;
  };
  const times = await timeSteps(optimizer, n, skip, () => {
    setProfiling(true);
    t0 = performance.now();
    c0 = cpuNow();
  });
  const wallMs = (performance.now() - t0) / n;
  const cpuMs = (cpuNow() - c0) / n;
  const rows: PhaseRow[] = Object.entries(profileTotals()).map(([name, t]) => ({
    name,
    wallMs: t.wallMs / n,
    cpuMs: t.cpuMs / n,
    calls: t.calls / n,
  }));
  setProfiling(false);
  console.log(
    `\n  ${optimizer}: ${n} steps after ${skip}, ${(wallMs / 1000).toFixed(3)} s wall and ${(cpuMs / 1000).toFixed(3)} s CPU per step (median step ${median(times).toFixed(3)} s)`,
  );
  console.log(
    `  ${'phase'.padEnd(42)} ${'wall ms/step'.padStart(13)} ${'cpu ms/step'.padStart(12)} ${'calls/step'.padStart(11)}`,
  );
  for (const r of [...rows].sort((a, b) => b.cpuMs - a.cpuMs))
    console.log(
      `  ${r.name.padEnd(42)} ${r.wallMs.toFixed(1).padStart(13)} ${r.cpuMs.toFixed(1).padStart(12)} ${r.calls.toFixed(1).padStart(11)}`,
    );
  const groups = groupProfile(rows, wallMs, cpuMs);
  console.log(`  grouped (self time of each phase; % of the step's wall time):`);
  for (const g of groups)
    console.log(
      `    ${g.group.padEnd(40)} ${g.wallMs.toFixed(1).padStart(13)} ${g.cpuMs.toFixed(1).padStart(12)}   ${((100 * g.wallMs) / wallMs).toFixed(0).padStart(3)} %`,
    );
  const gemm = gemmTotal(rows);
  console.log(
    `    ${"(GEMM in every phase, K-FAC's included)".padEnd(40)} ${gemm.wallMs.toFixed(1).padStart(13)} ${gemm.cpuMs.toFixed(1).padStart(12)}   ${((100 * gemm.wallMs) / wallMs).toFixed(0).padStart(3)} %`,
  );
  return {
    optimizer,
    steps: n,
    after: skip,
    wall_ms_per_step: wallMs,
    cpu_ms_per_step: cpuMs,
    phases: rows,
    groups,
    gemm_all_phases: gemm,
  };
}

// The fused optimizer pass against the eager jax-js chain: R rounds, each timing `steps` steps after
// 3 warm-up steps with the pass on, then off (the same work: the two give the same bits).
if (arg('--fused-ab') !== undefined) {
  const rounds = Number(arg('--fused-ab'));
  const optimizers = (arg('--fused-ab-optimizers') ?? 'adam').split(',');
  console.log(
    `bench/train --fused-ab — ${task.name}, batch ${task.batch}, ${rounds} rounds of ${steps} steps each way, interleaved`,
  );
  const cpuMs = () => {
    const c = process.cpuUsage();
    return (c.user + c.system) / 1000;
  };
  for (const optimizer of optimizers) {
    const times: Record<'on' | 'off', number[]> = { on: [], off: [] };
    const cpu: Record<'on' | 'off', number[]> = { on: [], off: [] };
    for (let r = 0; r < rounds; r++)
      for (const mode of ['on', 'off'] as const) {
        setFusedUpdates(mode === 'on');
        let c0 = 0;
        times[mode].push(...(await timeSteps(optimizer, steps, 3, () => (c0 = cpuMs()))));
        cpu[mode].push((cpuMs() - c0) / steps);
      }
    setFusedUpdates(true);
    const [on, off] = [median(times.on), median(times.off)];
    const [cOn, cOff] = [median(cpu.on), median(cpu.off)];
    console.log(
      `  ${optimizer}: step with the fused pass ${(1000 * on).toFixed(1)} ms wall, ${cOn.toFixed(1)} ms CPU; eager chain ${(1000 * off).toFixed(1)} ms wall, ${cOff.toFixed(1)} ms CPU (medians of ${times.on.length} steps, CPU of ${rounds} rounds): ${(off / on).toFixed(2)}× faster in wall time, ${(cOff / cOn).toFixed(2)}× in CPU time`,
    );
  }
  process.exit(0);
}

if (process.argv.includes('--profile')) {
  console.log(
    `bench/train --profile — ${task.name}, batch ${task.batch}${task.jit ? ', jit-compiled forward/backward' : ''}, 2 riesz threads`,
  );
  const profiles = [await profileSteps('adam', steps, 3)];
  if (runs('kfac')) profiles.push(await profileSteps('kfac', 10, task.kfac?.inverseWarmup ?? 0));
  const json = arg('--json');
  if (json)
    writeFileSync(
      json,
      `${JSON.stringify({ date: new Date().toISOString(), task: task.name, batch: task.batch, profiles }, null, 2)}\n`,
    );
  process.exit(0);
}

// ---- the peers' problem: riesz's initial weights and first batch -------------------------------

/** The autoencoder tasks' activations per layer (the model does not expose its spec). */
const AUTOENCODER_ACTS: Record<string, PeerActivation[]> = {
  'mnist-autoencoder': ['tanh', 'tanh', 'tanh', 'identity', 'tanh', 'tanh', 'tanh', 'identity'],
  'mnist-autoencoder-sigmoid': [...Array(7).fill('sigmoid'), 'identity'],
};

function firstBatch(t: Task): Batch {
  for (const b of epochBatches(t.train, t.batch, 0, 0)) return b;
  throw new Error(`bench/train: task ${t.name} has no full batch`);
}

function peerProblem(): PeerProblem | null {
  const acts = AUTOENCODER_ACTS[task.name];
  if (!acts) return null;
  const params = task.model.init(0);
  const L = acts.length;
  const weights = Array.from({ length: L }, (_, i) =>
    Float32Array.from(params[`fc${i}.w`].ref.dataSync() as Float32Array),
  );
  const biases = Array.from({ length: L }, (_, i) =>
    Float32Array.from(params[`fc${i}.b`].ref.dataSync() as Float32Array),
  );
  const sizes = [params['fc0.w'].shape[1], ...weights.map((_, i) => params[`fc${i}.w`].shape[0])];
  disposeTree(params);
  const b = firstBatch(task);
  return {
    sizes,
    activations: acts,
    weights,
    biases,
    x: b.x,
    batch: b.size,
    lr: task.lr.adam,
    l2: task.l2 ?? 0,
  };
}

/**
 * riesz's data loss on the first batch at its initial weights and after one Adam step on it (by the
 * model's eager forward pass), and the loss its training step computed (the CPU engine's forward:
 * the objective less ½η‖θ₀‖², summed here in f64).
 */
async function rieszLosses(): Promise<{ loss0: number; loss1: number; stepLoss0: number }> {
  const b = firstBatch(task);
  let params = task.model.init(0);
  const { built, settings } = stepSetup('adam', params);
  const dataLoss = (p: ParamDict) => {
    const { x, y } = batchArrays(task, b);
    return (task.loss.value(settings.predict(p, x), y).dataSync() as Float32Array)[0];
  };
  const loss0 = dataLoss(params);
  let sq = 0;
  for (const p of Object.values(params)) for (const v of p.ref.dataSync() as Float32Array) sq += v * v;
  const state = built.opt.init(params);
  const r = await trainingStep(task, built, settings, params, state, b, 0);
  const stepLoss0 = r.loss - 0.5 * (task.l2 ?? 0) * sq;
  params = r.params;
  const loss1 = dataLoss(params);
  disposeTree(params);
  disposeTree(r.state);
  return { loss0, loss1, stepLoss0 };
}

// ---- PyTorch settings ----------------------------------------------------------------------------

const cpuFlags = (() => {
  try {
    return (
      readFileSync('/proc/cpuinfo', 'utf8')
        .match(/^flags\s*:(.*)$/m)?.[1]
        .trim()
        .split(/\s+/) ?? []
    );
  } catch {
    return [];
  }
})();
const hasAvx512 = cpuFlags.includes('avx512f');
const TWO = { OMP_NUM_THREADS: '2', OPENBLAS_NUM_THREADS: '2' };
/** The PyTorch settings tried: label, JSON key, environment. SkylakeX kernels need AVX-512 (they
 * die with SIGILL without it), so they are tried only where the CPU has it. */
const torchSettings: { label: string; key: string; env: NodeJS.ProcessEnv }[] = [
  { label: 'default', key: 'default', env: {} },
  { label: 'default, 2 threads', key: 'two_threads', env: TWO },
  ...(hasAvx512
    ? [
        { label: 'SkylakeX kernels', key: 'skylakex', env: { OPENBLAS_CORETYPE: 'SkylakeX' } },
        {
          label: 'SkylakeX, 2 threads',
          key: 'skylakex_two_threads',
          env: { OPENBLAS_CORETYPE: 'SkylakeX', ...TWO },
        },
      ]
    : []),
];
// The env README: OPENBLAS_CORETYPE / OPENBLAS_L2_SIZE may be set on some machines for old OpenBLAS
// builds, and slow a current one: where they are set, the peer also runs without them.
const presetBlas = ['OPENBLAS_CORETYPE', 'OPENBLAS_L2_SIZE'].filter((k) => process.env[k] !== undefined);
if (presetBlas.length > 0)
  torchSettings.push({
    label: `without ${presetBlas.join(', ')}, 2 threads`,
    key: 'unset_coretype_two_threads',
    env: { ...Object.fromEntries(presetBlas.map((k) => [k, undefined])), ...TWO },
  });

interface TorchRun {
  adam_step_s: number[];
  threads: number;
  loss0: number;
  loss1: number;
}

function runTorch(problem: PeerProblem, env: NodeJS.ProcessEnv): TorchRun | string {
  const file = join(tmpdir(), `riesz-bench-train-${process.pid}.f32`);
  writeProblemFile(problem, file);
  const spec = {
    file,
    sizes: problem.sizes,
    activations: problem.activations,
    batch: problem.batch,
    lr: problem.lr,
    l2: problem.l2,
  };
  const merged: NodeJS.ProcessEnv = { ...process.env };
  for (const [k, v] of Object.entries(env)) {
    if (v === undefined) delete merged[k];
    else merged[k] = v;
  }
  try {
    const out = execFileSync(
      '/usr/bin/python3',
      [
        join(import.meta.dirname, '../../bench/peers/train_torch.py'),
        String(steps),
        'tanh',
        JSON.stringify(spec),
      ],
      { encoding: 'utf8', env: merged, stdio: ['ignore', 'pipe', 'pipe'] },
    );
    return JSON.parse(out) as TorchRun;
  } catch (e) {
    const err = e as { stderr?: string; signal?: string; message: string };
    return `failed (${err.signal ?? ''} ${(err.stderr ?? err.message).trim().split('\n').pop()})`.replace(
      '( ',
      '(',
    );
  }
}

// ---- the run ---------------------------------------------------------------------------------------

const line = (s: string) => console.log(s);
const problem = peerProblem();
const peerNote = problem ? '' : ` (the peers need an autoencoder task; ${task.name} runs riesz alone)`;
const fmt = (s: number | null | undefined, d = 3) =>
  s === null || s === undefined ? '—' : `${s.toFixed(d)} s`;

const reference = problem ? await rieszLosses() : null;
const checks: Record<string, { loss0: number; loss1: number; same_loss0: boolean; same_step: boolean }> = {};
/** A peer computes riesz's work when its loss at the same weights agrees to f32 tolerance (1e-4
 * relative: sums of 784 000 terms) and its first Adam step changes the loss like riesz's (within 5 %
 * of riesz's change, or 1e-4 of the loss where the change is smaller). */
function check(name: string, r: { loss0: number; loss1: number }): string {
  if (!reference) return '';
  const rel = Math.abs(r.loss0 - reference.loss0) / Math.abs(reference.loss0);
  const d = r.loss1 - r.loss0;
  const dRef = reference.loss1 - reference.loss0;
  const sameStep = Math.abs(d - dRef) <= Math.max(0.05 * Math.abs(dRef), 1e-4 * Math.abs(reference.loss0));
  checks[name] = { loss0: r.loss0, loss1: r.loss1, same_loss0: rel <= 1e-4, same_step: sameStep };
  return `loss at riesz's weights ${r.loss0.toFixed(4)} (${rel <= 1e-4 ? 'same' : 'DIFFERENT'}, rel. diff ${rel.toExponential(1)}), after one Adam step ${d >= 0 ? '+' : ''}${d.toFixed(4)} (${sameStep ? 'same step' : 'DIFFERENT step'})`;
}

const torchRuns: Record<string, TorchRun | string> = {};
if (runs('torch') && problem) for (const s of torchSettings) torchRuns[s.key] = runTorch(problem, s.env);
const adam = median(await timeSteps('adam', steps, 3));
const kfac = runs('kfac') ? mean(await timeSteps('kfac', 10, task.kfac?.inverseWarmup ?? 0)) : null;
// Two warm-up steps for the in-process peers (the first compiles); TF.js's steps take seconds.
const tfjs: PeerResult | null =
  runs('tfjs') && problem ? await runTfjsPeer(problem, Math.min(steps, 3), 1) : null;
const jaxjs: PeerResult | null =
  runs('jaxjs') && problem ? runJaxjsPeer(problem, Math.min(steps, 3), 1) : null;

line(
  `bench/train — ${task.name}, batch ${task.batch}, CPU (${cpuFlags.includes('avx512f') ? 'AVX-512' : cpuFlags.includes('avx2') ? 'AVX2, no AVX-512' : 'no AVX2'}; 2 riesz threads)${peerNote}\n`,
);
if (reference)
  line(
    `  riesz: loss at its initial weights on the first batch ${reference.loss0.toFixed(4)} (its training step's: ${reference.stepLoss0.toFixed(4)}), after one Adam step ${reference.loss1 - reference.loss0 >= 0 ? '+' : ''}${(reference.loss1 - reference.loss0).toFixed(4)}`,
  );
let torchBest: { key: string; label: string; s: number } | null = null;
for (const s of torchSettings) {
  const r = torchRuns[s.key];
  if (r === undefined) continue;
  if (typeof r === 'string') {
    line(`  PyTorch Adam step (${s.label.padEnd(20)}) ${r}`);
    continue;
  }
  const t = median(r.adam_step_s);
  if (!torchBest || t < torchBest.s) torchBest = { key: s.key, label: s.label, s: t };
  line(
    `  PyTorch Adam step (${s.label.padEnd(20)}) ${fmt(t)} on ${r.threads} thread(s)   ${check(`torch_${s.key}`, r)}`,
  );
}
if (runs('torch') && problem && !hasAvx512)
  line(
    '  (PyTorch with OPENBLAS_CORETYPE=SkylakeX not run: this CPU has no AVX-512, and those kernels die with SIGILL)',
  );
if (tfjs)
  line(`  TF.js Adam step            ${fmt(median(tfjs.stepS))} (${tfjs.setup})   ${check('tfjs', tfjs)}`);
if (jaxjs)
  line(
    `  jax-js jit Adam step       ${fmt(median(jaxjs.stepS))} (${jaxjs.setup})   ${check('jaxjs', jaxjs)}`,
  );
line(`  riesz Adam step            ${fmt(adam)} (median of ${steps} after 3 warm-up steps)`);
if (kfac !== null)
  line(
    `  riesz K-FAC step           ${fmt(kfac)} (mean of 10 after the ${task.kfac?.inverseWarmup ?? 0}-step burn-in, inverse refreshes included)`,
  );

interface Target {
  value: number;
  target: string;
  met: boolean;
}
const targets: Record<string, Target> = {};
const target = (key: string, what: string, value: number, goal: string, met: boolean) => {
  targets[key] = { value, target: goal, met };
  line(
    `  ${what.padEnd(52)} ${value.toFixed(2).padStart(7)}×   target ${goal.padEnd(7)} ${met ? 'met' : 'MISSED'}`,
  );
};
line('\n  ratios (one run)');
if (torchBest)
  target(
    'adam_speed_vs_torch_best',
    `riesz Adam speed / PyTorch at its best (${torchBest.label})`,
    torchBest.s / adam,
    '≥ 0.25',
    torchBest.s / adam >= 0.25,
  );
if (kfac !== null)
  target('kfac_over_adam', "riesz K-FAC step / riesz's Adam step", kfac / adam, '≤ 1.5', kfac / adam <= 1.5);
if (tfjs)
  target(
    'tfjs_over_riesz_adam',
    'TF.js wasm Adam step / riesz Adam step',
    median(tfjs.stepS) / adam,
    '≥ 10',
    median(tfjs.stepS) / adam >= 10,
  );
if (jaxjs)
  target(
    'jaxjs_over_riesz_adam',
    'jax-js jit Adam step / riesz Adam step',
    median(jaxjs.stepS) / adam,
    '> 1',
    median(jaxjs.stepS) / adam > 1,
  );
const notSame = Object.entries(checks).filter(([, c]) => !c.same_loss0 || !c.same_step);
if (notSame.length > 0)
  line(
    `\n  WARNING: ${notSame.map(([k]) => k).join(', ')} did not compute riesz's losses: their times are not of the same work`,
  );

const json = arg('--json');
if (json) {
  const torchMedian = (key: string) => {
    const r = torchRuns[key];
    return r === undefined || typeof r === 'string' ? null : median(r.adam_step_s);
  };
  const record = {
    date: new Date().toISOString(),
    task: task.name,
    batch: task.batch,
    // The keys of the first version; a setting not run (no AVX-512, or --peers without torch) is null.
    torch_adam_step_s: {
      default: torchMedian('default'),
      skylakex: torchMedian('skylakex'),
      skylakex_two_threads: torchMedian('skylakex_two_threads'),
      ...Object.fromEntries(torchSettings.map((s) => [s.key, torchMedian(s.key)])),
    },
    torch_best_setting: torchBest?.key ?? null,
    torch_failures: Object.fromEntries(Object.entries(torchRuns).filter(([, r]) => typeof r === 'string')),
    riesz_adam_step_s: adam,
    riesz_kfac_step_s: kfac,
    tfjs_adam_step_s: tfjs ? median(tfjs.stepS) : null,
    jaxjs_jit_adam_step_s: jaxjs ? median(jaxjs.stepS) : null,
    peer_setup: { tfjs: tfjs?.setup ?? null, jaxjs: jaxjs?.setup ?? null },
    adam_speed_vs_torch_best: torchBest ? torchBest.s / adam : null,
    kfac_over_adam: kfac !== null ? kfac / adam : null,
    tfjs_over_riesz_adam: tfjs ? median(tfjs.stepS) / adam : null,
    jaxjs_over_riesz_adam: jaxjs ? median(jaxjs.stepS) / adam : null,
    targets,
    riesz_losses: reference
      ? { loss0: reference.loss0, loss1: reference.loss1, step_loss0: reference.stepLoss0 }
      : null,
    loss_checks: checks,
    cpu_avx512: hasAvx512,
  };
  writeFileSync(json, `${JSON.stringify(record, null, 2)}\n`);
}

// Time to Adam's loss: Adam trains 300 steps; its target is the mean train loss of its last 10
// steps; K-FAC trains on the same batches until a step's loss reaches that, or until it has used
// Adam's whole wall time. Target: K-FAC gets there in ≤ 1/3 of Adam's wall time. (~10 minutes)
if (process.argv.includes('--time-to-adam-loss')) {
  const quiet = { progress: () => {} };
  const a = await train(task, { optimizer: 'adam', steps: 300, ...quiet });
  const goal = mean(a.curve.slice(-10).map((p) => p.train_loss));
  const k = await train(task, {
    optimizer: 'kfac',
    steps: 300,
    targetLoss: goal,
    maxWallS: a.wall_s,
    ...quiet,
  });
  console.log(
    `\n  Adam, 300 steps: wall ${a.wall_s.toFixed(0)} s, train loss (mean of the last 10 steps) ${goal.toFixed(2)}`,
  );
  console.log(
    k.time_to_target_s === null
      ? `  K-FAC did not reach it within Adam's wall time (${k.steps} steps, loss ${k.final_train_loss.toFixed(2)}): ratio > 1   target ≤ 0.33`
      : `  K-FAC reached it after ${k.time_to_target_s.toFixed(0)} s: ${(k.time_to_target_s / a.wall_s).toFixed(2)}× Adam's wall time   target ≤ 0.33`,
  );
}
