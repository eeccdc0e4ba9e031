/**
 * bench/kfac-cost — what one K-FAC step costs against Adam's on the same task, in one run: the task's
 * K-FAC (the 2-D quadratic model, inverses every 5 steps after a 5-step burn-in) on the whole batch
 * and with its curvature (sampled-target statistics, Fisher products) on a subset of the batch
 * (`curvatureBatch`), and Adam. Per step: wall time and the process's CPU time (all threads; the
 * figure to read on a shared machine), over the same steps for each (after the burn-in; for K-FAC
 * they include two inverse refreshes, so the inverses are amortised). Prints the ratios to Adam.
 *
 * usage: npx esbuild bench/kfac-cost.ts --bundle --platform=node --format=esm
 *          --outfile=build/bench/kfac-cost.mjs --external:@jax-js/jax --external:webgpu
 *        node build/bench/kfac-cost.mjs [--task mnist-autoencoder] [--steps 10] [--subsets 250,500]
 */
import { initDevice } from '../src/backend/device.js';
import { enableThreads } from '../src/backend/threads.js';
import { epochBatches } from '../src/data/dataset.js';
import { wasmStatus } from '../src/linalg/wasm/runtime.js';
import { disposeTree } from '../src/optim/base.js';
import { eagerLossAndGrads } from '../src/train/jit-step.js';
import { buildOptimizer, type TaskKfacOptions } from '../src/train/optimizers.js';
import { type StepSettings, trainingStep } from '../src/train/step.js';
import { loadTask } from '../src/train/tasks.js';

function arg(name: string, fallback: string): string {
  const i = process.argv.indexOf(`--${name}`);
  return i >= 0 ? process.argv[i + 1] : fallback;
}
const task = loadTask(arg('task', 'mnist-autoencoder'));
const steps = Number(arg('steps', '10'));
const subsets = arg('subsets', '250')
  .split(',')
  .filter((s) => s !== '')
  .map(Number);

await initDevice('wasm');
enableThreads(2);

const cpuMs = () => {
  const c = process.cpuUsage();
  return (c.user + c.system) / 1000;
};

/** Mean wall and CPU seconds per step over steps skip+1 … skip+n, and the loss after them. */
async function timeSteps(optimizer: string, kfac: TaskKfacOptions | undefined, skip: number) {
  let params = task.model.init(0);
  const l2 = task.l2 ?? 0;
  const built = buildOptimizer(optimizer, task.lr[optimizer], params, task.model.head, {
    klClip: task.klClip,
    kfac,
    l2,
  });
  const settings: StepSettings = {
    l2,
    seed: 0,
    lossAndGrads: eagerLossAndGrads(task.model, task.loss, built.fisher),
    predict: (p, x) => task.model.predict(p, x),
  };
  let state = built.opt.init(params);
  let [wall, cpu, loss] = [0, 0, Number.NaN];
  let i = 0;
  for (const b of epochBatches(task.train, task.batch, 0, 0)) {
    if (i > skip + steps) break;
    const [w0, c0] = [performance.now(), cpuMs()];
    const r = await trainingStep(task, built, settings, params, state, b, i);
    params = r.params;
    state = r.state;
    params[Object.keys(params)[0]].ref.dataSync(); // wait for the step to finish
    if (i > skip) {
      wall += (performance.now() - w0) / 1000;
      cpu += (cpuMs() - c0) / 1000;
    }
    loss = r.loss;
    i++;
  }
  disposeTree(params);
  disposeTree(state);
  return { wall: wall / steps, cpu: cpu / steps, loss };
}

const skip = task.kfac?.inverseWarmup ?? 0;
console.log(
  `bench/kfac-cost — ${task.name}, batch ${task.batch}, 2 threads, GEMM ${wasmStatus().fma ? 'relaxed-SIMD FMA' : 'plain SIMD'}; mean of ${steps} steps after ${skip}\n`,
);
const adam = await timeSteps('adam', undefined, skip);
const row = (what: string, t: { wall: number; cpu: number; loss: number }) =>
  console.log(
    `  ${what.padEnd(34)} wall ${t.wall.toFixed(3)} s (${(t.wall / adam.wall).toFixed(2)}× Adam)   cpu ${t.cpu.toFixed(3)} s (${(t.cpu / adam.cpu).toFixed(2)}× Adam)   loss at step ${skip + steps} ${t.loss.toFixed(2)}`,
  );
row('Adam', adam);
row('K-FAC, curvature on the batch', await timeSteps('kfac', task.kfac, skip));
for (const s of subsets)
  row(`K-FAC, curvatureBatch ${s}`, await timeSteps('kfac', { ...task.kfac, curvatureBatch: s }, skip));
