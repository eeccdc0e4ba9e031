/**
 * TF.js peer for bench/train: the problem's MLP in TensorFlow.js 4.22 on its WebAssembly backend
 * (`@tensorflow/tfjs-backend-wasm`, XNNPACK kernels), gradients by `tf.variableGrads`, TF.js's own
 * Adam (`tf.train.adam`, ε = 1e-8 as in riesz) with l2·θ added to the gradient. The backend's .wasm
 * files are loaded from its package folder in node_modules (set explicitly: a bundled script cannot
 * find them by itself). TF.js turns SIMD on where the runtime validates it (Node 20 does). Its
 * threaded build stays off in Node: the flag WASM_HAS_MULTITHREAD_SUPPORT is false there, and forcing
 * it on fails at start-up (the build starts its pthreads from a `blob:` URL, which Node's
 * worker_threads refuse: ERR_WORKER_PATH), so this peer runs on one thread.
 */
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import type * as tfType from '@tensorflow/tfjs-core';
import { checkProblem, type PeerActivation, type PeerProblem, type PeerResult } from './problem.js';

type Tf = typeof tfType;

let loaded: Promise<{ tf: Tf; setup: string }> | null = null;

/** Loads TF.js and starts its wasm backend once per process. */
export function loadTfjsWasm(): Promise<{ tf: Tf; setup: string }> {
  loaded ??= (async () => {
    const tf = (await import('@tensorflow/tfjs-core')) as Tf;
    // tfjs-core alone registers no gradient (the union package `@tensorflow/tfjs` would).
    await import('@tensorflow/tfjs-core/dist/register_all_gradients.js');
    const wasm = await import('@tensorflow/tfjs-backend-wasm');
    const require = createRequire(import.meta.url);
    const dist = dirname(require.resolve('@tensorflow/tfjs-backend-wasm'));
    wasm.setWasmPaths(`${join(dist, '/')}`);
    if (!(await tf.setBackend('wasm'))) throw new Error('TF.js: the wasm backend did not start');
    await tf.ready();
    const simd = await tf.env().getAsync('WASM_HAS_SIMD_SUPPORT');
    const setup = `TF.js ${tf.version_core} wasm, SIMD ${simd ? 'on' : 'off'}, ${wasm.getThreadsCount()} thread(s)`;
    return { tf, setup };
  })();
  return loaded;
}

function activate(tf: Tf, kind: PeerActivation, z: tfType.Tensor): tfType.Tensor {
  if (kind === 'tanh') return tf.tanh(z);
  if (kind === 'sigmoid') return tf.sigmoid(z);
  return z;
}

/**
 * Runs `warmup` untimed steps then `steps` timed ones of Adam on the problem's batch (two at least).
 * Returns the losses at the initial weights and after one step, and the step times.
 */
export async function runTfjsPeer(problem: PeerProblem, steps: number, warmup = 1): Promise<PeerResult> {
  checkProblem(problem);
  const { tf, setup } = await loadTfjsWasm();
  const L = problem.weights.length;
  const w = problem.weights.map((a, i) =>
    tf.variable(tf.tensor2d(a, [problem.sizes[i + 1], problem.sizes[i]])),
  );
  const b = problem.biases.map((a) => tf.variable(tf.tensor1d(a)));
  const vars = [...w, ...b];
  const x = tf.tensor2d(problem.x, [problem.batch, problem.sizes[0]]);
  const lossFn = () =>
    tf.tidy(() => {
      let h: tfType.Tensor = x;
      for (let i = 0; i < L; i++)
        h = activate(tf, problem.activations[i], tf.add(tf.matMul(h, w[i], false, true), b[i]));
      return tf.mean(tf.sum(tf.sub(tf.softplus(h), tf.mul(x, h)), -1)) as tfType.Scalar;
    });
  const opt = tf.train.adam(problem.lr, 0.9, 0.999, 1e-8);
  const step = (): number => {
    const { value, grads } = tf.variableGrads(lossFn, vars);
    const withL2 = vars.map((v) => ({
      name: v.name,
      tensor: problem.l2 > 0 ? tf.add(grads[v.name], tf.mul(v, problem.l2)) : grads[v.name],
    }));
    opt.applyGradients(withL2);
    const l = value.dataSync()[0];
    w[0].dataSync(); // wait for the update too
    tf.dispose([value, grads, ...withL2.map((g) => g.tensor)]);
    return l;
  };
  const stepS: number[] = [];
  let loss0 = Number.NaN;
  let loss1 = Number.NaN;
  const total = Math.max(warmup + steps, 2);
  for (let t = 1; t <= total; t++) {
    const t0 = performance.now();
    const l = step();
    if (t > total - steps) stepS.push((performance.now() - t0) / 1000);
    if (t === 1) loss0 = l;
    if (t === 2) loss1 = l;
  }
  tf.dispose([...vars, x]);
  opt.dispose();
  return { loss0, loss1, stepS, setup };
}
