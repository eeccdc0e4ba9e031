/**
 * bench/kernels — the n×n matrix product that everything else rests on, in one run: riesz's
 * WebAssembly SIMD GEMM (f64 on 1 and 2 threads; f32 on 1 thread in both builds, plain SIMD and
 * relaxed-SIMD FMA, on operands already in Wasm memory, and on 2 threads through the library — the
 * layers' kernel), riesz's plain TypeScript kernel, jax-js's Wasm
 * matmul (f32, the device the layers run on) and NumPy (f64 and f32). Medians, in GFLOP/s.
 *
 * usage: npm run bench:kernels [-- --sizes 512,785,1024 --repeats 3]
 */
import { execFileSync } from 'node:child_process';
import { join } from 'node:path';
import { numpy as np } from '@jax-js/jax';
import { initDevice } from '../src/backend/device.js';
import { disableThreads, enableThreads } from '../src/backend/threads.js';
import { matmul } from '../src/linalg/gemm.js';
import { Rng, randomNormal } from '../src/linalg/random.js';
import { instantiateGemmKernels, setWasmEnabled, wasmSgemm, wasmStatus } from '../src/linalg/wasm/runtime.js';

function arg(name: string, fallback: string): string {
  const i = process.argv.indexOf(`--${name}`);
  return i >= 0 ? process.argv[i + 1] : fallback;
}
const sizes = arg('sizes', '512,785,1024').split(',').map(Number);
const repeats = Number(arg('repeats', '3'));
const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)];
const time = (f: () => void) => {
  f();
  return median(
    Array.from({ length: repeats }, () => {
      const t = performance.now();
      f();
      return (performance.now() - t) / 1000;
    }),
  );
};

await initDevice('wasm');
console.log('bench/kernels — n×n matrix product, GFLOP/s (median of', repeats, 'runs)\n');
console.log(`riesz's f32 GEMM build in use: ${wasmStatus().fma ? 'relaxed-SIMD FMA' : 'plain SIMD'}`);
const plainBuild = instantiateGemmKernels(false);
const fmaBuild = instantiateGemmKernels(true);
/** Seconds of one n×n×n f32 product on one thread, operands in the build's own memory (no copies). */
function onPointers(build: ReturnType<typeof instantiateGemmKernels>, n: number): number {
  if (!build) return Number.NaN;
  const { memory, exports: x } = build;
  const pa = 1 << 16;
  const pb = pa + n * n * 4 + 64;
  const pc = pb + n * n * 4 + 64;
  const pw = pc + n * n * 4 + 64;
  const end = pw + x.gemmWorkBytes() + 128;
  if (memory.buffer.byteLength < end) memory.grow(Math.ceil((end - memory.buffer.byteLength) / 65536));
  const heap = new Float32Array(memory.buffer);
  for (let i = 0; i < 2 * n * n; i++) heap[pa / 4 + i] = Math.sin(i);
  return time(() => x.sgemm(n, n, n, pa, n, pb, n, pc, n, pw, 1, 0));
}
console.log(
  '     n  riesz f64 1 thr  riesz f64 2 thr  f32 1 thr plain    f32 1 thr FMA  riesz f32 2 thr  riesz plain TS  jax-js f32 wasm  NumPy f64  NumPy f32',
);
for (const n of sizes) {
  const A = randomNormal(new Rng(1), n, n);
  const flops = 2 * n ** 3;
  disableThreads();
  const one = time(() => matmul(A, A));
  enableThreads(2);
  const two = time(() => matmul(A, A));
  const A32 = Float32Array.from(A.re);
  const C32 = new Float32Array(n * n);
  const plain1 = onPointers(plainBuild, n);
  const fma1 = onPointers(fmaBuild, n);
  const f32two = time(() => wasmSgemm(n, n, n, A32, 0, n, A32, 0, n, C32.fill(0), 0, n));
  setWasmEnabled(false);
  const ts = time(() => matmul(A, A));
  setWasmEnabled(true);
  const J = np.array(Float32Array.from(A.re)).reshape([n, n]);
  const jax = time(() => np.matmul(J.ref, J.ref).dataSync());
  J.dispose();
  const py = JSON.parse(
    execFileSync(
      '/usr/bin/python3',
      [join(import.meta.dirname, '../../bench/peers/matmul_numpy.py'), String(n), String(repeats)],
      {
        encoding: 'utf8',
      },
    ),
  ) as { f64: number; f32: number };
  const g = (s: number) => (flops / s / 1e9).toFixed(1).padStart(15);
  console.log(
    `${String(n).padStart(6)}  ${g(one)}  ${g(two)}  ${g(plain1)}  ${g(fma1)}  ${g(f32two)}  ${g(ts)}  ${g(jax)}  ${g(py.f64).slice(-9)}  ${g(py.f32).slice(-9)}`,
  );
}
