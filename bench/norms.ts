/**
 * bench/norms — weighted operator and Frobenius-type norms of an n×n map with dense Gram matrices
 * V and W (n = 256, 512, 1024), riesz against NumPy+SciPy (Cholesky + triangular solve + SVD) on the
 * same matrices, in the same run. Prints medians and the ratio riesz / NumPy (lower is better).
 *
 * The NumPy peer runs twice: with the machine's OpenBLAS settings as they are ("default") and with
 * OPENBLAS_CORETYPE=SkylakeX set for the peer alone ("tuned"), which picks OpenBLAS's AVX-512
 * kernels on this CPU (see DESIGN.md, Measuring).
 *
 * The plain-TypeScript column reruns riesz with the WebAssembly kernels switched off.
 *
 * usage: npm run bench:norms [-- --sizes 256,512,1024 --repeats 5 --threads 2]
 */
import { execFileSync } from 'node:child_process';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { enableThreads } from '../src/backend/threads.js';
import { frobeniusNorm } from '../src/geometry/frobenius.js';
import { dense } from '../src/geometry/inner-product/dense.js';
import { operatorNorm } from '../src/geometry/spectral.js';
import { serializeNpy } from '../src/io/npy.js';
import { Rng, randomHpd, randomNormal } from '../src/linalg/random.js';
import { setWasmEnabled } from '../src/linalg/wasm/runtime.js';

function arg(name: string, fallback: string): string {
  const i = process.argv.indexOf(`--${name}`);
  return i >= 0 ? process.argv[i + 1] : fallback;
}

const sizes = arg('sizes', '256,512,1024').split(',').map(Number);
const repeats = Number(arg('repeats', '5'));
const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)];

const threads = enableThreads(Number(arg('threads', '2')));
const dir = mkdtempSync(join(tmpdir(), 'riesz-bench-'));
const rng = new Rng(42);
const cases = sizes.map((n) => {
  const A = randomNormal(rng, n, n);
  const V = randomHpd(rng, n);
  const W = randomHpd(rng, n);
  for (const [k, M] of [
    ['A', A],
    ['V', V],
    ['W', W],
  ] as const)
    writeFileSync(join(dir, `${k}_${n}.npy`), serializeNpy(M));
  return { n, A, V, W };
});
writeFileSync(join(dir, 'sizes.txt'), sizes.join(' '));

type PeerResult = Record<string, { frobenius: number[]; operator: number[]; values: Record<string, number> }>;
function peer(env: NodeJS.ProcessEnv): PeerResult {
  const out = execFileSync(
    '/usr/bin/python3',
    [join(import.meta.dirname, '../../bench/peers/norms_numpy.py'), dir, String(repeats)],
    {
      encoding: 'utf8',
      env,
    },
  );
  return JSON.parse(out);
}
const baseEnv = { ...process.env };
const numpyDefault = peer(baseEnv);
const numpyTuned = peer({ ...baseEnv, OPENBLAS_CORETYPE: 'SkylakeX' });

const time = (f: () => number) => {
  const t = performance.now();
  const v = f();
  return { v, s: (performance.now() - t) / 1000 };
};

console.log(
  `bench/norms — dense V, W; median of ${repeats} runs; riesz on ${threads} thread(s); ratio = riesz / NumPy (lower is better)\n`,
);
console.log(
  '    n  norm        riesz (s)  NumPy (s)  ratio  NumPy tuned (s)  ratio  plain TS (s)  ratio  |rel diff|',
);
for (const { n, A, V, W } of cases) {
  for (const kind of ['frobenius', 'operator'] as const) {
    const f = () => {
      const g = { domain: dense(V, 'V'), codomain: dense(W, 'W') };
      return kind === 'frobenius' ? frobeniusNorm(A, g) : operatorNorm(A, g);
    };
    const measure = (count: number) => {
      f(); // warm-up (JIT)
      return Array.from({ length: count }, () => time(f));
    };
    const runs = measure(repeats);
    const ours = median(runs.map((r) => r.s));
    // The same code with the WebAssembly kernels switched off: what plain TypeScript reaches.
    setWasmEnabled(false);
    const plain = median(measure(Math.min(repeats, 3)).map((r) => r.s));
    setWasmEnabled(true);
    const d = median(numpyDefault[n][kind]);
    const t = median(numpyTuned[n][kind]);
    const diff = Math.abs(runs[0].v - numpyTuned[n].values[kind]) / numpyTuned[n].values[kind];
    const col = (x: number, w: number) => x.toFixed(4).padStart(w);
    const ratio = (x: number) => x.toFixed(2).padStart(5);
    console.log(
      `${String(n).padStart(5)}  ${kind.padEnd(10)} ${col(ours, 9)}  ${col(d, 9)}  ${ratio(ours / d)}  ${col(t, 15)}  ${ratio(ours / t)}  ${col(plain, 12)}  ${ratio(plain / d)}  ${diff.toExponential(1)}`,
    );
  }
}
