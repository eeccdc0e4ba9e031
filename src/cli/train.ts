/**
 * `riesz train [--task T] [--optimizer O] [--steps N|--epochs E] [--batch B] [--lr X] [--seed S]
 * [--device wasm|webgpu] [--out DIR] [--target-loss X] [--on-nonfinite stop|skip] [--jit|--no-jit] [--json]
 * [--damping X] [--adapt-damping on|off] [--kfac-rule R] [--l2 X] [--config FILE.json] …` — trains a
 * model on real data and prints a summary; with --json the last stdout line is one JSON object. The
 * training knobs are the settings of train/settings.ts (training-flags.ts).
 */
import { type DeviceName, initDevice } from '../backend/device.js';
import { UsageError } from '../errors.js';
import { train } from '../train/loop.js';
import { OPTIMIZERS } from '../train/optimizers.js';
import { describeOptions, numberOption, type OptionSpec, parseArgs } from './args.js';
import { onInterrupt } from './interrupt.js';
import { fmt } from './table.js';
import { taskFlags, taskOf } from './task-options.js';
import {
  readTrainingSettings,
  targetLossOf,
  taskOverridesOf,
  trainingFlags,
  trainOptionsOf,
} from './training-flags.js';

export const trainOptions: Record<string, OptionSpec> = {
  ...taskFlags,
  optimizer: { type: 'string', value: 'O', help: `${OPTIMIZERS.join(', ')} (default kfac)` },
  seed: {
    type: 'string',
    value: 'S',
    help: 'seed of initialisation, shuffling and Fisher sampling (default 0)',
  },
  device: { type: 'string', value: 'wasm|webgpu', help: 'jax-js device (default wasm)' },
  out: { type: 'string', value: 'DIR', help: 'write metrics.jsonl, metrics.csv, summary.json, routing.txt' },
  'target-loss': {
    type: 'string',
    value: 'X',
    help: 'record time_to_target_s when the train loss first reaches X',
  },
  'on-nan': {
    type: 'string',
    value: 'stop|skip',
    help: 'the older name of --on-nonfinite',
  },
  save: { type: 'string', value: 'FILE', help: 'write a checkpoint (safetensors, atomically) at the end' },
  'checkpoint-every': { type: 'string', value: 'N', help: 'also write the checkpoint every N steps' },
  resume: { type: 'string', value: 'FILE', help: 'continue from a checkpoint (bit for bit on the CPU)' },
  jit: { type: 'boolean', help: "jit-compile the forward/backward (default: the task's choice)" },
  'no-jit': { type: 'boolean', help: 'run the forward/backward eagerly' },
  json: { type: 'boolean', help: 'make the last line of stdout one JSON object' },
  quiet: { type: 'boolean', help: 'no progress lines' },
  debug: { type: 'boolean', help: 'show stack traces on errors' },
  help: { type: 'boolean', help: 'show this help' },
  ...trainingFlags,
};

function progressPrinter(quiet: boolean): (line: string, final: boolean) => void {
  if (quiet) return () => {};
  const tty = process.stderr.isTTY;
  let lastPrint = 0;
  return (line, final) => {
    const now = performance.now();
    if (tty) process.stderr.write(`\r${line}\u001b[K${final ? '\n' : ''}`);
    else if (final || now - lastPrint > 5000) {
      process.stderr.write(`${line}\n`);
      lastPrint = now;
    }
  };
}

/** --jit / --no-jit, or undefined for the task's default. */
export function jitChoice(options: Record<string, unknown>): boolean | undefined {
  if (options.jit && options['no-jit']) throw new UsageError('--jit and --no-jit exclude each other');
  return options.jit ? true : options['no-jit'] ? false : undefined;
}

