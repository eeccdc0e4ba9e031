import fc from 'fast-check';
import { afterAll, describe, expect, it } from 'vitest';
import { disableThreads, enableThreads } from '../backend/threads.js';
import { Rng } from './random.js';
import { sgemm } from './sgemm.js';
import { setWasmEnabled } from './wasm/runtime.js';

function randomF32(rng: Rng, n: number): Float32Array {
  return Float32Array.from({ length: n }, () => rng.normal());
}

/** XᵀX in f64 from the f32 entries: the reference the f32 products are held to. */
function gramReference(X: Float32Array, rows: number, cols: number): Float64Array {
  const G = new Float64Array(cols * cols);
  for (let r = 0; r < rows; r++)
    for (let i = 0; i < cols; i++)
      for (let j = 0; j < cols; j++) G[i * cols + j] += X[r * cols + i] * X[r * cols + j];
  return G;
}

describe('sgemm, symmetric results', () => {
  afterAll(() => disableThreads());
  it.each([
    ['one thread', 1],
    ['two threads', 2],
  ])('XᵀX from the lower triangle equals the full product and is exactly symmetric (%s)', (_, threads) => {
    if (threads === 2) expect(enableThreads(2)).toBe(2);
    const rng = new Rng(threads);
    for (const [rows, cols] of [
      [40, 7],
      [64, 33],
      [150, 130],
      [300, 257],
    ]) {
      const X = randomF32(rng, rows * cols);
      const full = sgemm(cols, cols, rows, X, X, true);
      const sym = sgemm(cols, cols, rows, X, X, true, true);
      const ref = gramReference(X, rows, cols);
      let asymmetric = 0;
      let lowerDiffers = 0;
      let error = 0;
      for (let i = 0; i < cols; i++)
        for (let j = 0; j < cols; j++) {
          if (sym[i * cols + j] !== sym[j * cols + i]) asymmetric++;
          // The lower triangle is the full product's, bit for bit (the same k-loop order).
          if (j <= i && sym[i * cols + j] !== full[i * cols + j]) lowerDiffers++;
          error = Math.max(error, Math.abs(sym[i * cols + j] - ref[i * cols + j]));
        }
      expect({ rows, cols, asymmetric, lowerDiffers }).toEqual({
        rows,
        cols,
        asymmetric: 0,
        lowerDiffers: 0,
      });
      expect(error).toBeLessThanOrEqual(1e-5 * rows);
    }
  });
  it('without WebAssembly gives the same lower triangle (the f64 fallback)', () => {
    fc.assert(
      fc.property(fc.integer({ min: 1, max: 40 }), fc.integer({ min: 1, max: 40 }), (rows, cols) => {
        const X = randomF32(new Rng(rows * 41 + cols), rows * cols);
        setWasmEnabled(false);
        const off = sgemm(cols, cols, rows, X, X, true, true);
        setWasmEnabled(true);
        const ref = gramReference(X, rows, cols);
        for (let k = 0; k < off.length; k++)
          expect(Math.abs(off[k] - ref[k])).toBeLessThanOrEqual(1e-5 * (1 + Math.abs(ref[k])));
      }),
      { numRuns: 30 },
    );
  });
});
