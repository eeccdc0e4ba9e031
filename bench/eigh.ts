/**
 * bench/eigh — the real symmetric eigendecomposition with vectors (K-FAC's factor sizes): riesz's
 * TypeScript path (Householder + QL with accumulated rotations), its WebAssembly path (fused SIMD
 * reduction, divide and conquer, GEMM back-transformation) on 1 and 2 threads, and NumPy's
 * `numpy.linalg.eigh` (LAPACK dsyevd, one BLAS thread) when python3 has NumPy. Milliseconds, min and median,
 * with the accuracy of the Wasm result: ‖AZ − ZΛ‖_F/‖A‖_F and ‖ZᵀZ − I‖_F.
 *
 * usage:
 *   npx esbuild bench/eigh.ts --bundle --platform=node --format=esm --outfile=build/bench/eigh.mjs \
 *     --external:@jax-js/jax --external:webgpu && node build/bench/eigh.mjs \
 *     [--sizes 500,785,1000,1001] [--repeats 5] [--ts-repeats 1]
 */
import { execFileSync } from 'node:child_process';
import { disableThreads, enableThreads } from '../src/backend/threads.js';
import { eigh, eighReference } from '../src/linalg/eigh.js';
import { matmul } from '../src/linalg/gemm.js';
import { frobeniusNorm, type Matrix, transpose, zeros } from '../src/linalg/matrix.js';
import { Rng, randomNormal } from '../src/linalg/random.js';

function arg(name: string, fallback: string): string {
  const i = process.argv.indexOf(`--${name}`);
  return i >= 0 ? process.argv[i + 1] : fallback;
}
const sizes = arg('sizes', '500,785,1000,1001').split(',').map(Number);
const repeats = Number(arg('repeats', '5'));
const tsRepeats = Number(arg('ts-repeats', '1'));

function times(f: () => void, runs: number): { min: number; median: number } {
  const ts = Array.from({ length: runs }, () => {
    const t = performance.now();
    f();
    return (performance.now() - t) / 1000;
  }).sort((a, b) => a - b);
  return { min: ts[0], median: ts[Math.floor(ts.length / 2)] };
}

const NUMPY = `
import sys, time, json, numpy as np
n, reps = int(sys.argv[1]), int(sys.argv[2])
rng = np.random.default_rng(n)
b = rng.standard_normal((n, n)); a = (b + b.T) / 2
np.linalg.eigh(a)
ts = []
for _ in range(reps):
    t = time.perf_counter(); np.linalg.eigh(a); ts.append(time.perf_counter() - t)
ts.sort()
print(json.dumps({"min": ts[0], "median": ts[len(ts) // 2]}))
`;
function numpy(n: number): { min: number; median: number } | null {
  try {
    const out = execFileSync('python3', ['-c', NUMPY, String(n), String(repeats)], {
      encoding: 'utf8',
      env: { ...process.env, OPENBLAS_NUM_THREADS: '1', MKL_NUM_THREADS: '1', OMP_NUM_THREADS: '1' },
      stdio: ['ignore', 'pipe', 'ignore'],
    });
    return JSON.parse(out) as { min: number; median: number };
  } catch {
    return null;
  }
}

function symmetric(n: number): Matrix {
  const B = randomNormal(new Rng(n), n, n);
  const A = zeros(n, n);
  for (let i = 0; i < n; i++)
    for (let j = 0; j < n; j++) A.re[i * n + j] = (B.re[i * n + j] + B.re[j * n + i]) / 2;
  return A;
}

function accuracy(A: Matrix, values: Float64Array, Z: Matrix): [number, number] {
  const n = A.rows;
  const R = matmul(A, Z);
  for (let i = 0; i < n; i++) for (let j = 0; j < n; j++) R.re[i * n + j] -= Z.re[i * n + j] * values[j];
  const G = matmul(transpose(Z), Z);
  for (let i = 0; i < n; i++) G.re[i * n + i] -= 1;
  return [frobeniusNorm(R) / frobeniusNorm(A), frobeniusNorm(G)];
}

const f = (t: { min: number; median: number } | null) =>
  t ? `${(t.min * 1e3).toFixed(1)}/${(t.median * 1e3).toFixed(1)}`.padStart(15) : '              —';
console.log(
  `bench/eigh — real symmetric eigh with vectors, ms min/median (${repeats} runs; TS ${tsRepeats})\n`,
);
console.log(
  '     n          TS path      Wasm 1 thr      Wasm 2 thr     NumPy 1 thr  TS/Wasm1  Wasm1/NumPy   residual  orthogonality',
);
for (const n of sizes) {
  const A = symmetric(n);
  disableThreads();
  eigh(A);
  const wasm1 = times(() => eigh(A), repeats);
  enableThreads(2);
  eigh(A);
  const wasm2 = times(() => eigh(A), repeats);
  disableThreads();
  const ts = times(() => eighReference(A), tsRepeats);
  const py = numpy(n);
  const { values, vectors } = eigh(A);
  const [res, orth] = accuracy(A, values, vectors!);
  console.log(
    `${String(n).padStart(6)}  ${f(ts)}  ${f(wasm1)}  ${f(wasm2)}  ${f(py)}  ${(ts.min / wasm1.min).toFixed(1).padStart(8)}  ${(py ? (wasm1.min / py.min).toFixed(1) : '—').padStart(11)}  ${res.toExponential(1).padStart(9)}  ${orth.toExponential(1).padStart(13)}`,
  );
}
