/**
 * The MLP's layer API on WebGPU with riesz's fused WGSL kernels (src/backend/wgsl) gives what the
 * jax-js operations give on the same device: the loss, the gradients, K-FAC's taps (true Fisher,
 * sampled targets) and the kept forward pass's tangents, to f32 tolerance. Skips, saying why, where
 * no WebGPU adapter exists (SwiftShader: see docs/gpu.md). Small sizes: SwiftShader is slow.
 */
import { numpy as np, random } from '@jax-js/jax';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { initDevice } from '../src/backend/device.js';
import type { CurvatureTap, Tensor } from '../src/backend/taps.js';
import { wgslSupport } from '../src/backend/wgsl/interop.js';
import { fusedWgslReady, setFusedWgsl } from '../src/backend/wgsl/kernels.js';
import { Rng } from '../src/linalg/random.js';
import { disposeTaps } from '../src/nn/fisher.js';
import { type Loss, sigmoidCrossEntropy, softmaxCrossEntropy } from '../src/nn/losses.js';
import { initMlp, type MlpSpec, mlpForward, mlpLossAndGrads } from '../src/nn/mlp.js';
import { deviceKronecker, type KroneckerLayout } from '../src/optim/kfac-blocks.js';
import { startWebgpu } from './webgpu-setup.js';

let why: string | null = null;
beforeAll(async () => {
  why = await startWebgpu();
  if (why) console.warn(`fused WGSL MLP tests skipped: no WebGPU adapter: ${why}`);
}, 120_000);
afterAll(async () => {
  setFusedWgsl(false);
  await initDevice('wasm');
});

interface Run {
  loss: number;
  grads: Record<string, Float32Array>;
  taps: Record<string, { a: Float32Array; g: Float32Array }>;
  tangent: Float32Array;
}

/** One mlpLossAndGrads with the true Fisher's taps and the kept forward pass, read back. */
async function run(spec: MlpSpec, loss: Loss, x: Float32Array, t: Tensor, fused: boolean): Promise<Run> {
  setFusedWgsl(fused);
  const params = initMlp(spec, 3);
  const B = x.length / spec.sizes[0];
  const r = mlpLossAndGrads(params, np.array(x).reshape([B, spec.sizes[0]]), t.ref, spec, loss, {
    fisher: 'true',
    key: random.key(5),
    keepForward: true,
  });
  const grads: Record<string, Float32Array> = {};
  for (const [k, g] of Object.entries(r.grads)) grads[k] = (await g.data()) as Float32Array;
  const taps: Run['taps'] = {};
  for (const [k, tap] of Object.entries(r.taps ?? {})) {
    const c = tap as CurvatureTap;
    taps[k] = { a: (await c.a.ref.data()) as Float32Array, g: (await c.g.ref.data()) as Float32Array };
  }
  disposeTaps(r.taps ?? {});
  const [tangent] = r.forward!.tangents([params]);
  const out = {
    loss: ((await r.loss.data()) as Float32Array)[0],
    grads,
    taps,
    tangent: (await tangent.data()) as Float32Array,
  };
  r.forward!.dispose();
  r.sse?.dispose();
  for (const p of Object.values(params)) p.dispose();
  setFusedWgsl(false);
  return out;
}

function expectClose(got: Float32Array, want: Float32Array, tol: number, what: string) {
  expect(got.length, what).toBe(want.length);
  let scale = 0;
  let worst = 0;
  for (let i = 0; i < want.length; i++) {
    scale = Math.max(scale, Math.abs(want[i]));
    worst = Math.max(worst, Math.abs(got[i] - want[i]));
  }
  expect(worst, `${what}: max error ${worst} at scale ${scale}`).toBeLessThanOrEqual(tol * (1 + scale));
}

function compare(fused: Run, plain: Run, what: string) {
  expect(Math.abs(fused.loss - plain.loss), `${what}: loss`).toBeLessThanOrEqual(
    1e-5 * (1 + Math.abs(plain.loss)),
  );
  expect(Object.keys(fused.grads).sort()).toEqual(Object.keys(plain.grads).sort());
  for (const k of Object.keys(plain.grads))
    expectClose(fused.grads[k], plain.grads[k], 1e-4, `${what}: grad ${k}`);
  expect(Object.keys(fused.taps).sort()).toEqual(Object.keys(plain.taps).sort());
  for (const k of Object.keys(plain.taps)) {
    expectClose(fused.taps[k].a, plain.taps[k].a, 1e-4, `${what}: tap ${k}.a`);
    expectClose(fused.taps[k].g, plain.taps[k].g, 1e-4, `${what}: tap ${k}.g`);
  }
  expectClose(fused.tangent, plain.tangent, 1e-4, `${what}: tangent`);
}

