/**
 * bench/gpu — riesz on WebGPU against PyTorch on the same machine, in one command (../shared/GPU.md):
 *
 * 1. the training step of the MNIST deep autoencoder 784-1000-500-250-30 mirrored (tanh, linear code,
 *    sigmoid cross-entropy; random [0, 1] images, so no data set is needed) at batch 1000 and 8192,
 *    with Adam, K-FAC (the task's settings: 2-D quadratic model, Levenberg–Marquardt damping,
 *    inverses every 5 steps — on WebGPU by Newton–Schulz on the device) and Muon;
 * 2. K-FAC's and Muon's hot operations: factor statistics aᵀa/B, the Newton–Schulz polar factor,
 *    the Newton–Schulz inverse (10 steps), the preconditioning Γ⁻¹GĀ⁻¹;
 * 3. the square matrix product through riesz's layer product (nn/matmul.ts) at N = 1024…8192.
 *
 * The peer, bench/peers/gpu_torch.py, runs the same in PyTorch eager f32 (CUDA with TF32 off; else
 * the CPU, with a note) in the same run; ratios are riesz / PyTorch times (below 1: riesz faster).
 * Without python3 + torch (python3, else /usr/bin/python3; RIESZ_PYTHON chooses) the peer is skipped and said so. Results go to stdout and to JSON.
 *
 * On a GPU machine (no Node there): `npm run bench:gpu -- --bundle` (from the project root) writes
 * .gpubuild/gpu.mjs; copy
 * .gpukit/ (bash ../shared/gpu/make-kit.sh) and .gpubuild/ along, and run
 * `source .gpukit/setup.sh; node .gpubuild/gpu.mjs`. On a CPU machine, SwiftShader gives an adapter:
 * `npm run bench:gpu -- --small` (VK_ICD_FILENAMES=/usr/lib/chromium/vk_swiftshader_icd.json
 * XDG_RUNTIME_DIR=/tmp; small sizes; timings there mean nothing, only that it runs end to end).
 *
 * usage: npm run bench:gpu [-- --small] [-- --steps N] [-- --json FILE] [-- --no-peer] [-- --bundle]
 */
import { execFileSync, spawnSync } from 'node:child_process';
import { copyFileSync, existsSync, mkdirSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { blockUntilReady, numpy as np, random } from '@jax-js/jax';
import { initDevice } from '../src/backend/device.js';
import { readScalar } from '../src/backend/read.js';
import type { Dataset } from '../src/data/dataset.js';
import { epochBatches } from '../src/data/dataset.js';
import { sigmoidCrossEntropy } from '../src/nn/losses.js';
import { mm } from '../src/nn/matmul.js';
import { mlpModel } from '../src/nn/model.js';
import { disposeTree } from '../src/optim/base.js';
import { inverseNewtonSchulz, polarNewtonSchulz } from '../src/optim/matrix-functions.js';
import type { Tensor } from '../src/optim/types.js';
import { eagerLossAndGrads } from '../src/train/jit-step.js';
import { buildOptimizer } from '../src/train/optimizers.js';
import { type StepSettings, trainingStep } from '../src/train/step.js';
import type { Task } from '../src/train/tasks.js';

const argv = process.argv.slice(2);
const flag = (f: string) => argv.includes(f);
const value = (f: string) => (argv.indexOf(f) >= 0 ? argv[argv.indexOf(f) + 1] : undefined);
const here = dirname(fileURLToPath(import.meta.url));

if (flag('--bundle')) {
  // One ESM file for a machine without Node's packages (GPU.md, step 2); webgpu stays external.
  mkdirSync('.gpubuild', { recursive: true });
  execFileSync(
    'npx',
    [
      'esbuild',
      'bench/gpu.ts',
      '--bundle',
      '--platform=node',
      '--format=esm',
      '--external:webgpu',
      '--outfile=.gpubuild/gpu.mjs',
      "--banner:js=import {createRequire as __cr} from 'module'; const require = __cr(import.meta.url);",
    ],
    { stdio: 'inherit' },
  );
  // The peer goes along beside the bundle.
  copyFileSync('bench/peers/gpu_torch.py', '.gpubuild/gpu_torch.py');
  console.log(
    'bundled: .gpubuild/gpu.mjs (+ gpu_torch.py); run: source .gpukit/setup.sh; node .gpubuild/gpu.mjs',
  );
  process.exit(0);
}

const small = flag('--small');
const steps = Number(value('--steps') ?? (small ? 2 : 10));
const batches = small ? [16, 32] : [1000, 8192];
const sizes = small ? [128, 256] : [1024, 2048, 4096, 8192];
const hotBatch = small ? 64 : 1000;
// --small: a narrower autoencoder (SwiftShader takes minutes per step at full width) and hot
// operations at n = 128; the full run uses the real widths and n = 1000.
const NET = small ? [64, 48, 32, 16, 8, 16, 32, 48, 64] : [784, 1000, 500, 250, 30, 250, 500, 1000, 784];
const HOT = small ? 128 : 1000;
const IN = NET[0];
const jsonOut = value('--json') ?? (small ? '.gpubuild/gpu-small.json' : '.gpubuild/gpu.json');
const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)];

