/**
 * The training loop: seeded mini-batches, one forward/backward per step (with curvature taps when the
 * optimizer needs them), the optimizer's update, a progress line with loss, throughput and ETA,
 * evaluation at the end of each epoch, metrics to JSONL and CSV, the wall time at which the training
 * loss first reaches a target, and a NaN/Inf policy (stop with a clear message, or skip the step).
 */

import { existsSync, mkdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { numpy as np } from '@jax-js/jax';
import { readScalars } from '../backend/read.js';
import { type Batch, epochBatches, evalBatches, scheduledBatches } from '../data/dataset.js';
import { RieszError, UsageError } from '../errors.js';
import { writeFileAtomic } from '../io/files.js';
import { disposeTree } from '../optim/base.js';
import type { ParamDict } from '../optim/types.js';
import { loadCheckpoint, saveCheckpoint } from './checkpoint.js';
import { eagerLossAndGrads, jitLossAndGrads, jitPredict, type PredictFn } from './jit-step.js';
import { buildOptimizer, type TaskKfacOptions } from './optimizers.js';
import type { OptimizerSettings } from './settings.js';
import { batchArrays, firstNonFinite, type StepSettings, trainingStep } from './step.js';
import type { Task } from './tasks.js';

/** Options of {@link train}: the optimizer and its learning rate, the run's length and batches, and
 * where progress, metrics and checkpoints go. */
export interface TrainOptions {
  optimizer: string;
  lr?: number;
  epochs?: number;
  /** Stop after this many steps (overrides epochs). */
  steps?: number;
  batch?: number;
  seed?: number;
  targetLoss?: number;
  /**
   * What a step with a NaN/±Inf loss does: 'stop' (default) ends the run with a TrainingError naming
   * the step and the first parameter whose gradient is non-finite; 'skip' drops the step (parameters
   * and optimizer state unchanged, its batch consumed), counts it in `skipped_steps` / `skipped_at`,
   * and goes on. Either way no checkpoint with non-finite parameters is written: the last one on
   * disk stays the last good state.
   */
  nonFinite?: 'stop' | 'skip';
  /** The older name of `nonFinite` (used when `nonFinite` is not given). */
  onNan?: 'stop' | 'skip';
  /** Folder for metrics.jsonl, metrics.csv and summary.json. */
  out?: string;
  /** Progress lines go here (default: stderr when it is a terminal, else every 10%). */
  progress?: (line: string, final: boolean) => void;
  /** Evaluate on the test set every this many steps as well (default: at the end of each epoch). */
  evalEvery?: number;
  /** Write a checkpoint (safetensors, atomic) here at the end, and every `checkpointEvery` steps. */
  save?: string;
  checkpointEvery?: number;
  /** Continue from this checkpoint (same task, optimizer, lr, batch and seed). */
  resume?: string;
  /**
   * A wall-time budget: stop after the first step that ends past this many seconds since this
   * run's training began (a resumed run's earlier time does not count). The summary's
   * `time_limited` says whether it cut the run short.
   */
  maxWallS?: number;
  /** Jit-compile the forward/backward (default: the task's choice; see train/jit-step.ts). */
  jit?: boolean;
  /** η of the objective's ½η‖θ‖² (default: the task's, else 0). */
  l2?: number;
  /** K-FAC settings over the task's (damping, its adaptation, step rule, inverses). */
  kfac?: TaskKfacOptions;
  /** Other optimizer knobs (train/settings.ts): momentum, weight decay, Adam's betas, the KL clip. */
  settings?: OptimizerSettings;
  /**
   * Growing batches m_k = min(⌊batch·2^{k/doublingSteps}⌋, N) (TF K-FAC's autoencoder schedule);
   * batches are then drawn in order from consecutive seeded shuffles of the training set.
   */
  batchSchedule?: { doublingSteps: number };
  /**
   * Stops the run after the step in progress (Ctrl-C in the CLI): the checkpoint (with `save`) and
   * the metrics are written as at the end, and the summary says `interrupted: true`.
   */
  signal?: AbortSignal;
}

/** What {@link train} returns: the run's settings, final losses, timings and loss curve (summary.json
 * holds all of it but the curve). */
export interface TrainSummary {
  task: string;
  optimizer: string;
  lr: number;
  steps: number;
  epochs: number;
  batch: number;
  final_train_loss: number;
  final_test_loss: number;
  test_accuracy: number | null;
  wall_s: number;
  step_time_ms: number;
  time_to_target_s: number | null;
  target_loss: number | null;
  skipped_steps: number;
  /** The steps (counted from 1, as in metrics.jsonl) that `nonFinite: 'skip'` dropped, in this process. */
  skipped_at: number[];
  /** The policy in force for non-finite steps. */
  non_finite: 'stop' | 'skip';
  resumed_from_step: number | null;
  /** True when `signal` stopped the run before its last step. */
  interrupted: boolean;
  /** The wall-time budget in seconds (`maxWallS`, `--max-seconds`), or null. */
  max_wall_s: number | null;
  /** True when the budget stopped the run before its planned last step. */
  time_limited: boolean;
  /** The batch's squared error of the predictive mean at the last step (autoencoders), else null. */
  final_train_sse: number | null;
  final_test_sse: number | null;
  /** The settings the run used (learning rate, L2, K-FAC's options, batch schedule). */
  settings: RunSettings;
  curve: CurvePoint[];
}

export interface CurvePoint {
  step: number;
  wall_s: number;
  train_loss: number;
  /** Examples in this step's batch. */
  batch?: number;
  train_sse?: number;
  test_loss?: number;
  test_accuracy?: number;
  test_sse?: number;
  /** What the optimizer reported (K-FAC: damping λ, alpha, mu, rho). */
  [reported: string]: number | undefined;
}

export interface RunSettings {
  lr: number;
  l2: number;
  kfac: TaskKfacOptions | null;
  /** The optimizer knobs given (momentum, weight decay, betas, KL clip); defaults are not listed. */
  optimizer: OptimizerSettings;
  batch_schedule: { doublingSteps: number } | null;
}

export class TrainingError extends RieszError {
  constructor(message: string) {
    super('training', message);
  }
}

/**
 * Mean loss, accuracy (classifiers: of every predicted label) and squared error (losses that define
 * it) on the test set — the data loss, without the L2 term. Borrows params.
 */
export async function evaluate(
  task: Task,
  params: ParamDict,
  predict: PredictFn = (p, x) => task.model.predict(p, x),
): Promise<{ loss: number; accuracy: number | null; sse: number | null }> {
  let total = 0;
  let sse = 0;
  let correct = 0;
  for (const b of evalBatches(task.test, 1000)) {
    const { x, y } = batchArrays(task, b);
    const out = predict(params, x);
    // The predicted labels and the batch's scalars: two reads.
    const pred = task.classifier ? np.argmax(out.ref, -1).data() : null;
    const scalars = [task.loss.value(out.ref, y.ref)];
    if (task.loss.squaredError) scalars.push(task.loss.squaredError(out.ref, y.ref));
    out.dispose();
    y.dispose();
    if (pred) {
      const p = (await pred) as Int32Array;
      const labels = b.y as Int32Array;
      for (let i = 0; i < p.length; i++) if (p[i] === labels[i]) correct++;
    }
    const v = await readScalars(scalars);
    total += v[0] * b.size;
    if (task.loss.squaredError) sse += v[1] * b.size;
  }
  // A sequence model predicts yDim labels per example (one per position).
  const labels = task.test.n * task.test.yDim;
  return {
    loss: total / task.test.n,
    accuracy: task.classifier ? correct / labels : null,
    sse: task.loss.squaredError ? sse / task.test.n : null,
  };
}

/**
 * The K-FAC settings of a run: the task's, then the caller's. A checkpoint written before a task
 * had a default `curvatureBatch` (the autoencoder's, since 2026-12-03) used the whole batch, and
 * its run goes on that way unless the caller sets one: so old checkpoints resume, unchanged.
 */
function kfacSettingsFor(task: Task, o: TrainOptions, checkpointSettings: unknown): TaskKfacOptions {
  const settings: TaskKfacOptions = { ...task.kfac, ...o.kfac };
  if (typeof checkpointSettings !== 'string' || o.kfac?.curvatureBatch !== undefined) return settings;
  let recorded: { kfac?: TaskKfacOptions | null } | null = null;
  try {
    recorded = JSON.parse(checkpointSettings);
  } catch {
    return settings; // the settings check below reports the mismatch
  }
  if (recorded?.kfac && recorded.kfac.curvatureBatch === undefined) delete settings.curvatureBatch;
  return settings;
}

/**
 * Trains `task` and returns the summary. Asynchronous: every read of the device (the loss, evaluation,
 * the optimizers' scalars, checkpoints) is awaited, as WebGPU needs; between steps it yields to the
 * event loop, so that signals (Ctrl-C) and other work get through.
 */
export async function train(task: Task, o: TrainOptions): Promise<TrainSummary> {
  const lr = o.lr ?? task.lr[o.optimizer] ?? 1e-3;
  const batch = o.batch ?? task.batch;
  const seed = o.seed ?? 0;
  const l2 = o.l2 ?? task.l2 ?? 0;
  const resumed = o.resume ? loadCheckpoint(o.resume) : null;
  const kfacSettings = kfacSettingsFor(task, o, resumed?.run.settings);
  const stepsPerEpoch = Math.floor(task.train.n / batch);
  let totalSteps = o.steps ?? (o.epochs ?? task.epochs) * stepsPerEpoch;
  let params = task.model.init(seed);
  const built = buildOptimizer(o.optimizer, lr, params, task.model.head, {
    klClip: task.klClip,
    kfac: kfacSettings,
    l2,
    settings: o.settings,
  });
  const usesKfac = built.fisher === 'true';
  const settings: RunSettings = {
    lr,
    l2,
    kfac: usesKfac ? kfacSettings : null,
    optimizer: o.settings ?? {},
    batch_schedule: o.batchSchedule ?? null,
  };
  const useJit = o.jit ?? task.jit ?? false;
  const predict: PredictFn = useJit ? jitPredict(task.model) : (p, x) => task.model.predict(p, x);
  const stepSettings: StepSettings = {
    l2,
    seed,
    lossAndGrads: (useJit ? jitLossAndGrads : eagerLossAndGrads)(task.model, task.loss, built.fisher),
    predict,
  };
  let state: unknown;
  const run = { task: task.name, optimizer: o.optimizer, lr, batch, seed };
  const settingsKey = JSON.stringify(settings);
  let startStep = 0;
  let wallBefore = 0; // wall time of the run before the checkpoint resumed here
  if (resumed) {
    const ck = resumed;
    for (const [k, v] of Object.entries(run)) {
      if (ck.run[k] !== v) {
        throw new UsageError(
          `checkpoint ${o.resume} was written with ${k} ${ck.run[k]}, this run has ${v}: resume with the same settings`,
        );
      }
    }
    // Checkpoints from before settings were recorded carry none; those resume unchecked.
    if (ck.run.settings !== undefined && ck.run.settings !== settingsKey) {
      throw new UsageError(
        `checkpoint ${o.resume} was written with settings ${ck.run.settings}, this run has ${settingsKey}: resume with the same settings`,
      );
    }
    disposeTree(params);
    params = ck.params;
    state = ck.state;
    startStep = ck.step;
    wallBefore = typeof ck.run.wall_s === 'number' ? ck.run.wall_s : 0;
  } else state = built.opt.init(params);
  const policy = o.nonFinite ?? o.onNan ?? 'stop';
  const checkpoint = async () => {
    if (!o.save) return;
    // Never replace a good checkpoint with a poisoned one (a finite loss can come with a non-finite
    // gradient, and then parameters); the one on disk stays valid.
    const bad = await firstNonFinite(params);
    if (bad !== null) {
      throw new TrainingError(
        `${o.optimizer} on ${task.name}: parameter ${bad} is not finite after step ${step}; the checkpoint ${o.save} was not overwritten and holds the last good state`,
      );
    }
    await saveCheckpoint(o.save, {
      params,
      state,
      step,
      run: { ...run, settings: settingsKey, wall_s: wallBefore + (performance.now() - start) / 1000 },
    });
    // The metrics so far go with it, so that a killed run resumes with its whole curve.
    if (o.out) {
      mkdirSync(o.out, { recursive: true });
      writeFileAtomic(join(o.out, 'metrics.jsonl'), rows.length > 0 ? `${rows.join('\n')}\n` : '');
    }
  };
  const curve: CurvePoint[] = [];
  // A resumed run continues the metrics of the run it resumes (its rows up to the checkpoint's step).
  const rows: string[] = o.resume && o.out ? earlierRows(o.out, startStep) : [];
  const start = performance.now();
  let step = startStep;
  let lastLoss = Number.NaN;
  let lastSse: number | null = null;
  let reached: number | null = null;
  let skipped = 0;
  const skippedAt: number[] = [];
  let stepTimes = 0;
  const report = o.progress ?? (() => {});
  let interrupted = false;
  let timeLimited = false;
  for (const b of batchStream(task, batch, seed, startStep, o.batchSchedule)) {
    if (step >= totalSteps) break;
    // Let signal handlers run between steps.
    await new Promise((resolve) => setImmediate(resolve));
    if (o.signal?.aborted) {
      interrupted = true;
      break;
    }
    const t0 = performance.now();
    const r = await trainingStep(task, built, stepSettings, params, state, b, step);
    if (!r.finite) {
      const where = r.nonFiniteGradient
        ? `the first non-finite gradient is that of ${r.nonFiniteGradient}`
        : 'every gradient is finite, the loss is not';
      // Parameters already non-finite (an earlier step's finite loss with a NaN gradient): skipping
      // cannot recover, so both policies stop.
      const badParam = await firstNonFinite(params);
      if (policy === 'skip' && badParam === null) {
        skipped++;
        step++;
        skippedAt.push(step);
        continue;
      }
      throw new TrainingError(
        `${o.optimizer} on ${task.name}: the training loss became ${r.loss} at step ${step + 1} (lr ${lr}); ${where}` +
          (badParam === null
            ? '; lower --lr, or pass --on-nonfinite skip to drop such steps'
            : `; parameter ${badParam} is already non-finite, so skipping cannot help`) +
          (o.save ? `; the checkpoint ${o.save} holds the last good state` : ''),
      );
    }
    params = r.params;
    state = r.state;
    stepTimes += performance.now() - t0;
    step++;
    lastLoss = r.loss;
    lastSse = r.sse ?? null;
    const wall = (performance.now() - start) / 1000;
    if (reached === null && o.targetLoss !== undefined && r.loss <= o.targetLoss) reached = wall;
    if (o.maxWallS !== undefined && wall > o.maxWallS && step < totalSteps) {
      totalSteps = step;
      timeLimited = true;
    }
    const point: CurvePoint = { step, wall_s: wallBefore + wall, train_loss: r.loss };
    if (o.batchSchedule) point.batch = b.size;
    if (r.sse !== undefined) point.train_sse = r.sse;
    for (const [k, v] of Object.entries(r.info)) point[k] = v;
    const endOfEpoch = step % stepsPerEpoch === 0 || step === totalSteps;
    if (endOfEpoch || (o.evalEvery && step % o.evalEvery === 0)) {
      const ev = await evaluate(task, params, predict);
      point.test_loss = ev.loss;
      if (ev.accuracy !== null) point.test_accuracy = ev.accuracy;
      if (ev.sse !== null) point.test_sse = ev.sse;
    }
    curve.push(point);
    rows.push(JSON.stringify(point));
    if (o.checkpointEvery && step % o.checkpointEvery === 0) await checkpoint();
    // Rate and ETA from this process's steps only (a resumed run did the others earlier).
    const rate = (step - startStep) / wall;
    const eta = (totalSteps - step) / rate;
    report(
      `${o.optimizer} ${task.name}  step ${step}/${totalSteps}  loss ${r.loss.toFixed(4)}  ${rate.toFixed(1)} steps/s  ETA ${eta.toFixed(0)}s` +
        (point.test_accuracy !== undefined ? `  test acc ${(100 * point.test_accuracy).toFixed(2)}%` : '') +
        (r.info.damping !== undefined ? `  λ ${r.info.damping.toPrecision(3)}` : ''),
      step === totalSteps,
    );
  }
  await checkpoint();
  const wall = (performance.now() - start) / 1000;
  const last = [...curve].reverse().find((p) => p.test_loss !== undefined);
  const summary: TrainSummary = {
    task: task.name,
    optimizer: o.optimizer,
    lr,
    steps: step,
    epochs: step / stepsPerEpoch,
    resumed_from_step: o.resume ? startStep : null,
    batch,
    final_train_loss: lastLoss,
    final_test_loss: last?.test_loss ?? Number.NaN,
    test_accuracy: last?.test_accuracy ?? null,
    final_train_sse: lastSse,
    final_test_sse: last?.test_sse ?? null,
    wall_s: wall,
    step_time_ms: step > startStep ? stepTimes / (step - startStep) : 0,
    time_to_target_s: reached,
    target_loss: o.targetLoss ?? null,
    skipped_steps: skipped,
    skipped_at: skippedAt,
    non_finite: policy,
    interrupted,
    max_wall_s: o.maxWallS ?? null,
    time_limited: timeLimited,
    settings,
    curve,
  };
  disposeTree(params);
  disposeTree(state);
  if (o.out) writeMetrics(o.out, summary, rows, built.table);
  return summary;
}

/** The metrics.jsonl rows of an earlier run in `dir` up to `step` (none when there is no file). */
function earlierRows(dir: string, step: number): string[] {
  const file = join(dir, 'metrics.jsonl');
  if (!existsSync(file)) return [];
  return readFileSync(file, 'utf8')
    .split('\n')
    .filter((line) => {
      if (line.trim() === '') return false;
      try {
        return (JSON.parse(line) as { step?: number }).step! <= step;
      } catch {
        return false; // a torn last line of a killed run
      }
    });
}

/**
 * The run's batches from step `from` on: fixed-size batches epoch by epoch (the resumed epoch's done
 * batches skipped), or with a schedule, growing batches taken in order from consecutive shuffles.
 */
function* batchStream(
  task: Task,
  batch: number,
  seed: number,
  from: number,
  schedule?: { doublingSteps: number },
): Generator<Batch> {
  if (schedule) {
    const size = (k: number) => Math.min(Math.floor(batch * 2 ** (k / schedule.doublingSteps)), task.train.n);
    yield* scheduledBatches(task.train, size, seed, from);
    return;
  }
  const stepsPerEpoch = Math.floor(task.train.n / batch);
  let toSkip = from % stepsPerEpoch;
  for (let epoch = Math.floor(from / stepsPerEpoch); ; epoch++) {
    for (const b of epochBatches(task.train, batch, seed, epoch, toSkip)) yield b;
    toSkip = 0;
  }
}

/** The metrics.csv columns (the first five as before; empty cells where a run has no such value). */
const CSV_COLUMNS = [
  'step',
  'wall_s',
  'train_loss',
  'test_loss',
  'test_accuracy',
  'train_sse',
  'test_sse',
  'batch',
  'damping',
  'alpha',
  'mu',
  'rho',
] as const;

function writeMetrics(dir: string, s: TrainSummary, jsonl: string[], table: string): void {
  mkdirSync(dir, { recursive: true });
  writeFileAtomic(join(dir, 'metrics.jsonl'), `${jsonl.join('\n')}\n`);
  // Every row, the resumed run's earlier ones included.
  const points = jsonl.map((line) => JSON.parse(line) as CurvePoint);
  const csv = [CSV_COLUMNS.join(','), ...points.map((p) => CSV_COLUMNS.map((c) => p[c] ?? '').join(','))];
  writeFileAtomic(join(dir, 'metrics.csv'), `${csv.join('\n')}\n`);
  const { curve: _curve, ...rest } = s;
  writeFileAtomic(join(dir, 'summary.json'), `${JSON.stringify(rest, null, 2)}\n`);
  writeFileAtomic(join(dir, 'routing.txt'), `${table}\n`);
}
