import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { frobeniusNorm as euclidean, zeros } from '../linalg/matrix.js';
import { Rng } from '../linalg/random.js';
import { singularValues } from '../linalg/svd.js';
import { type ConvKernel, convNormalize, convSingularValues } from './conv-spectrum.js';

/** The layer as an explicit (c_out·n_h·n_w)×(c_in·n_h·n_w) matrix, straight from the definition. */
function denseConv(K: ConvKernel, nh: number, nw: number) {
  const M = zeros(K.cOut * nh * nw, K.cIn * nh * nw, !!K.im);
  const cols = K.cIn * nh * nw;
  for (let o = 0; o < K.cOut; o++)
    for (let c = 0; c < K.cIn; c++)
      for (let a = 0; a < K.kh; a++)
        for (let b = 0; b < K.kw; b++) {
          const q = ((o * K.cIn + c) * K.kh + a) * K.kw + b;
          for (let i = 0; i < nh; i++)
            for (let j = 0; j < nw; j++) {
              const row = (o * nh + i) * nw + j;
              const col = (c * nh + ((i + a) % nh)) * nw + ((j + b) % nw);
              M.re[row * cols + col] += K.re[q];
              if (M.im) M.im[row * cols + col] += K.im![q];
            }
        }
  return M;
}

function randomKernel(
  rng: Rng,
  cOut: number,
  cIn: number,
  kh: number,
  kw: number,
  complex: boolean,
): ConvKernel {
  const size = cOut * cIn * kh * kw;
  return {
    cOut,
    cIn,
    kh,
    kw,
    re: Float64Array.from({ length: size }, () => rng.normal()),
    im: complex ? Float64Array.from({ length: size }, () => rng.normal()) : null,
  };
}

describe('singular values of circular convolutions (MATH.md §10)', () => {
  it('equal those of the explicit convolution matrix, real and complex', () => {
    fc.assert(
      fc.property(
        fc.integer(),
        fc.integer({ min: 1, max: 3 }),
        fc.integer({ min: 1, max: 3 }),
        fc.integer({ min: 1, max: 3 }),
        fc.integer({ min: 3, max: 5 }),
        fc.boolean(),
        (seed, cOut, cIn, k, n, complex) => {
          const K = randomKernel(new Rng(seed), cOut, cIn, k, Math.min(k + 1, n), complex);
          const nw = n + 1;
          const spec = convSingularValues(K, n, nw);
          const M = denseConv(K, n, nw);
          const exact = singularValues(M);
          const r = Math.min(cOut, cIn) * n * nw;
          expect(spec.values.length).toBe(r);
          for (let i = 0; i < r; i++)
            expect(Math.abs(spec.values[i] - exact[i])).toBeLessThan(1e-11 * exact[0]);
          expect(Math.abs(spec.operatorNorm - exact[0])).toBeLessThan(1e-12 * exact[0]);
          expect(Math.abs(spec.frobeniusNorm - euclidean(M))).toBeLessThan(1e-12 * euclidean(M));
        },
      ),
      { numRuns: 30 },
    );
  });
  it('golden: the 1×2 box filter [1, 1] on width 4 has σ = |1 + ω^v| = 2, √2, 0, √2 per row', () => {
    const s = convSingularValues({ cOut: 1, cIn: 1, kh: 1, kw: 2, re: Float64Array.of(1, 1) }, 1, 4);
    expect(Array.from(s.values).map((x) => Math.round(x * 1e12) / 1e12)).toEqual([
      2,
      Math.round(Math.SQRT2 * 1e12) / 1e12,
      Math.round(Math.SQRT2 * 1e12) / 1e12,
      0,
    ]);
    expect(s.argmax).toEqual([0, 0]);
  });
  it('rejects a kernel larger than the input or with the wrong length', () => {
    expect(() => convSingularValues({ cOut: 1, cIn: 1, kh: 5, kw: 5, re: new Float64Array(25) }, 4)).toThrow(
      /larger than the 4×4 input/,
    );
    expect(() => convSingularValues({ cOut: 2, cIn: 1, kh: 3, kw: 3, re: new Float64Array(9) }, 8)).toThrow(
      /needs 18 entries/,
    );
  });
  it('ConvNorm-style normalisation makes every singular value 1 (real kernels stay real)', () => {
    for (const complex of [false, true]) {
      const K = randomKernel(new Rng(11), 3, 2, 3, 3, complex);
      const N = convNormalize(K, 6, 5);
      expect([N.kh, N.kw]).toEqual([6, 5]);
      if (!complex) expect(N.im).toBeNull();
      const s = convSingularValues(N, 6, 5).values;
      expect(s.length).toBe(2 * 30);
      for (const v of s) expect(Math.abs(v - 1)).toBeLessThan(1e-10);
      // With ε > 0 the largest singular values stay just below 1 and nothing exceeds it.
      for (const v of convSingularValues(convNormalize(K, 6, 5, 1e-2), 6, 5).values)
        expect(v).toBeLessThan(1);
    }
  });
});
