/**
 * Which task a training command runs: a built-in one (`--task`, the UCI sets included), or the user's
 * own data (`--data FILE` with `--labels` or `--label-column`, `--model mlp:W1,W2`, `--test-fraction`).
 * Shared by `riesz train` and `riesz compare`.
 */
import { basename } from 'node:path';
import { datasetFromFile } from '../data/user-data.js';
import { UsageError } from '../errors.js';
import { loadTask, TASKS, type Task, type TaskOverrides } from '../train/tasks.js';
import { mlpTask } from '../train/user-task.js';
import type { OptionSpec } from './args.js';

export const taskFlags: Record<string, OptionSpec> = {
  task: { type: 'string', value: 'T', help: `${TASKS.join(', ')} (default mnist-mlp)` },
  data: {
    type: 'string',
    value: 'FILE',
    help: 'train on your own data: X.npy (with --labels y.npy) or table.csv (with --label-column)',
  },
  labels: { type: 'string', value: 'FILE.npy', help: 'the labels that go with --data X.npy' },
  'label-column': {
    type: 'string',
    value: 'NAME',
    help: 'the label column of --data table.csv (default: the last)',
  },
  'test-fraction': { type: 'string', value: 'F', help: 'share of --data held out for testing (default 0.1)' },
  model: {
    type: 'string',
    value: 'mlp:W1,W2',
    help: 'hidden widths of the MLP for --data (default one layer sized to the data; mlp: is linear)',
  },
};

/** Hidden widths of `mlp:256,128` (`mlp:` alone: no hidden layer). */
export function parseModel(spec: string): number[] {
  const m = spec.match(/^mlp:(.*)$/);
  if (!m) throw new UsageError(`--model must look like mlp:256,128, got '${spec}'`);
  if (m[1].trim() === '') return [];
  return m[1].split(',').map((w) => {
    const n = Number(w);
    if (!Number.isInteger(n) || n < 1)
      throw new UsageError(`--model widths must be positive integers, got '${w}' in '${spec}'`);
    return n;
  });
}

/** The task the options name (borrows the seed for the user data's split). */
export function taskOf(
  options: Record<string, string | boolean | undefined>,
  overrides: TaskOverrides,
  seed: number,
): Task {
  const data = options.data === undefined ? undefined : String(options.data);
  for (const k of ['labels', 'label-column', 'test-fraction', 'model'])
    if (options[k] !== undefined && data === undefined) throw new UsageError(`--${k} goes with --data`);
  if (data === undefined) return loadTask(String(options.task ?? 'mnist-mlp'), overrides);
  if (options.task !== undefined) throw new UsageError('--task and --data exclude each other');
  const testFraction = options['test-fraction'] === undefined ? undefined : Number(options['test-fraction']);
  if (testFraction !== undefined && !(testFraction > 0 && testFraction < 1))
    throw new UsageError(`--test-fraction must be between 0 and 1, got '${options['test-fraction']}'`);
  const dataset = datasetFromFile(data, {
    labels: options.labels === undefined ? undefined : String(options.labels),
    labelColumn: options['label-column'] === undefined ? undefined : String(options['label-column']),
    testFraction,
    seed,
    name: basename(data),
  });
  return mlpTask(dataset, {
    hidden: options.model === undefined ? undefined : parseModel(String(options.model)),
  });
}
