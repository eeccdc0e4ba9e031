/**
 * The fused WGSL kernels against jax-js's own operations on the same WebGPU device, and both against
 * an f64 product on the host. Where no WebGPU adapter exists the device tests skip and say why (on a
 * machine without a GPU, Debian's chromium ships SwiftShader: see docs/gpu.md). The shapes are small
 * and odd (13×29, 65×70 crossing the 64-wide tile), since SwiftShader is slow.
 */
import { defaultDevice, numpy as np } from '@jax-js/jax';
import fc from 'fast-check';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { startWebgpu } from '../../../test/webgpu-setup.js';
import { ShapeError } from '../../errors.js';
import { Rng } from '../../linalg/random.js';
import { initDevice } from '../device.js';
import type { Tensor } from '../taps.js';
import { wgslSupport } from './interop.js';
import {
  denseBackwardWgsl,
  denseForwardWgsl,
  fusedWgslEnabled,
  fusedWgslReady,
  gramWgsl,
  setFusedWgsl,
  type WgslActivation,
} from './kernels.js';
import { denseBackwardReference, denseForwardReference, gramReference } from './reference.js';

const ACTS: WgslActivation[] = ['identity', 'relu', 'tanh', 'sigmoid'];

let why: string | null = null;
/** WebGPU errors no scope caught (jax-js logs them with console.error): an invalid pass is skipped. */
const uncaptured: string[] = [];
beforeAll(async () => {
  const log = console.error.bind(console);
  console.error = (...args: unknown[]) => {
    if (String(args[0]).includes('Uncaptured error')) uncaptured.push(args.map(String).join(' '));
    log(...args);
  };
  why = await startWebgpu();
  if (why) console.warn(`fused WGSL kernel tests skipped: no WebGPU adapter: ${why}`);
}, 120_000);
afterAll(async () => {
  await initDevice('wasm');
});

/** Runs the body only where WebGPU started (else the test passes after printing why it did not run). */
function onGpu(name: string, body: () => Promise<void>, timeout = 120_000) {
  it(
    name,
    async () => {
      if (why) {
        console.warn(`skipped '${name}': ${why}`);
        return;
      }
      await body();
    },
    timeout,
  );
}

function randomHost(rng: Rng, n: number, scale = 1): Float32Array {
  return Float32Array.from({ length: n }, () => scale * rng.normal());
}

function upload(data: Float32Array, shape: number[]): Tensor {
  return np.array(data).reshape(shape);
}

/** Reads x without disposing it. */
async function readOf(x: Tensor): Promise<Float32Array> {
  return (await x.ref.data()) as Float32Array;
}

/** Entrywise |got − want| ≤ tol · (1 + max|want|), with the worst entry named. */
function expectClose(got: ArrayLike<number>, want: ArrayLike<number>, tol: number, what: string) {
  expect(got.length, `${what}: length`).toBe(want.length);
  let scale = 0;
  for (let i = 0; i < want.length; i++) scale = Math.max(scale, Math.abs(want[i]));
  let worst = 0;
  let at = -1;
  for (let i = 0; i < want.length; i++) {
    const e = Math.abs(got[i] - want[i]);
    if (!(e <= worst)) [worst, at] = [e, i];
  }
  expect(worst, `${what}: worst entry ${at}: ${got[at]} vs ${want[at]}`).toBeLessThanOrEqual(
    tol * (1 + scale),
  );
}

/** C = op(A)·op(B) in f64 on the host (row-major; A M×K, B K×N after the transposes). */
function hostMatmul(
  a: Float32Array,
  b: Float32Array,
  M: number,
  N: number,
  K: number,
  transA: boolean,
  transB: boolean,
): Float64Array {
  const c = new Float64Array(M * N);
  for (let m = 0; m < M; m++)
    for (let n = 0; n < N; n++) {
      let s = 0;
      for (let k = 0; k < K; k++)
        s += (transA ? a[k * M + m] : a[m * K + k]) * (transB ? b[n * K + k] : b[k * N + n]);
      c[m * N + n] = s;
    }
  return c;
}