/** Runs `riesz train`; resolves to the exit status (130/143 after Ctrl-C/SIGTERM, else 0). */
export async function runTrain(argv: string[], print: (s: string) => void): Promise<number> {
  const { options, positionals } = parseArgs(argv, trainOptions, 'riesz train');
  if (options.help) {
    print(
      `usage: riesz train [options]\n\nTrains on real data and prints a summary.\n\noptions:\n${describeOptions(trainOptions)}`,
    );
    return 0;
  }
  if (positionals.length > 0) throw new UsageError(`riesz train takes no operands, got '${positionals[0]}'`);
  // --on-nan is the older spelling of --on-nonfinite (the settings schema's flag); both may be given
  // only when they agree.
  const onNan = options['on-nan'] === undefined ? undefined : String(options['on-nan']);
  if (onNan !== undefined && onNan !== 'stop' && onNan !== 'skip')
    throw new UsageError(`--on-nan must be stop or skip, got '${onNan}'`);
  if (onNan !== undefined && options['on-nonfinite'] !== undefined && options['on-nonfinite'] !== onNan)
    throw new UsageError(
      `--on-nan ${onNan} and --on-nonfinite ${options['on-nonfinite']} disagree; give one`,
    );
  const optimizer = String(options.optimizer ?? 'kfac');
  if (!(OPTIMIZERS as readonly string[]).includes(optimizer)) {
    throw new UsageError(`unknown optimizer '${optimizer}'; valid optimizers: ${OPTIMIZERS.join(', ')}`);
  }
  const positive = (name: string) => {
    const v = options[name] === undefined ? undefined : numberOption(options[name], name, 0);
    if (v !== undefined && !(v > 0)) throw new UsageError(`--${name} must be positive, got ${v}`);
    return v;
  };
  const settings = readTrainingSettings(options);
  const task = taskOf(options, taskOverridesOf(settings), numberOption(options.seed, 'seed', 0));
  await initDevice(String(options.device ?? 'wasm') as DeviceName);
  const interrupt = onInterrupt((line) => process.stderr.write(`\nriesz: ${line}\n`));
  const summary = await train(task, {
    signal: interrupt.signal,
    ...trainOptionsOf(settings),
    optimizer,
    seed: numberOption(options.seed, 'seed', 0),
    targetLoss: targetLossOf(options),
    ...(onNan === undefined ? {} : { nonFinite: onNan }),
    out: options.out === undefined ? undefined : String(options.out),
    save: options.save === undefined ? undefined : String(options.save),
    checkpointEvery: positive('checkpoint-every'),
    resume: options.resume === undefined ? undefined : String(options.resume),
    progress: progressPrinter(Boolean(options.quiet)),
    jit: jitChoice(options),
  });
  interrupt.dispose();
  if (summary.interrupted) {
    const save = options.save === undefined ? undefined : String(options.save);
    process.stderr.write(
      save
        ? `riesz: interrupted after step ${summary.steps}; checkpoint in ${save} — continue with: riesz ${['train', ...argv.filter((a) => a !== '--resume')].join(' ')} --resume ${save}\n`
        : `riesz: interrupted after step ${summary.steps}; no --save was given, so there is nothing to resume from${options.out ? ` (metrics in ${options.out}/)` : ''}\n`,
    );
  }
  const { curve: _curve, ...result } = summary;
  if (options.json) {
    print(JSON.stringify(result));
    return summary.interrupted ? interrupt.exitCode() : 0;
  }
  print(`riesz train — ${task.description}`);
  print(
    `  optimizer ${summary.optimizer} (lr ${summary.lr}), ${summary.steps} steps of batch ${summary.batch} (${fmt(summary.epochs, 3)} epochs)`,
  );
  print(
    `  final train loss ${fmt(summary.final_train_loss, 5)}, test loss ${fmt(summary.final_test_loss, 5)}`,
  );
  if (summary.test_accuracy !== null) print(`  test accuracy ${(100 * summary.test_accuracy).toFixed(2)}%`);
  if (summary.final_train_sse !== null)
    print(
      `  squared error per example: train ${fmt(summary.final_train_sse, 5)}, test ${fmt(summary.final_test_sse ?? Number.NaN, 5)}`,
    );
  print(`  wall ${summary.wall_s.toFixed(1)} s, ${summary.step_time_ms.toFixed(1)} ms per step`);
  if (summary.target_loss !== null) {
    print(
      `  time to train loss ${summary.target_loss}: ${summary.time_to_target_s === null ? 'not reached' : `${summary.time_to_target_s.toFixed(2)} s`}`,
    );
  }
  if (options.out) print(`  metrics in ${options.out}/`);
  return summary.interrupted ? interrupt.exitCode() : 0;
}
