/**
 * `riesz compare --task T --optimizers a,b,c [--steps N|--epochs E] [--target-loss X] [--out DIR]
 * [--seed S] [--json]` — trains each optimizer on the same task (same seed, same batches) and writes
 * curves (curves.csv, curves.json), plots of loss against steps and against wall time (SVG and PNG)
 * and a Markdown summary (summary.md), which it also prints.
 */
import { mkdirSync } from 'node:fs';
import { join } from 'node:path';
import { initDevice } from '../backend/device.js';
import { RieszError, UsageError } from '../errors.js';
import { writeFileAtomic } from '../io/files.js';
import { type TrainSummary, train } from '../train/loop.js';
import { OPTIMIZERS } from '../train/optimizers.js';
import { lossChartSvg, svgToPng } from '../train/plot.js';
import { type TuningTry, tuneLearningRate } from '../train/tune.js';
import { describeOptions, numberOption, type OptionSpec, parseArgs } from './args.js';
import { onInterrupt } from './interrupt.js';
import { taskFlags, taskOf } from './task-options.js';
import {
  readTrainingSettings,
  targetLossOf,
  taskOverridesOf,
  trainingFlags,
  trainOptionsOf,
} from './training-flags.js';

export const compareOptions: Record<string, OptionSpec> = {
  ...taskFlags,
  optimizers: {
    type: 'string',
    value: 'a,b,c',
    help: `comma-separated, from ${OPTIMIZERS.join(', ')} (default sgd,adam,kfac)`,
  },
  reference: {
    type: 'string',
    value: 'O',
    help: 'one of --optimizers: report when each reaches its final train loss (mean of its last 10 steps), in wall time',
  },
  'target-loss': {
    type: 'string',
    value: 'X',
    help: 'report the wall time at which each reaches train loss X',
  },
  seed: { type: 'string', value: 'S', help: 'seed (default 0), shared by all optimizers' },
  out: { type: 'string', value: 'DIR', help: 'output folder (default riesz-compare-<task>)' },
  tune: {
    type: 'string',
    value: 'K',
    help: 'first tune each learning rate with K tries (factor-2 grid around the default)',
  },
  'tune-steps': { type: 'string', value: 'N', help: 'steps per tuning try (default 100)' },
  json: { type: 'boolean', help: 'make the last line of stdout one JSON object with every summary' },
  quiet: { type: 'boolean', help: 'no progress lines' },
  debug: { type: 'boolean', help: 'show stack traces on errors' },
  help: { type: 'boolean', help: 'show this help' },
  ...trainingFlags,
};

const num = (x: number | null | undefined, digits = 4) =>
  x === null || x === undefined || !Number.isFinite(x) ? '—' : Number(x.toPrecision(digits)).toString();

/** The race to a reference's final loss: its value, and each run's first wall time at or below it. */
export interface Race {
  reference: string;
  loss: number;
  /** Optimizer → seconds (null: not reached). */
  times: Record<string, number | null>;
}

/** The reference's final train loss (the mean of its last 10 steps) and when each run first reached it. */
export function raceTo(reference: string, rows: TrainSummary[]): Race {
  const ref = rows.find((r) => r.optimizer === reference);
  if (!ref) throw new UsageError(`--reference ${reference} is not among the optimizers compared`);
  const tail = ref.curve.slice(-10);
  const loss = tail.reduce((s, p) => s + p.train_loss, 0) / tail.length;
  const times = Object.fromEntries(
    rows.map((r) => [r.optimizer, r.curve.find((p) => p.train_loss <= loss)?.wall_s ?? null]),
  );
  return { reference, loss, times };
}