function hostAct(act: WgslActivation, v: number): number {
  if (act === 'relu') return Math.max(v, 0);
  if (act === 'tanh') return Math.tanh(v);
  if (act === 'sigmoid') return 1 / (1 + Math.exp(-v));
  return v;
}

function hostDerivative(act: WgslActivation, y: number, d: number): number {
  if (act === 'relu') return y > 0 ? d : 0;
  if (act === 'tanh') return d * (1 - y * y);
  if (act === 'sigmoid') return d * y * (1 - y);
  return d;
}

const TOL = 2e-5;

/** One forward and backward at B×in → out against jax-js and the host. */
async function checkDense(B: number, nIn: number, nOut: number, act: WgslActivation, seed: number) {
  const rng = new Rng(seed);
  const xh = randomHost(rng, B * nIn);
  const wh = randomHost(rng, nOut * nIn, 1 / Math.sqrt(nIn));
  const bh = randomHost(rng, nOut, 0.3);
  const dyh = randomHost(rng, B * nOut);
  const [x, w, b, dy] = [
    upload(xh, [B, nIn]),
    upload(wh, [nOut, nIn]),
    upload(bh, [nOut]),
    upload(dyh, [B, nOut]),
  ];
  const tag = `${B}×${nIn}→${nOut} ${act}`;

  const y = denseForwardWgsl(x, w, b, act);
  const yRef = denseForwardReference(x, w, b, act);
  const yGot = await readOf(y);
  expectClose(yGot, await yRef.data(), TOL, `forward vs jax-js ${tag}`);
  const s = hostMatmul(xh, wh, B, nOut, nIn, false, true);
  expectClose(
    yGot,
    s.map((v, i) => hostAct(act, v + bh[i % nOut])),
    TOL,
    `forward vs host ${tag}`,
  );

  const g = denseBackwardWgsl(x, w, y, dy, act);
  const r = denseBackwardReference(x, w, y, dy, act);
  const dzGot = await readOf(g.g);
  expectClose(dzGot, await readOf(r.dz), TOL, `dz vs jax-js ${tag}`);
  expectClose(await readOf(g.dx!), await readOf(r.dx), TOL, `dx vs jax-js ${tag}`);
  expectClose(await readOf(g.dw!), await readOf(r.dw), TOL, `dw vs jax-js ${tag}`);
  expectClose(await readOf(g.db!), await readOf(r.db), TOL, `db vs jax-js ${tag}`);
  // The host from the device's Y (f' is written through Y on both sides).
  const dzHost = Float32Array.from(dyh, (d, i) => hostDerivative(act, yGot[i], d));
  expectClose(dzGot, dzHost, TOL, `dz vs host ${tag}`);
  expectClose(
    await readOf(g.dx!),
    hostMatmul(dzHost, wh, B, nIn, nOut, false, false),
    TOL,
    `dx vs host ${tag}`,
  );
  expectClose(
    await readOf(g.dw!),
    hostMatmul(dzHost, xh, nOut, nIn, B, true, false),
    TOL,
    `dw vs host ${tag}`,
  );
  const dbHost = new Float64Array(nOut);
  dzHost.forEach((v, i) => {
    dbHost[i % nOut] += v;
  });
  expectClose(await readOf(g.db!), dbHost, TOL, `db vs host ${tag}`);

  for (const t of [x, w, b, dy, y, g.g, g.dx!, g.dw!, g.db!, r.dz, r.dx, r.dw, r.db]) t.dispose();
}

