/**
 * The training loop: seeded mini-batches, one forward/backward per step (with curvature taps when the
 * optimizer needs them), the optimizer's update, a progress line with loss, throughput and ETA,
 * evaluation at the end of each epoch, metrics to JSONL and CSV, the wall time at which the training
 * loss first reaches a target, and a NaN/Inf policy (stop with a clear message, or skip the step).
 */

import { mkdirSync } from 'node:fs';
import { join } from 'node:path';
import { numpy as np, random } from '@jax-js/jax';
import { epochBatches, evalBatches } from '../data/dataset.js';
import { RieszError, UsageError } from '../errors.js';
import { writeFileAtomic } from '../io/files.js';
import { fisherCurvature } from '../nn/fisher.js';
import { applyUpdates, disposeTree } from '../optim/base.js';
import type { ParamDict } from '../optim/types.js';
import { loadCheckpoint, saveCheckpoint } from './checkpoint.js';
import { eagerLossAndGrads, jitLossAndGrads, jitPredict, type PredictFn } from './jit-step.js';
import { buildOptimizer } from './optimizers.js';
import type { Task } from './tasks.js';

export interface TrainOptions {
  optimizer: string;
  lr?: number;
  epochs?: number;
  /** Stop after this many steps (overrides epochs). */
  steps?: number;
  batch?: number;
  seed?: number;
  targetLoss?: number;
  /** 'stop' (default) ends the run with an error on a non-finite loss; 'skip' drops that step. */
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
  /** Stop after the first step that ends past this many seconds of wall time. */
  maxWallS?: number;
  /** Jit-compile the forward/backward (default: the task's choice; see train/jit-step.ts). */
  jit?: boolean;
}

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
  resumed_from_step: number | null;
  curve: { step: number; wall_s: number; train_loss: number; test_loss?: number; test_accuracy?: number }[];
}

export class TrainingError extends RieszError {
  constructor(message: string) {
    super('training', message);
  }
}

function toArrays(task: Task, b: { x: Float32Array; y: Int32Array | Float32Array; size: number }) {
  const x = np.array(b.x).reshape([b.size, ...task.model.inputShape]);
  const y =
    b.y instanceof Int32Array
      ? np.array(b.y, { dtype: np.int32 })
      : np.array(b.y).reshape([b.size, task.train.yDim]);
  return { x, y };
}

/** Mean loss and accuracy (classifiers: of every predicted label) on the test set. Borrows params. */
export function evaluate(
  task: Task,
  params: ParamDict,
  predict: PredictFn = (p, x) => task.model.predict(p, x),
): { loss: number; accuracy: number | null } {
  let total = 0;
  let correct = 0;
  for (const b of evalBatches(task.test, 1000)) {
    const { x, y } = toArrays(task, b);
    const out = predict(params, x);
    if (task.classifier) {
      const pred = np.argmax(out.ref, -1).dataSync() as Int32Array;
      const labels = b.y as Int32Array;
      for (let i = 0; i < pred.length; i++) if (pred[i] === labels[i]) correct++;
    }
    total += (task.loss.value(out, y).dataSync() as Float32Array)[0] * b.size;
  }
  // A sequence model predicts yDim labels per example (one per position).
  const labels = task.test.n * task.test.yDim;
  return { loss: total / task.test.n, accuracy: task.classifier ? correct / labels : null };
}

