/**
 * Training tasks built from a user's data ({@link UserDataset}, src/data/user-data.ts) and from the
 * vendored UCI sets: an MLP sized to the data, softmax cross-entropy for classes or squared error
 * (on standardised targets) for regression, and per-optimizer learning rates for small tabular data.
 */
import { loadUciRaw, UCI_SETS, uciClassNames } from '../data/uci.js';
import { datasetFromArrays, type UserDataset } from '../data/user-data.js';
import { UsageError } from '../errors.js';
import type { Activation } from '../nn/layers.js';
import { softmaxCrossEntropy, squaredError } from '../nn/losses.js';
import { mlpModel } from '../nn/model.js';
import type { Task } from './tasks.js';

/** Options of {@link mlpTask}: the MLP's hidden widths and activation, the task's name, batch size
 * and epochs. */
export interface MlpTaskOptions {
  /** Hidden widths (default one layer of clamp(2·inputDim, 16, 256)); [] is a linear model. */
  hidden?: number[];
  /** Hidden activation (default relu). */
  activation?: Activation;
  /** Task name (default `user:<data name>`). */
  name?: string;
  /** Batch size (default a power of two near n_train/8, within 16..128 and at most n_train). */
  batch?: number;
  /** Epochs (default: enough for about 500 steps). */
  epochs?: number;
}

/** The default hidden width for `inputDim` inputs: 2·inputDim, kept within 16..256. */
export function defaultHiddenWidth(inputDim: number): number {
  return Math.min(256, Math.max(16, 2 * inputDim));
}

/** Steps the default epoch count aims at: enough for these small sets to converge with Adam. */
const TARGET_STEPS = 500;

/**
 * Learning rates for a small MLP on standardised tabular inputs: a few 200-step tries each on
 * uci-iris (adam also on uci-wine and uci-diabetes), the lowest training loss without a worse test
 * loss; the matrix methods take the hidden layers, AdamW the head and the biases.
 */
const TABULAR_LR: Record<string, number> = {
  sgd: 0.1,
  momentum: 0.05,
  adam: 1e-2,
  adamw: 1e-2,
  'frobenius-identity': 0.1,
  kfac: 0.1,
  shampoo: 1e-2,
  muon: 0.05,
  'muon-kfac': 0.05,
  pion: 0.1,
};

/**
 * A training task for a user's data set: MLP inputDim-hidden…-outputDim, softmax cross-entropy
 * (classification, `classifier: true`) or squared error on the standardised target (regression;
 * multiply a loss by `data.standardisation.targetStd²`, or call `lossInOriginalUnits`, for the
 * target's units).
 * @example
 * ```ts
 * import { datasetFromArrays, mlpTask, train } from 'riesz/node';
 * // Two interleaved half-moons, 200 points each: a task a linear model cannot solve.
 * const X = [];
 * const y = [];
 * for (let i = 0; i < 400; i++) {
 *   const t = (Math.PI * (i % 200)) / 199;
 *   const upper = i < 200;
 *   X.push(upper ? [Math.cos(t), Math.sin(t)] : [1 - Math.cos(t), 0.5 - Math.sin(t)]);
 *   y.push(upper ? 'upper' : 'lower');
 * }
 * const data = datasetFromArrays(X, y, { testFraction: 0.25, seed: 3 });
 * const task = mlpTask(data, { hidden: [32] }); // MLP 2-32-2, softmax cross-entropy
 * const summary = await train(task, { optimizer: 'adam', steps: 200 });
 * console.log(task.name, summary.test_accuracy); // user:arrays, close to 1
 * ```
 */
export function mlpTask(data: UserDataset, options: MlpTaskOptions = {}): Task {
  const hidden = options.hidden ?? [defaultHiddenWidth(data.inputDim)];
  for (const w of hidden) {
    if (!Number.isInteger(w) || w < 1)
      throw new UsageError(`hidden widths must be positive integers, got ${w}`);
  }
  const sizes = [data.inputDim, ...hidden, data.outputDim];
  const activation = options.activation ?? 'relu';
  const model = mlpModel({ sizes, activation, output: 'identity' });
  const nTrain = data.train.n;
  let batch =
    options.batch ?? Math.min(128, Math.max(16, 2 ** Math.floor(Math.log2(Math.max(1, nTrain / 8)))));
  // A batch larger than the training split would give epochs of no steps (the ragged tail is dropped).
  batch = Math.min(batch, nTrain);
  const stepsPerEpoch = Math.floor(nTrain / batch);
  const epochs = options.epochs ?? Math.max(1, Math.ceil(TARGET_STEPS / stepsPerEpoch));
  const classification = data.kind === 'classification';
  const what = classification
    ? `${data.outputDim} classes, softmax cross-entropy`
    : `regression, squared error on the standardised target${
        data.standardisation?.targetStd !== undefined
          ? ` (×${fmt(data.standardisation.targetStd ** 2)} for the original units)`
          : ''
      }`;
  const scaled = data.standardisation ? ', inputs standardised from the training split' : '';
  return {
    name: options.name ?? `user:${data.name}`,
    description: `${data.name}: ${data.train.n} + ${data.test.n} rows of ${data.inputDim} inputs, ${what}; MLP ${sizes.join('-')} (${activation})${scaled}`,
    model,
    loss: classification ? softmaxCrossEntropy : squaredError,
    classifier: classification,
    train: data.train,
    test: data.test,
    batch,
    epochs,
    klClip: 0.01,
    lr: { ...TABULAR_LR },
  };
}

function fmt(x: number): string {
  return Number(x.toPrecision(4)).toString();
}

/** The UCI tasks of {@link uciTask}. */
export const UCI_TASKS = UCI_SETS.map((s) => `uci-${s}` as const);
export type UciTaskName = (typeof UCI_TASKS)[number];

/**
 * A vendored UCI set (data/uci/) as a user data set: seeded 80/20 split, standardised inputs, class
 * names from the files; diabetes is regression (its integer targets are disease progression scores).
 * @example
 * ```ts
 * const iris = uciDataset('uci-iris'); // 120 + 30 rows, classes ['setosa', 'versicolor', 'virginica']
 * ```
 */
export function uciDataset(name: string, seed = 0): UserDataset {
  const set = name.replace(/^uci-/, '');
  if (!name.startsWith('uci-') || !(UCI_SETS as readonly string[]).includes(set)) {
    throw new UsageError(`unknown UCI task '${name}'; valid: ${UCI_TASKS.join(', ')}`);
  }
  const raw = loadUciRaw(set);
  const data = datasetFromArrays(raw.x, raw.y, {
    testFraction: 0.2,
    seed,
    kind: raw.classification ? 'classification' : 'regression',
    name,
  });
  const names = uciClassNames(set);
  // The files' labels are 0..K−1, so class index k is label k and sklearn's name k.
  if (data.classes && names?.length === data.classes.length) data.classes = names;
  return data;
}

/**
 * A task on a vendored UCI set: `uci-iris`, `uci-wine`, `uci-breast-cancer`, `uci-digits` (8×8
 * images as 64 inputs) or `uci-diabetes` (regression), an MLP sized to it by {@link mlpTask}.
 * @throws UsageError for another name, listing the valid ones.
 * @example
 * ```ts
 * const s = await train(uciTask('uci-iris'), { optimizer: 'adam', steps: 200 }); // ~97% test accuracy
 * ```
 */
export function uciTask(name: string, options: MlpTaskOptions & { seed?: number } = {}): Task {
  const { seed, ...rest } = options;
  return mlpTask(uciDataset(name, seed), { name, ...rest });
}