if (!process.env.VK_ICD_FILENAMES && small && existsSync('/usr/lib/chromium/vk_swiftshader_icd.json'))
  process.env.VK_ICD_FILENAMES = '/usr/lib/chromium/vk_swiftshader_icd.json';
process.env.XDG_RUNTIME_DIR ??= '/tmp';
await initDevice('webgpu');

// ── 1. the autoencoder step ──────────────────────────────────────────────────────────────────────
function autoencoder(batch: number): Task {
  const n = batch * (steps + 2);
  const x = new Float32Array(n * IN);
  for (let i = 0; i < x.length; i++) x[i] = ((i * 2654435761) % 1000) / 1000; // fixed "images" in [0, 1)
  const data: Dataset = { n, x, xDim: IN, y: x, yDim: IN };
  return {
    name: `autoencoder ${NET.join('-')} (random images)`,
    description: 'bench/gpu',
    model: mlpModel({
      sizes: NET,
      activations: ['tanh', 'tanh', 'tanh', 'identity', 'tanh', 'tanh', 'tanh'],
      init: 'glorot-uniform',
    }),
    loss: sigmoidCrossEntropy,
    classifier: false,
    train: data,
    test: data,
    batch,
    epochs: 1,
    l2: 1e-5,
    kfac: { damping: 150, adaptDamping: true, rule: 'momentum', inverseEvery: 5, inverseWarmup: 5 },
    lr: { adam: 2e-3, kfac: 2, muon: 0.04 },
  };
}

/** Median ms of `steps` steps after warm-up ones (K-FAC: past its 5-step burn-in of inverses). */
async function stepMs(optimizer: string, batch: number): Promise<number> {
  const task = autoencoder(batch);
  let params = task.model.init(0);
  const built = buildOptimizer(optimizer, task.lr[optimizer], params, task.model.head, {
    kfac: task.kfac,
    l2: task.l2,
  });
  const settings: StepSettings = {
    l2: task.l2 ?? 0,
    seed: 0,
    lossAndGrads: eagerLossAndGrads(task.model, task.loss, built.fisher),
    predict: (p, x) => task.model.predict(p, x),
  };
  let state = built.opt.init(params);
  const warm = optimizer === 'kfac' ? (small ? 1 : 5) : 1;
  const times: number[] = [];
  let i = 0;
  for (const b of epochBatches(task.train, batch, 0, 0)) {
    if (i >= warm + steps) break;
    const t = performance.now();
    const r = await trainingStep(task, built, settings, params, state, b, i);
    params = r.params;
    state = r.state;
    await blockUntilReady(params);
    if (i >= warm) times.push(performance.now() - t);
    i++;
  }
  disposeTree(params);
  disposeTree(state);
  return median(times);
}

// ── 2. hot operations ────────────────────────────────────────────────────────────────────────────
async function timed(make: () => Tensor | Promise<Tensor>): Promise<number> {
  const once = async () => {
    const t = performance.now();
    await readScalar(np.sum(await make()));
    return performance.now() - t;
  };
  await once();
  const ts: number[] = [];
  for (let k = 0; k < steps; k++) ts.push(await once());
  return median(ts);
}

async function hotMs(): Promise<Record<string, number>> {
  const key = random.key(0);
  const [k1, k2, k3] = random.split(key, 3) as unknown as Tensor[];
  const a = random.uniform(k1, [hotBatch, HOT + 1]);
  const G = random.normal(k2, [HOT, HOT + 1]);
  const W = random.normal(k3, [HOT, Math.round(HOT * 0.784)]);
  const A = np
    .matmul(a.ref.transpose(), a.ref)
    .div(hotBatch)
    .add(np.eye(HOT + 1).mul(0.1));
  const Ainv = np.linalg.inv(A.ref);
  const Ginv = np.linalg.inv(
    np
      .matmul(G.ref, G.ref.transpose())
      .div(HOT + 1)
      .add(np.eye(HOT).mul(0.1)),
  );
  const out = {
    factor_statistics: await timed(() => np.matmul(a.ref.transpose(), a.ref).div(hotBatch)),
    newton_schulz_polar: await timed(() => polarNewtonSchulz(W.ref, 5)),
    newton_schulz_inverse_10: await timed(() => inverseNewtonSchulz(A.ref, { iterations: 10, tol: 0 })),
    precondition: await timed(() => np.matmul(np.matmul(Ginv.ref, G.ref), Ainv.ref)),
  };
  disposeTree([a, G, W, A, Ainv, Ginv]);
  return out;
}