export function train(task: Task, o: TrainOptions): TrainSummary {
  const lr = o.lr ?? task.lr[o.optimizer] ?? 1e-3;
  const batch = o.batch ?? task.batch;
  const seed = o.seed ?? 0;
  const stepsPerEpoch = Math.floor(task.train.n / batch);
  let totalSteps = o.steps ?? (o.epochs ?? task.epochs) * stepsPerEpoch;
  let params = task.model.init(seed);
  const built = buildOptimizer(o.optimizer, lr, params, task.model.head, {
    klClip: task.klClip,
    kfac: task.kfac,
  });
  const useJit = o.jit ?? task.jit ?? false;
  const lossAndGrads = (useJit ? jitLossAndGrads : eagerLossAndGrads)(task.model, task.loss, built.fisher);
  const predict = useJit ? jitPredict(task.model) : undefined;
  let state: unknown;
  const run = { task: task.name, optimizer: o.optimizer, lr, batch, seed };
  let startStep = 0;
  if (o.resume) {
    const ck = loadCheckpoint(o.resume);
    for (const [k, v] of Object.entries(run)) {
      if (ck.run[k] !== v) {
        throw new UsageError(
          `checkpoint ${o.resume} was written with ${k} ${ck.run[k]}, this run has ${v}: resume with the same settings`,
        );
      }
    }
    disposeTree(params);
    params = ck.params;
    state = ck.state;
    startStep = ck.step;
  } else state = built.opt.init(params);
  const checkpoint = () => o.save && saveCheckpoint(o.save, { params, state, step, run });
  const curve: TrainSummary['curve'] = [];
  const rows: string[] = [];
  const start = performance.now();
  let step = startStep;
  let lastLoss = Number.NaN;
  let reached: number | null = null;
  let skipped = 0;
  let stepTimes = 0;
  const report = o.progress ?? (() => {});
  let toSkip = startStep % stepsPerEpoch; // batches of the resumed epoch already done
  outer: for (let epoch = Math.floor(startStep / stepsPerEpoch); step < totalSteps; epoch++) {
    for (const b of epochBatches(task.train, batch, seed, epoch)) {
      if (toSkip > 0) {
        toSkip--;
        continue;
      }
      if (step >= totalSteps) break outer;
      const t0 = performance.now();
      const { x, y } = toArrays(task, b);
      const key = built.fisher === 'true' ? random.key(seed * 1000003 + step) : undefined;
      const r = lossAndGrads(params, built.curvature ? x.ref : x, y, key);
      const loss = (r.loss.dataSync() as Float32Array)[0];
      if (!Number.isFinite(loss)) {
        if (built.curvature) x.dispose();
        disposeTree(r.grads);
        disposeTree(r.taps);
        if (o.onNan === 'skip') {
          skipped++;
          step++;
          continue;
        }
        throw new TrainingError(
          `${o.optimizer} on ${task.name}: the training loss became ${loss} at step ${step} (lr ${lr}); ` +
            `lower --lr, or pass --on-nan skip to drop such steps`,
        );
      }
      const curvature = built.curvature
        ? (d: ParamDict) => fisherCurvature(task.model, task.loss, params, x, d)
        : undefined;
      const [u, s] = built.opt.update(r.grads, state, params, { taps: r.taps, curvature });
      if (built.curvature) x.dispose();
      state = s;
      params = applyUpdates(params, u);
      disposeTree(r.taps);
      stepTimes += performance.now() - t0;
      step++;
      lastLoss = loss;
      const wall = (performance.now() - start) / 1000;
      if (reached === null && o.targetLoss !== undefined && loss <= o.targetLoss) reached = wall;
      if (o.maxWallS !== undefined && wall > o.maxWallS) totalSteps = step;
      const point: TrainSummary['curve'][number] = { step, wall_s: wall, train_loss: loss };
      const endOfEpoch = step % stepsPerEpoch === 0 || step === totalSteps;
      if (endOfEpoch || (o.evalEvery && step % o.evalEvery === 0)) {
        const ev = evaluate(task, params, predict);
        point.test_loss = ev.loss;
        if (ev.accuracy !== null) point.test_accuracy = ev.accuracy;
      }
      curve.push(point);
      rows.push(JSON.stringify(point));
      if (o.checkpointEvery && step % o.checkpointEvery === 0) checkpoint();
      const rate = step / wall;
      const eta = (totalSteps - step) / rate;
      report(
        `${o.optimizer} ${task.name}  step ${step}/${totalSteps}  loss ${loss.toFixed(4)}  ${rate.toFixed(1)} steps/s  ETA ${eta.toFixed(0)}s` +
          (point.test_accuracy !== undefined ? `  test acc ${(100 * point.test_accuracy).toFixed(2)}%` : ''),
        step === totalSteps,
      );
    }
  }
  checkpoint();
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
    wall_s: wall,
    step_time_ms: step > 0 ? stepTimes / step : 0,
    time_to_target_s: reached,
    target_loss: o.targetLoss ?? null,
    skipped_steps: skipped,
    curve,
  };
  disposeTree(params);
  disposeTree(state);
  if (o.out) writeMetrics(o.out, summary, rows, built.table);
  return summary;
}

function writeMetrics(dir: string, s: TrainSummary, jsonl: string[], table: string): void {
  mkdirSync(dir, { recursive: true });
  writeFileAtomic(join(dir, 'metrics.jsonl'), `${jsonl.join('\n')}\n`);
  const csv = [
    'step,wall_s,train_loss,test_loss,test_accuracy',
    ...s.curve.map((p) =>
      [p.step, p.wall_s, p.train_loss, p.test_loss ?? '', p.test_accuracy ?? ''].join(','),
    ),
  ];
  writeFileAtomic(join(dir, 'metrics.csv'), `${csv.join('\n')}\n`);
  const { curve: _curve, ...rest } = s;
  writeFileAtomic(join(dir, 'summary.json'), `${JSON.stringify(rest, null, 2)}\n`);
  writeFileAtomic(join(dir, 'routing.txt'), `${table}\n`);
}
