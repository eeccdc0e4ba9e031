/**
 * bench/wgsl — riesz's fused WGSL kernels (src/backend/wgsl) against the jax-js operations they
 * replace, on the WebGPU device, in the same run:
 *
 * 1. one dense layer's forward and backward (product, bias, activation; dZ = dY ⊙ f', dX, dW, db);
 * 2. K-FAC's factor statistic aᵀa;
 * 3. a whole MLP forward/backward with the true Fisher's taps (mlpLossAndGrads), fused on and off.
 *
 * It counts what each submits to the GPU — command buffers (queue.submit calls) and compute passes —
 * which does not depend on the machine, and times them (median of the repetitions, after a warm-up).
 * On SwiftShader (a CPU's software Vulkan) the times measure the CPU doing GPU work and mean nothing
 * for a GPU: only the counts carry over. Nothing here is asserted; the tests check correctness.
 *
 * usage: npx esbuild bench/wgsl.ts --bundle --platform=node --format=esm --outfile=build/bench/wgsl.mjs
 *        --external:@jax-js/jax --external:webgpu && node build/bench/wgsl.mjs [--small] [--reps N]
 *        [--dense B,in,out] [--no-mlp]
 * (SwiftShader: VK_ICD_FILENAMES=/usr/lib/chromium/vk_swiftshader_icd.json XDG_RUNTIME_DIR=/tmp.)
 * On a GPU machine without Node (../shared/GPU.md): bundle with jax-js inside, `npx esbuild bench/wgsl.ts
 * --bundle --platform=node --format=esm --external:webgpu --outfile=.gpubuild/wgsl.mjs
 * "--banner:js=import {createRequire as __cr} from 'module'; const require = __cr(import.meta.url);"`,
 * copy .gpukit/ and .gpubuild/ along, and run `source .gpukit/setup.sh; node .gpubuild/wgsl.mjs`.
 */
import { getWebGPUDevice, numpy as np, random } from '@jax-js/jax';
import { initDevice } from '../src/backend/device.js';
import { disposeTree, type Tensor } from '../src/backend/taps.js';
import { denseBackwardWgsl, denseForwardWgsl, gramWgsl, setFusedWgsl } from '../src/backend/wgsl/kernels.js';
import { activationBackward, activationForward, denseBackward, denseForward } from '../src/nn/layers.js';
import { sigmoidCrossEntropy } from '../src/nn/losses.js';
import { initMlp, type MlpSpec, mlpLossAndGrads } from '../src/nn/mlp.js';

const argv = process.argv.slice(2);
const small = argv.includes('--small');
const reps = Number(argv[argv.indexOf('--reps') + 1] ?? 0) || (small ? 5 : 20);

await initDevice('webgpu');
const device = getWebGPUDevice() as unknown as {
  queue: { submit(c: unknown[]): void };
  createCommandEncoder(): { beginComputePass(d?: unknown): unknown };
};
const counts = { submits: 0, passes: 0 };
{
  // Count command buffers and compute passes (this process only: a benchmark's instrumentation).
  const queue = device.queue;
  const submit = queue.submit.bind(queue);
  queue.submit = (c) => {
    counts.submits++;
    submit(c);
  };
  const create = device.createCommandEncoder.bind(device);
  device.createCommandEncoder = () => {
    const enc = create();
    const begin = enc.beginComputePass.bind(enc);
    enc.beginComputePass = (d?: unknown) => {
      counts.passes++;
      return begin(d);
    };
    return enc;
  };
}

interface Row {
  case: string;
  fused: { ms: number; submits: number; passes: number };
  jax: { ms: number; submits: number; passes: number };
}

/** Median time and per-call counts of `body`, which returns the arrays to wait for and free. */
async function measure(body: () => Tensor[]): Promise<{ ms: number; submits: number; passes: number }> {
  for (let w = 0; w < 2; w++) {
    const out = body();
    await Promise.all(out.map((o) => o.ref.blockUntilReady()));
    disposeTree(out);
  }
  const times: number[] = [];
  const before = { ...counts };
  for (let r = 0; r < reps; r++) {
    const t0 = performance.now();
    const out = body();
    await Promise.all(out.map((o) => o.ref.blockUntilReady()));
    times.push(performance.now() - t0);
    disposeTree(out);
  }
  times.sort((a, b) => a - b);
  return {
    ms: times[Math.floor(times.length / 2)],
    // blockUntilReady submits one empty read per output per call: counted on both sides alike.
    submits: (counts.submits - before.submits) / reps,
    passes: (counts.passes - before.passes) / reps,
  };
}

