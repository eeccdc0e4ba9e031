import fc from 'fast-check';
import { afterAll, describe, expect, it } from 'vitest';
import { expectClose } from '../../../test/helpers.js';
import { disableThreads, enableThreads } from '../../backend/threads.js';
import { cholesky } from '../cholesky.js';
import { gemmNaive, matmul } from '../gemm.js';
import { conjTranspose } from '../matrix.js';
import { Rng, randomHpd, randomNormal } from '../random.js';
import { mulLower, mulLowerH, solveLower, solveLowerH } from '../triangular.js';
import { setWasmEnabled, wasmSgemm, wasmStatus } from './runtime.js';

afterAll(() => {
  disableThreads();
  setWasmEnabled(true);
});

describe('WebAssembly SIMD kernels', () => {
  it('are available in Node', () => {
    expect(wasmStatus().available).toBe(true);
  });
  it.each([1, 2])('GEMM agrees with the naive loop on awkward shapes (%i thread(s))', (threads) => {
    expect(enableThreads(threads)).toBe(threads);
    fc.assert(
      fc.property(
        fc.integer({ min: 8, max: 150 }),
        fc.integer({ min: 8, max: 300 }),
        fc.integer({ min: 8, max: 140 }),
        fc.integer(),
        (m, k, n, seed) => {
          const rng = new Rng(seed);
          const A = randomNormal(rng, m, k);
          const B = randomNormal(rng, k, n);
          expectClose(matmul(A, B), gemmNaive(A, B), 1e-13);
        },
      ),
      { numRuns: 25 },
    );
  });
  it.each([1, 2])(
    'float32 GEMM (plain and transposed A) agrees with f64 within f32 rounding (%i thread(s))',
    (threads) => {
      enableThreads(threads);
      fc.assert(
        fc.property(
          fc.integer({ min: 32, max: 150 }),
          fc.integer({ min: 32, max: 300 }),
          fc.integer({ min: 32, max: 140 }),
          fc.boolean(),
          fc.integer(),
          (m, k, n, transA, seed) => {
            const rng = new Rng(seed);
            const A = randomNormal(rng, transA ? k : m, transA ? m : k);
            const B = randomNormal(rng, k, n);
            const want = gemmNaive(transA ? conjTranspose(A) : A, B);
            const c = new Float32Array(m * n).fill(1); // accumulates onto C
            const ok = wasmSgemm(
              m,
              n,
              k,
              Float32Array.from(A.re),
              0,
              transA ? m : k,
              Float32Array.from(B.re),
              0,
              n,
              c,
              0,
              n,
              0.5,
              transA,
            );
            expect(ok).toBe(true);
            for (let i = 0; i < m * n; i++) {
              expect(Math.abs(c[i] - (1 + 0.5 * want.re[i]))).toBeLessThan(1e-5 * Math.sqrt(k) * 4);
            }
          },
        ),
        { numRuns: 25 },
      );
    },
  );
  it('blocked triangular kernels (many right-hand sides) match the TypeScript path', () => {
    enableThreads(2);
    const rng = new Rng(17);
    for (const complex of [false, true]) {
      const n = 200;
      const L = cholesky(randomHpd(rng, n, complex));
      const B = randomNormal(rng, n, 40, complex);
      expectClose(matmul(L, solveLower(L, B)), B, 1e-12);
      expectClose(matmul(conjTranspose(L), solveLowerH(L, B)), B, 1e-12);
      const viaWasm = [mulLower(L, B), mulLowerH(L, B)];
      setWasmEnabled(false);
      expectClose(viaWasm[0], mulLower(L, B), 1e-13);
      expectClose(viaWasm[1], mulLowerH(L, B), 1e-13);
      expectClose(cholesky(matmul(L, conjTranspose(L))), L, 1e-11);
      setWasmEnabled(true);
    }
  });
});