describe('fused WGSL dense kernels match jax-js on WebGPU', () => {
  onGpu(
    'forward and backward, every activation, 13×29 → 7 and 65×70 → 3 (past one 64-wide tile)',
    async () => {
      for (const act of ACTS) {
        await checkDense(13, 29, 7, act, 1);
        await checkDense(65, 70, 3, act, 2);
      }
    },
  );

  onGpu('forward and backward on random shapes (1…140 per side)', async () => {
    await fc.assert(
      fc.asyncProperty(
        fc.integer({ min: 1, max: 140 }),
        fc.integer({ min: 1, max: 140 }),
        fc.integer({ min: 1, max: 140 }),
        fc.constantFrom(...ACTS),
        fc.integer({ min: 0, max: 1000 }),
        async (B, nIn, nOut, act, seed) => checkDense(B, nIn, nOut, act, seed),
      ),
      { numRuns: 6 },
    );
  });

  onGpu('without a bias, and with dX, dW and db skipped', async () => {
    const rng = new Rng(7);
    const [B, nIn, nOut] = [9, 5, 11];
    const x = upload(randomHost(rng, B * nIn), [B, nIn]);
    const w = upload(randomHost(rng, nOut * nIn), [nOut, nIn]);
    const dy = upload(randomHost(rng, B * nOut), [B, nOut]);
    const y = denseForwardWgsl(x, w, null, 'tanh');
    const yRef = denseForwardReference(x, w, null, 'tanh');
    expectClose(await readOf(y), await yRef.data(), TOL, 'forward without bias');
    const g = denseBackwardWgsl(x, w, y, dy, 'tanh', { needInput: false, needWeightGrad: false });
    expect([g.dx, g.dw, g.db]).toEqual([null, null, null]);
    const r = denseBackwardReference(x, w, y, dy, 'tanh');
    expectClose(await readOf(g.g), await readOf(r.dz), TOL, 'dz alone');
    const h = denseBackwardWgsl(x, w, y, dy, 'tanh', { needBias: false, tapScale: B });
    const scaled = (await readOf(r.dz)).map((v) => B * v);
    expectClose(await readOf(h.g), scaled, TOL, 'the tap B·dz');
    expectClose(await readOf(h.dx!), await readOf(r.dx), TOL, 'dx beside a scaled tap');
    expect(h.db).toBeNull();
    expectClose(await readOf(h.dw!), await readOf(r.dw), TOL, 'dw without db');
    for (const t of [x, w, dy, y, g.g, h.g, h.dx!, h.dw!, r.dz, r.dx, r.dw, r.db]) t.dispose();
  });

  onGpu(
    'queue order: outputs feed jax-js and further kernels; inputs disposed at once are not corrupted',
    async () => {
      const rng = new Rng(11);
      const [B, nIn, nOut] = [40, 33, 21];
      const xh = randomHost(rng, B * nIn);
      const wh = randomHost(rng, nOut * nIn, 0.2);
      // Lazy jax-js inputs (pending kernels), disposed right after the call: their buffers return to
      // jax-js's pool, and the next jax-js arrays of the same size may take them.
      const x = upload(xh, [B, nIn]).mul(2).add(1);
      const w = upload(wh, [nOut, nIn]).mul(-1);
      const y = denseForwardWgsl(x, w, null, 'sigmoid');
      x.dispose();
      w.dispose();
      const junk = [np.ones([B, nIn]).mul(5), np.ones([nOut, nIn]).mul(7)];
      for (const j of junk) await j.blockUntilReady();
      // A jax-js op on the output, and the output into the next fused kernel.
      const twice = y.ref.mul(2);
      const z = denseForwardWgsl(y, upload(randomHost(rng, 4 * nOut), [4, nOut]), null, 'identity');
      const xs = Float32Array.from(xh, (v) => 2 * v + 1);
      const ws = Float32Array.from(wh, (v) => -v);
      const want = hostMatmul(xs, ws, B, nOut, nIn, false, true).map((v) => hostAct('sigmoid', v));
      expectClose(await readOf(y), want, TOL, 'output after its inputs were disposed and reused');
      expectClose(
        await twice.data(),
        want.map((v) => 2 * v),
        TOL,
        'jax-js op on the output',
      );
      expect(z.shape).toEqual([B, 4]);
      for (const t of [y, z, ...junk]) t.dispose();
    },
  );

  onGpu(
    'outputs are committed to webgpu: an uncommitted argument on another device moves to them',
    async () => {
      // As jax-js's own results on committed inputs: jax-js places a call with no committed argument
      // on its first argument's device, and moving a WebGPU array off it is a synchronous read.
      defaultDevice('wasm');
      const onWasm = np.array(Float32Array.from([1, 2, 3]));
      defaultDevice('webgpu');
      const [x, w] = [np.ones([2, 3]), np.ones([3, 3])];
      const y = denseForwardWgsl(x, w, null, 'identity');
      const s = onWasm.add(y);
      expect(s.device).toBe('webgpu');
      expectClose(await s.data(), [4, 5, 6, 4, 5, 6], TOL, 'sum across devices');
      x.dispose();
      w.dispose();
    },
  );
});