/** The Markdown table of a comparison. */
export function summaryTable(rows: TrainSummary[], race?: Race): string {
  const withSse = rows.some((r) => r.final_train_sse !== null);
  const header = [
    'optimizer',
    'lr',
    'steps',
    'final train loss',
    'test loss',
    'test accuracy',
    'time to target (s)',
    'ms / step',
    'wall (s)',
    ...(withSse ? ['train sq. error', 'test sq. error'] : []),
    ...(race ? [`time to ${race.reference}'s loss ${race.loss.toPrecision(4)} (s)`] : []),
  ];
  const lines = rows.map((r) => [
    r.optimizer,
    String(r.lr),
    String(r.steps),
    num(r.final_train_loss),
    num(r.final_test_loss),
    r.test_accuracy === null ? '—' : `${(100 * r.test_accuracy).toFixed(2)}%`,
    r.target_loss === null
      ? '—'
      : r.time_to_target_s === null
        ? 'not reached'
        : r.time_to_target_s.toFixed(2),
    r.step_time_ms.toFixed(1),
    r.wall_s.toFixed(1),
    ...(withSse ? [num(r.final_train_sse), num(r.final_test_sse)] : []),
    ...(race ? [race.times[r.optimizer] === null ? 'not reached' : race.times[r.optimizer]!.toFixed(1)] : []),
  ]);
  return [
    `| ${header.join(' | ')} |`,
    `|${header.map(() => '---').join('|')}|`,
    ...lines.map((l) => `| ${l.join(' | ')} |`),
  ].join('\n');
}

