import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { instantiateGemmKernels, relaxedSimdAvailable, wasmKernels, wasmStatus } from './runtime.js';

// Both builds of the f32 GEMM (plain SIMD, and relaxed-SIMD fused multiply-add) against a scalar
// reference in f64, called on pointers in each build's own memory with every flag: transA, transB,
// lower (the symmetric rank-k mode) and the row offset that threads pass with it.

interface Case {
  m: number;
  n: number;
  k: number;
  transA: boolean;
  transB: boolean;
  lower: boolean;
  row0: number;
  alpha: number;
  seed: number;
}

function lcg(seed: number): () => number {
  let s = seed >>> 0 || 1;
  return () => {
    s = (Math.imul(s, 1664525) + 1013904223) >>> 0;
    return s / 2 ** 31 - 1;
  };
}

/** Runs one case on `build` and returns the largest error relative to the scale Σ|a||b|. */
function worstError(build: NonNullable<ReturnType<typeof instantiateGemmKernels>>, c: Case): number {
  const { m, n, k, transA, transB, lower, row0, alpha } = c;
  const { memory, exports: x } = build;
  const rnd = lcg(c.seed);
  const a = Float32Array.from({ length: m * k }, rnd); // op(A) m×k, stored k×m when transA
  const b = Float32Array.from({ length: k * n }, rnd); // op(B) k×n, stored n×k when transB
  const c0 = Float32Array.from({ length: m * n }, rnd);
  const pa = 1024;
  const pb = pa + Math.ceil((a.length * 4) / 64) * 64;
  const pc = pb + Math.ceil((b.length * 4) / 64) * 64;
  const pw = pc + Math.ceil((c0.length * 4) / 64) * 64;
  const end = pw + x.gemmWorkBytes() + 128;
  if (memory.buffer.byteLength < end) memory.grow(Math.ceil((end - memory.buffer.byteLength) / 65536));
  const heap = new Float32Array(memory.buffer);
  heap.set(a, pa / 4);
  heap.set(b, pb / 4);
  heap.set(c0, pc / 4);
  const lda = transA ? m : k;
  const ldb = transB ? k : n;
  const flags = (transA ? 1 : 0) | (transB ? 2 : 0) | (lower ? 4 : 0) | (row0 << 3);
  x.sgemm(m, n, k, pa, lda, pb, ldb, pc, n, pw, alpha, flags);
  const out = new Float32Array(memory.buffer, pc, m * n);
  const A = (i: number, p: number) => (transA ? a[p * m + i] : a[i * k + p]);
  const B = (p: number, j: number) => (transB ? b[j * k + p] : b[p * n + j]);
  let worst = 0;
  for (let i = 0; i < m; i++) {
    // With lower, the kernel promises the entries on and below the diagonal of the whole product
    // (row row0 + i, columns ≤ row0 + i); it may or may not fill the rest of a tile.
    const cols = lower ? Math.min(n, row0 + i + 1) : n;
    for (let j = 0; j < cols; j++) {
      let s = 0;
      let scale = Math.abs(c0[i * n + j]);
      for (let p = 0; p < k; p++) {
        s += A(i, p) * B(p, j);
        scale += Math.abs(alpha * A(i, p) * B(p, j));
      }
      const want = c0[i * n + j] + alpha * s;
      worst = Math.max(worst, Math.abs(out[i * n + j] - want) / (scale + 1e-30));
    }
  }
  return worst;
}

const dims = fc.oneof(fc.integer({ min: 1, max: 40 }), fc.constantFrom(30, 63, 65, 257, 300, 513, 785));
const caseArb = fc
  .record({
    m: dims,
    n: dims,
    k: dims,
    transA: fc.boolean(),
    transB: fc.boolean(),
    lower: fc.boolean(),
    alpha: fc.constantFrom(1, -0.5, 2),
    seed: fc.integer(),
  })
  .filter((c) => c.m * c.n * c.k <= 4_000_000)
  .map((c): Case => ({ ...c, row0: c.lower ? (c.n > c.m ? (c.seed >>> 0) % (c.n - c.m + 1) : 0) : 0 }));

// f32 accumulation over k terms: a few ulps times √k in practice, k·ε at worst.
const tolerance = (k: number) => Math.max(8, k) * 2 ** -23;

describe('f32 GEMM builds against a scalar reference', () => {
  it('Node 20 runs the relaxed-SIMD build, and the library picks it', () => {
    expect(relaxedSimdAvailable()).toBe(true);
    expect(wasmStatus().fma).toBe(true);
    expect(wasmKernels()!.exports.fusedMultiplyAdd()).toBe(1);
  });
  it.each([false, true])('fma=%s: every flag, odd and panel-crossing sizes', (fma) => {
    const build = instantiateGemmKernels(fma);
    expect(build).not.toBeNull();
    expect(build!.exports.fusedMultiplyAdd()).toBe(fma ? 1 : 0);
    fc.assert(
      fc.property(caseArb, (c) => {
        expect(worstError(build!, c)).toBeLessThan(tolerance(c.k));
      }),
      { numRuns: 60 },
    );
  });
  it.each([false, true])('fma=%s: the autoencoder shapes 1000×785 · 785×1001-like and 30-wide', (fma) => {
    const build = instantiateGemmKernels(fma)!;
    for (const c of [
      { m: 33, n: 1001, k: 785 },
      { m: 1001, n: 30, k: 250 },
      { m: 30, n: 250, k: 1000 },
    ]) {
      const kase = { ...c, transA: false, transB: false, lower: false, row0: 0, alpha: 1, seed: 7 };
      expect(worstError(build, kase)).toBeLessThan(tolerance(c.k));
      expect(worstError(build, { ...kase, transA: true, transB: true })).toBeLessThan(tolerance(c.k));
    }
  });
});