const rows: Row[] = [];
const denseArg = argv.includes('--dense') ? argv[argv.indexOf('--dense') + 1].split(',').map(Number) : null;
const [B, nIn, nOut] = denseArg ?? (small ? [32, 97, 45] : [1000, 784, 1000]);
const key = random.key(0);
const [k1, k2, k3, k4] = random.split(key, 4) as unknown as Tensor[];
const x = random.normal(k1, [B, nIn]);
const w = random.normal(k2, [nOut, nIn]).mul(1 / Math.sqrt(nIn));
const b = random.normal(k3, [nOut]).mul(0.1);
const dy = random.normal(k4, [B, nOut]);

rows.push({
  case: `dense forward+backward tanh ${B}×${nIn}→${nOut}`,
  fused: await measure(() => {
    const y = denseForwardWgsl(x, w, b, 'tanh');
    const g = denseBackwardWgsl(x, w, y, dy, 'tanh', { tapScale: B });
    return [y, g.g, g.dx!, g.dw!, g.db!];
  }),
  jax: await measure(() => {
    const { y: s, cache } = denseForward({ w, b }, x.ref);
    const { y, cache: act } = activationForward('tanh', s);
    const ds = activationBackward('tanh', act, dy.ref);
    const r = denseBackward({ w, b }, cache, ds);
    r.tap.a.dispose(); // x itself: nothing to wait for
    return [y, r.tap.g, r.dx!, r.dw, r.db!];
  }),
});
rows.push({
  case: `factor statistic aᵀa ${B}×${nIn}`,
  fused: await measure(() => [gramWgsl(x)]),
  jax: await measure(() => [np.matmul(x.ref.transpose(), x.ref)]),
});

if (!argv.includes('--no-mlp')) {
  const spec: MlpSpec = small
    ? { sizes: [64, 48, 32, 16, 8, 16, 32, 48, 64], activation: 'tanh', output: 'identity' }
    : { sizes: [784, 1000, 500, 250, 30, 250, 500, 1000, 784], activation: 'tanh', output: 'identity' };
  const mlpBatch = small ? 32 : 1000;
  const params = initMlp(spec, 0);
  const xs = random.uniform(random.key(1), [mlpBatch, spec.sizes[0]]);
  const mlpStep = () => {
    const r = mlpLossAndGrads(params, xs.ref, xs.ref, spec, sigmoidCrossEntropy, {
      fisher: 'true',
      key: random.key(2),
    });
    const taps = Object.values(r.taps ?? {}).flatMap((t) => ('a' in t ? [t.a, t.g] : []));
    return [r.loss, ...Object.values(r.grads), ...taps, ...(r.sse ? [r.sse] : [])];
  };
  const mlpName = `MLP ${spec.sizes.join('-')} (tanh) batch ${mlpBatch}, loss+grads+true-Fisher taps`;
  setFusedWgsl(true);
  const fusedMlp = await measure(mlpStep);
  setFusedWgsl(false);
  const jaxMlp = await measure(mlpStep);
  setFusedWgsl(true);
  rows.push({ case: mlpName, fused: fusedMlp, jax: jaxMlp });
  disposeTree([params, xs]);
}

const adapter = (getWebGPUDevice() as unknown as { adapterInfo?: { vendor?: string; architecture?: string } })
  .adapterInfo;
console.log(`adapter: ${adapter?.vendor ?? '?'} ${adapter?.architecture ?? ''}; ${reps} repetitions, median`);
for (const r of rows) {
  console.log(
    `${r.case}\n  fused: ${r.fused.ms.toFixed(2)} ms, ${r.fused.submits} command buffers, ${r.fused.passes} passes` +
      `\n  jax-js: ${r.jax.ms.toFixed(2)} ms, ${r.jax.submits} command buffers, ${r.jax.passes} passes` +
      `\n  time fused/jax-js: ${(r.fused.ms / r.jax.ms).toFixed(2)}`,
  );
}
console.log(JSON.stringify({ small, reps, adapter, rows }));
disposeTree([x, w, b, dy]);