/** Runs `riesz compare`; resolves to the exit status (130/143 after Ctrl-C/SIGTERM, else 0). */
export async function runCompare(argv: string[], print: (s: string) => void): Promise<number> {
  const { options, positionals } = parseArgs(argv, compareOptions, 'riesz compare');
  if (options.help) {
    print(`usage: riesz compare [options]\n\n${describeOptions(compareOptions)}`);
    return 0;
  }
  if (positionals.length > 0)
    throw new UsageError(`riesz compare takes no operands, got '${positionals[0]}'`);
  const names = String(options.optimizers ?? 'sgd,adam,kfac')
    .split(',')
    .map((s) => s.trim())
    .filter(Boolean);
  for (const n of names) {
    if (!(OPTIMIZERS as readonly string[]).includes(n))
      throw new UsageError(`unknown optimizer '${n}'; valid optimizers: ${OPTIMIZERS.join(', ')}`);
  }
  if (options.reference !== undefined && !names.includes(String(options.reference)))
    throw new UsageError(`--reference ${options.reference} is not among --optimizers ${names.join(',')}`);
  const settings = readTrainingSettings(options);
  const base = trainOptionsOf(settings);
  const task = taskOf(options, taskOverridesOf(settings), numberOption(options.seed, 'seed', 0));
  await initDevice('wasm');
  const out = String(options.out ?? `riesz-compare-${task.name}`);
  mkdirSync(out, { recursive: true });
  const quiet = Boolean(options.quiet);
  const results: TrainSummary[] = [];
  const tries = options.tune === undefined ? 0 : numberOption(options.tune, 'tune', 0);
  const tuning: TuningTry[] = [];
  const interrupt = onInterrupt((line) => process.stderr.write(`\nriesz: ${line}\n`));
  let stoppedDuring: string | null = null;
  const failed: { optimizer: string; error: string }[] = [];
  for (const optimizer of names) {
    if (interrupt.signal.aborted) break;
    // A failing optimizer (a numerical error, a diverged run) is reported and the others go on.
    try {
      let lr = base.lr;
      if (tries > 0) {
        const t = await tuneLearningRate(
          task,
          optimizer,
          tries,
          numberOption(options['tune-steps'], 'tune-steps', 100),
          numberOption(options.seed, 'seed', 0),
          { ...base, signal: interrupt.signal },
        );
        lr = t.best;
        tuning.push(...t.log);
        if (!quiet) process.stderr.write(`tuned ${optimizer}: lr ${lr} (${tries} tries)\n`);
      }
      results.push(
        await train(task, {
          ...base,
          signal: interrupt.signal,
          optimizer,
          lr,
          seed: numberOption(options.seed, 'seed', 0),
          targetLoss: targetLossOf(options),
          out: join(out, optimizer),
          progress: quiet ? () => {} : (line, final) => final && process.stderr.write(`${line}\n`),
        }),
      );
    } catch (e) {
      if (!(e instanceof RieszError)) throw e;
      failed.push({ optimizer, error: e.message });
      process.stderr.write(`riesz: ${optimizer} failed: ${e.message}; going on with the others\n`);
      continue;
    }
    if (results.at(-1)?.interrupted || interrupt.signal.aborted) {
      stoppedDuring = optimizer;
      break;
    }
  }
  interrupt.dispose();
  if (stoppedDuring !== null) {
    const finished = results.filter((r) => !r.interrupted).map((r) => r.optimizer);
    process.stderr.write(
      `riesz: interrupted during ${stoppedDuring}; finished: ${finished.length > 0 ? finished.join(', ') : 'none'}; what ran is in ${out}/\n`,
    );
  }
  const csv = ['optimizer,step,wall_s,train_loss,test_loss,test_accuracy,train_sse,test_sse'];
  for (const r of results)
    for (const p of r.curve)
      csv.push(
        [
          r.optimizer,
          p.step,
          p.wall_s,
          p.train_loss,
          p.test_loss ?? '',
          p.test_accuracy ?? '',
          p.train_sse ?? '',
          p.test_sse ?? '',
        ].join(','),
      );
  writeFileAtomic(join(out, 'curves.csv'), `${csv.join('\n')}\n`);
  writeFileAtomic(
    join(out, 'curves.json'),
    `${JSON.stringify(results.map((r) => ({ optimizer: r.optimizer, lr: r.lr, curve: r.curve })))}\n`,
  );
  for (const [axis, title] of [
    ['step', 'steps'],
    ['time', 'wall time (s)'],
  ] as const) {
    const points = results.flatMap((r) =>
      r.curve.map((p) => ({
        optimizer: r.optimizer,
        x: axis === 'step' ? p.step : p.wall_s,
        loss: p.train_loss,
      })),
    );
    const svg = await lossChartSvg(points, `${task.name}: training loss`, title);
    writeFileAtomic(join(out, `loss-vs-${axis}.svg`), svg);
    writeFileAtomic(join(out, `loss-vs-${axis}.png`), svgToPng(svg));
  }
  if (tuning.length > 0) {
    const rows = [
      'optimizer,lr,final_train_loss,diverged',
      ...tuning.map((t) => `${t.optimizer},${t.lr},${t.final_train_loss},${t.diverged}`),
    ];
    writeFileAtomic(join(out, 'tuning.csv'), `${rows.join('\n')}\n`);
  }
  const race =
    options.reference === undefined || results.length === 0
      ? undefined
      : raceTo(String(options.reference), results);
  const table = summaryTable(results, race);
  const failures = failed.map((f) => `- ${f.optimizer} failed: ${f.error}`).join('\n');

  writeFileAtomic(
    join(out, 'summary.md'),
    `# ${task.description}\n\n${table}\n${failed.length > 0 ? `\n${failures}\n` : ''}\n![loss vs steps](loss-vs-step.png)\n![loss vs time](loss-vs-time.png)\n`,
  );
  const status = stoppedDuring !== null ? interrupt.exitCode() : failed.length > 0 ? 1 : 0;
  if (options.json) {
    print(
      JSON.stringify({
        task: task.name,
        out,
        results: results.map(({ curve: _c, ...r }) => r),
        ...(race ? { race } : {}),
        ...(failed.length > 0 ? { failed } : {}),
      }),
    );
    return status;
  }
  print(`riesz compare — ${task.description}\n`);
  print(table);
  if (failed.length > 0) print(`\n${failures}`);
  print(`\n  curves, plots (SVG, PNG) and summary.md in ${out}/`);
  return status;
}