const CASES: { name: string; spec: MlpSpec; loss: Loss; classes: number }[] = [
  { name: 'relu 29-13-7, softmax', spec: { sizes: [29, 13, 7] }, loss: softmaxCrossEntropy, classes: 7 },
  {
    name: 'tanh/identity/sigmoid 13-9-3-70-13, sigmoid cross-entropy',
    spec: { sizes: [13, 9, 3, 70, 13], activations: ['tanh', 'identity', 'sigmoid'], init: 'glorot-uniform' },
    loss: sigmoidCrossEntropy,
    classes: 0,
  },
];

for (const c of CASES) {
  it(`MLP ${c.name}: fused WGSL kernels match the jax-js operations on WebGPU (loss, grads, true-Fisher taps, tangents)`, async () => {
    if (why) {
      console.warn(`skipped: ${why}`);
      return;
    }
    const rng = new Rng(17);
    const B = 11;
    const nIn = c.spec.sizes[0];
    const x = Float32Array.from({ length: B * nIn }, () => rng.normal());
    const t =
      c.classes > 0
        ? np.array(Int32Array.from({ length: B }, () => Math.floor(rng.uniform() * c.classes)))
        : np
            .array(Float32Array.from({ length: B * nIn }, () => (rng.uniform() < 0.5 ? 0 : 1)))
            .reshape([B, nIn]);
    const fused = await run(c.spec, c.loss, x, t, true);
    const plain = await run(c.spec, c.loss, x, t, false);
    t.dispose();
    compare(fused, plain, c.name);
  }, 120_000);
}

it('mlpForward on WebGPU takes the fused path (the relu cache is the output) and the switch turns it off', async () => {
  if (why) {
    console.warn(`skipped: ${why}`);
    return;
  }
  const spec: MlpSpec = { sizes: [5, 4, 3] };
  const params = initMlp(spec, 1);
  const x = random.normal(random.key(2), [6, 5]);
  for (const on of [true, false]) {
    setFusedWgsl(on);
    const { out, caches } = mlpForward(params, x.ref, spec);
    // The fused forward caches relu's output (≥ 0); the jax-js operations its input (of both signs).
    const cached = (await caches[0].act!.ref.data()) as Float32Array;
    expect(cached.every((v) => v >= 0)).toBe(on);
    out.dispose();
    for (const k of caches) {
      k.dense.dispose();
      k.act?.dispose();
    }
  }
  setFusedWgsl(false);
  x.dispose();
  for (const p of Object.values(params)) p.dispose();
});

it('a jax-js without Array.gpuBufferSync: the kernels stay off, saying why, and the MLP runs on jax-js', async () => {
  if (why) {
    console.warn(`skipped: ${why}`);
    return;
  }
  const proto = np.Array.prototype as unknown as Record<string, unknown>;
  const original = proto.gpuBufferSync;
  const spec: MlpSpec = { sizes: [5, 4, 3] };
  const params = initMlp(spec, 1);
  const x = random.normal(random.key(2), [6, 5]);
  try {
    setFusedWgsl(true); // switched on: the missing entry point alone keeps them off
    proto.gpuBufferSync = undefined;
    expect(wgslSupport()).toBe('this jax-js has no Array.gpuBufferSync()');
    expect(fusedWgslReady([x])).toBe(false);
    const { out, caches } = mlpForward(params, x.ref, spec);
    // jax-js's operations ran: relu's cache is its input, of both signs.
    const cached = (await caches[0].act!.ref.data()) as Float32Array;
    expect(cached.some((v) => v < 0)).toBe(true);
    out.dispose();
    for (const k of caches) {
      k.dense.dispose();
      k.act?.dispose();
    }
  } finally {
    proto.gpuBufferSync = original;
    setFusedWgsl(false);
  }
  expect(wgslSupport()).toBeNull();
  x.dispose();
  for (const p of Object.values(params)) p.dispose();
});

it("K-FAC's device factor statistics through the symmetric WGSL product equal jax-js's", async () => {
  if (why) {
    console.warn(`skipped: ${why}`);
    return;
  }
  const rng = new Rng(11);
  const sample = (rows: number, cols: number) =>
    np.array(Float32Array.from({ length: rows * cols }, () => rng.normal())).reshape([rows, cols]);
  const [a, g] = [sample(37, 13), sample(37, 9)];
  const layout: KroneckerLayout = { weight: 'fc0.w', bias: 'fc0.b', kind: 'dense', shape: [9, 13] };
  const factors = async (on: boolean) => {
    setFusedWgsl(on);
    // Two folds: the first step's factors, then the debiased average with the next.
    let s = deviceKronecker.accumulate(undefined, layout, { a: a.ref, g: g.ref }, () => 0.5);
    s = deviceKronecker.accumulate(s, layout, { a: a.ref.mul(0.5), g: g.ref.mul(2) }, () => 0.5);
    const out = { A: (await s.A.data()) as Float32Array, G: (await s.G.data()) as Float32Array };
    setFusedWgsl(false);
    return out;
  };
  const [fused, plain] = [await factors(true), await factors(false)];
  expectClose(fused.A, plain.A, 1e-5, 'Ā');
  expectClose(fused.G, plain.G, 1e-5, 'Γ');
  a.dispose();
  g.dispose();
});