describe('fused WGSL factor statistics (aᵀa) match jax-js on WebGPU', () => {
  onGpu('13×29, 65×70, 130×3 and 1×1: symmetric, equal to jax-js and to the host', async () => {
    for (const [rows, n, seed] of [
      [13, 29, 1],
      [65, 70, 2],
      [130, 3, 3],
      [1, 1, 4],
      [7, 129, 5],
    ]) {
      const rng = new Rng(seed);
      const ah = randomHost(rng, rows * n);
      const a = upload(ah, [rows, n]);
      const got = await readOf(gramWgsl(a));
      expectClose(got, await gramReference(a).data(), TOL, `gram vs jax-js ${rows}×${n}`);
      expectClose(got, hostMatmul(ah, ah, n, n, rows, true, false), TOL, `gram vs host ${rows}×${n}`);
      for (let i = 0; i < n; i++)
        for (let j = 0; j < i; j++) expect(got[i * n + j], `symmetry at ${i},${j}`).toBe(got[j * n + i]);
      a.dispose();
    }
  });
});

describe('fused WGSL kernels: guards', () => {
  onGpu('bad shapes are ShapeErrors naming the shapes', async () => {
    const x = np.zeros([3, 4]);
    const w = np.zeros([5, 6]);
    expect(() => denseForwardWgsl(x, w, null, 'relu')).toThrow(ShapeError);
    expect(() => denseForwardWgsl(x, w, null, 'relu')).toThrow(/x is 3×4 but w is 5×6/);
    const w2 = np.zeros([5, 4]);
    expect(() => denseForwardWgsl(x, w2, np.zeros([4]), 'relu')).toThrow(/b has shape \[4\], expected \[5\]/);
    expect(() => gramWgsl(np.zeros([3]))).toThrow(ShapeError);
    for (const t of [x, w, w2]) t.dispose();
  });

  onGpu('switching off and tracers turn the fused path away', async () => {
    const x = np.zeros([2, 2]);
    setFusedWgsl(true);
    expect(fusedWgslReady([x])).toBe(true);
    setFusedWgsl(false);
    expect(fusedWgslEnabled()).toBe(false);
    expect(fusedWgslReady([x])).toBe(false);
    setFusedWgsl(true);
    expect(fusedWgslReady([x, { shape: [2, 2] }])).toBe(false);
    setFusedWgsl(false);
    x.dispose();
  });

  it('they start off; RIESZ_WGSL=1 in the environment starts them on', async () => {
    vi.stubEnv('RIESZ_WGSL', '1');
    vi.resetModules();
    const fresh = await import('./kernels.js');
    expect(fresh.fusedWgslEnabled()).toBe(true);
    vi.unstubAllEnvs();
    vi.resetModules();
    expect((await import('./kernels.js')).fusedWgslEnabled()).toBe(false);
  });

  it('on wasm the kernels refuse, saying why', async () => {
    await initDevice('wasm');
    expect(wgslSupport()).toMatch(/default device is wasm, not webgpu/);
    const x = np.zeros([2, 2]);
    expect(fusedWgslReady([x])).toBe(false);
    expect(() => gramWgsl(x)).toThrow(/cannot run: the default device is wasm/);
    x.dispose();
    if (!why) await initDevice('webgpu');
  });
});

describe('fused WGSL kernels: the device reported nothing', () => {
  onGpu('no uncaptured WebGPU error (validation) in this file', async () => {
    await new Promise((r) => setTimeout(r, 100));
    expect(uncaptured).toEqual([]);
  });
});
