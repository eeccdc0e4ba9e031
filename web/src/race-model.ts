/**
 * The race: several optimizers trained side by side on one task, one step each in turn, the page
 * yielding to the browser between rounds. It drives riesz's `trainingStep` (the training loop's
 * `train` waits on Node's setImmediate, which browsers lack) and awaits it, so that it works whether
 * a step returns its result or a promise of it.
 */
import type { Dataset } from '../../src/data/dataset.js';
import { scheduledBatches } from '../../src/data/dataset.js';
import { mlpModel, softmaxCrossEntropy } from '../../src/index.js';
import { disposeTree } from '../../src/optim/base.js';
import type { ParamDict } from '../../src/optim/types.js';
import { eagerLossAndGrads } from '../../src/train/jit-step.js';
import { evaluate } from '../../src/train/loop.js';
import { type BuiltOptimizer, buildOptimizer } from '../../src/train/optimizers.js';
import { type StepSettings, trainingStep } from '../../src/train/step.js';
import { loadTask, MNIST_MLP_LR, type Task } from '../../src/train/tasks.js';

/** Magic of the lab's MNIST subset file (web/scripts/mnist-subset.mjs). */
const MAGIC = 'RZMN';

/**
 * Parses the MNIST subset the build ships (build/web-public/mnist-subset.bin → dist/web): labels then
 * 28×28 pixel bytes, training digits first.
 * @throws Error when the bytes are not such a file.
 */
export function parseMnistSubset(bytes: ArrayBuffer): { train: Dataset; test: Dataset } {
  const view = new DataView(bytes);
  const magic = String.fromCharCode(...new Uint8Array(bytes, 0, Math.min(4, bytes.byteLength)));
  if (bytes.byteLength < 12 || magic !== MAGIC)
    throw new Error('mnist-subset.bin is not a riesz MNIST subset');
  const nTrain = view.getUint32(4, true);
  const nTest = view.getUint32(8, true);
  const total = nTrain + nTest;
  if (bytes.byteLength !== 12 + total * 785)
    throw new Error(`mnist-subset.bin has ${bytes.byteLength} bytes, expected ${12 + total * 785}`);
  const labels = new Uint8Array(bytes, 12, total);
  const pixels = new Uint8Array(bytes, 12 + total, total * 784);
  const split = (from: number, n: number): Dataset => {
    const x = new Float32Array(n * 784);
    for (let q = 0; q < x.length; q++) x[q] = pixels[from * 784 + q] / 255;
    return { n, x, xDim: 784, y: Int32Array.from(labels.subarray(from, from + n)), yDim: 1 };
  };
  return { train: split(0, nTrain), test: split(nTrain, nTest) };
}

/** The lab's MNIST task: the shipped subset, an MLP 784-64-10 (relu), batches of 64. */
export function mnistSubsetTask(data: { train: Dataset; test: Dataset }): Task {
  return {
    name: 'mnist-subset',
    description: 'MNIST subset (2000 training, 500 test digits), MLP 784-64-10 (relu), softmax cross-entropy',
    model: mlpModel({ sizes: [784, 64, 10], activation: 'relu' }),
    loss: softmaxCrossEntropy,
    classifier: true,
    train: data.train,
    test: data.test,
    batch: 64,
    epochs: 1,
    klClip: 0.01,
    // The rates of riesz's mnist-mlp task.
    lr: { ...MNIST_MLP_LR },
  };
}

/** The race's tasks: 'mnist' (needs the subset's bytes) or riesz's 'linreg-aniso'. */
export function raceTask(name: string, mnistBytes?: ArrayBuffer): Task {
  if (name === 'mnist') {
    if (!mnistBytes) throw new Error('the MNIST subset has not been loaded');
    return mnistSubsetTask(parseMnistSubset(mnistBytes));
  }
  return loadTask(name);
}

/** One point of a loss curve. */
export interface RacePoint {
  optimizer: string;
  step: number;
  loss: number;
  /** This optimizer's own compute time so far (its steps only), seconds. */
  wall_s: number;
  step_ms: number;
}

/** One optimizer in the race. */
export class Runner {
  readonly name: string;
  readonly lr: number;
  params: ParamDict;
  state: unknown;
  step = 0;
  wallMs = 0;
  stepTimes: number[] = [];
  lastLoss = Number.NaN;
  /** Why this runner stopped early (a non-finite loss), or null. */
  failed: string | null = null;
  testAccuracy: number | null = null;
  private built: BuiltOptimizer;
  private settings: StepSettings;
  private batches: Generator<{ x: Float32Array; y: Int32Array | Float32Array; size: number }>;

  constructor(
    readonly task: Task,
    name: string,
    seed = 0,
  ) {
    this.name = name;
    this.lr = task.lr[name] ?? 1e-3;
    this.params = task.model.init(seed);
    const l2 = task.l2 ?? 0;
    this.built = buildOptimizer(name, this.lr, this.params, task.model.head, {
      klClip: task.klClip,
      kfac: task.kfac,
      l2,
    });
    this.state = this.built.opt.init(this.params);
    this.settings = {
      l2,
      seed,
      lossAndGrads: eagerLossAndGrads(task.model, task.loss, this.built.fisher),
      predict: (p, x) => task.model.predict(p, x),
    };
    this.batches = scheduledBatches(task.train, () => task.batch, seed);
  }

  /** One training step; returns its point of the curve, or null when the loss was not finite. */
  async advance(): Promise<RacePoint | null> {
    const batch = this.batches.next().value!;
    const t0 = performance.now();
    const r = await trainingStep(
      this.task,
      this.built,
      this.settings,
      this.params,
      this.state,
      batch,
      this.step,
    );
    const ms = performance.now() - t0;
    if (!r.finite) {
      this.failed = `loss not finite at step ${this.step + 1}${r.nonFiniteGradient ? ` (gradient of ${r.nonFiniteGradient})` : ''}`;
      return null;
    }
    this.params = r.params;
    this.state = r.state;
    this.step++;
    this.wallMs += ms;
    this.stepTimes.push(ms);
    this.lastLoss = r.loss;
    return { optimizer: this.name, step: this.step, loss: r.loss, wall_s: this.wallMs / 1000, step_ms: ms };
  }

  /** Test-set loss and (classifiers) accuracy of the current parameters. */
  async evaluate(): Promise<{ loss: number; accuracy: number | null }> {
    const e = await evaluate(this.task, this.params);
    this.testAccuracy = e.accuracy;
    return e;
  }

  /** The median step time in ms. */
  medianStepMs(): number {
    if (this.stepTimes.length === 0) return Number.NaN;
    const s = [...this.stepTimes].sort((a, b) => a - b);
    return s[Math.floor(s.length / 2)];
  }

  /** Frees the parameters and optimizer state on the device. */
  dispose(): void {
    disposeTree(this.params);
    disposeTree(this.state);
  }
}