// ── 3. the matrix product ────────────────────────────────────────────────────────────────────────
async function matmulMs(): Promise<Record<string, { ms: number; tflops: number }>> {
  const out: Record<string, { ms: number; tflops: number }> = {};
  for (const n of sizes) {
    const a = random.normal(random.key(1), [n, n]);
    const b = random.normal(random.key(2), [n, n]);
    const ms = await timed(() => mm(a.ref, b.ref));
    out[n] = { ms, tflops: (2 * n ** 3) / (ms / 1000) / 1e12 };
    a.dispose();
    b.dispose();
  }
  return out;
}

// ── the peer ─────────────────────────────────────────────────────────────────────────────────────
interface Peer {
  device: string;
  note: string;
  step_ms: Record<string, Record<string, number>>;
  hot_ms: Record<string, number>;
  matmul: Record<string, { ms: number; tflops: number }>;
}

function peer(): Peer | string {
  if (flag('--no-peer')) return 'skipped (--no-peer)';
  const script = [
    join(here, 'peers/gpu_torch.py'),
    join(here, 'gpu_torch.py'),
    'bench/peers/gpu_torch.py',
  ].find(existsSync);
  if (!script) return 'bench/peers/gpu_torch.py not found';
  const arg = JSON.stringify({ batches, steps, sizes, net: NET, hot: { batch: hotBatch, n: HOT } });
  // The GPU machine's python3 has torch (GPU.md); on Debian without a GPU it is /usr/bin/python3's
  // python3-torch, which a pyenv python3 earlier on the PATH hides. RIESZ_PYTHON chooses one.
  const pythons = process.env.RIESZ_PYTHON ? [process.env.RIESZ_PYTHON] : ['python3', '/usr/bin/python3'];
  let why = '';
  for (const python of pythons) {
    const r = spawnSync(python, [script, arg], { encoding: 'utf8' });
    if (r.status === 0) return JSON.parse(r.stdout.trim().split('\n').pop()!) as Peer;
    why = `${python}: ${(r.stderr || String(r.error)).trim().split('\n').pop()}`;
  }
  return `the PyTorch peer did not run (${why})`;
}

const result: Record<string, unknown> = {
  small,
  steps,
  batches,
  sizes,
  net: NET,
  hot: { batch: hotBatch, n: HOT },
};
const steps_ms: Record<string, Record<string, number>> = {};
for (const opt of ['adam', 'kfac', 'muon']) {
  steps_ms[opt] = {};
  for (const b of batches) {
    steps_ms[opt][b] = await stepMs(opt, b);
    console.log(
      `riesz ${opt.padEnd(5)} batch ${String(b).padStart(5)}: ${steps_ms[opt][b].toFixed(2)} ms/step`,
    );
  }
}
const hot = await hotMs();
for (const [k, v] of Object.entries(hot)) console.log(`riesz ${k.padEnd(26)} ${v.toFixed(2)} ms`);
const mat = await matmulMs();
for (const [n, v] of Object.entries(mat))
  console.log(`riesz matmul N=${n.padStart(5)}: ${v.ms.toFixed(2)} ms, ${v.tflops.toFixed(3)} TFLOP/s`);
Object.assign(result, { riesz: { step_ms: steps_ms, hot_ms: hot, matmul: mat } });

const p = peer();
if (typeof p === 'string') {
  console.log(`peer: ${p}; no ratios`);
  result.peer = { skipped: p };
} else {
  console.log(`peer: PyTorch on ${p.device} (${p.note})`);
  const ratios: Record<string, number> = {};
  for (const opt of ['adam', 'muon'])
    for (const b of batches) ratios[`${opt}_step_b${b}`] = steps_ms[opt][b] / p.step_ms[opt][b];
  // K-FAC against PyTorch's Adam step (the target: K-FAC ≤ 1.5× the Adam step), and against riesz's own.
  for (const b of batches) {
    ratios[`kfac_step_b${b}_vs_torch_adam`] = steps_ms.kfac[b] / p.step_ms.adam[b];
    ratios[`kfac_step_b${b}_vs_riesz_adam`] = steps_ms.kfac[b] / steps_ms.adam[b];
  }
  for (const k of Object.keys(hot)) ratios[k] = hot[k] / p.hot_ms[k];
  for (const n of sizes) ratios[`matmul_${n}`] = mat[n].ms / p.matmul[n].ms;
  for (const [k, v] of Object.entries(ratios))
    console.log(`ratio riesz/torch ${k.padEnd(34)} ${v.toFixed(2)}`);
  result.peer = p;
  result.ratios = ratios;
}
mkdirSync(dirname(jsonOut), { recursive: true });
writeFileSync(jsonOut, `${JSON.stringify(result, null, 2)}\n`);
console.log(`wrote ${jsonOut}`);
process.exit(0);
