import { mkdtempSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { expectClose } from '../../test/helpers.js';
import { ParseError } from '../errors.js';
import { matrix } from '../linalg/matrix.js';
import { Rng, randomNormal } from '../linalg/random.js';
import { parseCsv } from './csv.js';
import { readMatrixFile, writeNpyFile } from './files.js';
import { parseMatrixMarket } from './mtx.js';
import { parseNpy, serializeNpy } from './npy.js';

const fixtures = join(import.meta.dirname, '../../test/fixtures');
const A = matrix([
  [1.5, -2, 3.25],
  [4, 5.5, -6.75],
]);
const Z = matrix([
  [
    [1.5, 0.5],
    [-2, 1],
    [3.25, -1],
  ],
  [
    [4, 2],
    [5.5, 0],
    [-6.75, 3.5],
  ],
]);

describe('.npy files written by NumPy', () => {
  it.each(['f8_c', 'f8_fortran', 'f4_c', 'f8_bigendian'])('reads %s', (name) => {
    const { matrix: M, ndim } = readMatrixFile(join(fixtures, `${name}.npy`));
    expect(ndim).toBe(2);
    expectClose(M, A, 0);
  });
  it.each(['c16_c', 'c8_fortran'])('reads complex %s', (name) => {
    expectClose(readMatrixFile(join(fixtures, `${name}.npy`)).matrix, Z, 0);
  });
  it('reads a 1-D array as a column with ndim 1', () => {
    const r = readMatrixFile(join(fixtures, 'f8_1d.npy'));
    expect(r.ndim).toBe(1);
    expect([r.matrix.rows, r.matrix.cols]).toEqual([3, 1]);
  });
  it('names the file and the problem for bad input', () => {
    expect(() => readMatrixFile(join(fixtures, 'f8_truncated.npy'))).toThrow(
      /f8_truncated\.npy: truncated data.*needs 48 bytes, found 38/,
    );
    expect(() => readMatrixFile(join(fixtures, 'i8_unsupported.npy'))).toThrow(/unsupported dtype '<i8'/);
    expect(() => readMatrixFile(join(fixtures, 'f8_3d.npy'))).toThrow(/1-D or 2-D.*\(2, 2, 2\)/);
    expect(() => parseNpy(new TextEncoder().encode('hello world'), 'x.npy')).toThrow(
      /x\.npy: not a \.npy file/,
    );
    expect(() => readMatrixFile(join(fixtures, 'missing.npy'))).toThrow(/missing\.npy: no such file/);
    expect(() => readMatrixFile('matrix.xlsx')).toThrow(ParseError);
  });
  it('round-trips real and complex matrices through serializeNpy', () => {
    fc.assert(
      fc.property(
        fc.integer({ min: 0, max: 6 }),
        fc.integer({ min: 0, max: 6 }),
        fc.boolean(),
        fc.integer(),
        (m, n, c, seed) => {
          const M = randomNormal(new Rng(seed), m, n, c);
          const bytes = serializeNpy(M);
          const headerLen = bytes[8] + 256 * bytes[9];
          expect((10 + headerLen) % 64).toBe(0);
          const back = parseNpy(bytes).matrix;
          expect(Array.from(back.re)).toEqual(Array.from(M.re));
          expect(back.im ? Array.from(back.im) : null).toEqual(M.im ? Array.from(M.im) : null);
        },
      ),
      { numRuns: 50 },
    );
  });
  it('writes atomically, leaving no temporary file behind', () => {
    const dir = mkdtempSync(join(tmpdir(), 'riesz-io-'));
    const path = join(dir, 'z.npy');
    writeNpyFile(path, Z);
    expect(readdirSync(dir)).toEqual(['z.npy']);
    expectClose(parseNpy(new Uint8Array(readFileSync(path))).matrix, Z, 0);
  });
});

describe('Matrix Market', () => {
  it('reads array format (column-major) and coordinate format', () => {
    const arr = '%%MatrixMarket matrix array real general\n% comment\n2 3\n1.5\n4\n-2\n5.5\n3.25\n-6.75\n';
    expectClose(parseMatrixMarket(arr), A, 0);
    const coo = '%%MatrixMarket matrix coordinate real general\n2 2 2\n1 1 3\n2 2 4\n';
    expectClose(
      parseMatrixMarket(coo),
      matrix([
        [3, 0],
        [0, 4],
      ]),
      0,
    );
  });
  it('expands symmetric, skew-symmetric and hermitian storage', () => {
    const sym = '%%MatrixMarket matrix coordinate real symmetric\n2 2 3\n1 1 2\n2 1 1\n2 2 2\n';
    expectClose(
      parseMatrixMarket(sym),
      matrix([
        [2, 1],
        [1, 2],
      ]),
      0,
    );
    const symArr = '%%MatrixMarket matrix array real symmetric\n2 2\n2\n1\n3\n';
    expectClose(
      parseMatrixMarket(symArr),
      matrix([
        [2, 1],
        [1, 3],
      ]),
      0,
    );
    const skew = '%%MatrixMarket matrix coordinate integer skew-symmetric\n2 2 1\n2 1 5\n';
    expectClose(
      parseMatrixMarket(skew),
      matrix([
        [0, -5],
        [5, 0],
      ]),
      0,
    );
    const herm = '%%MatrixMarket matrix coordinate complex hermitian\n2 2 3\n1 1 2 0\n2 1 1 1\n2 2 3 0\n';
    expectClose(
      parseMatrixMarket(herm),
      matrix([
        [2, [1, -1]],
        [[1, 1], 3],
      ]),
      0,
    );
    const pat = '%%MatrixMarket matrix coordinate pattern general\n2 2 1\n1 2\n';
    expectClose(
      parseMatrixMarket(pat),
      matrix([
        [0, 1],
        [0, 0],
      ]),
      0,
    );
  });
  it('reports bad banners, truncation and out-of-range indices with line numbers', () => {
    expect(() => parseMatrixMarket('hello', 'm.mtx')).toThrow(/m\.mtx: line 1: expected the banner/);
    expect(() =>
      parseMatrixMarket('%%MatrixMarket matrix coordinate real general\n2 2 3\n1 1 1\n', 'm.mtx'),
    ).toThrow(/announces 3 entries, but only 6 bytes follow/);
    expect(() =>
      parseMatrixMarket('%%MatrixMarket matrix coordinate real general\n2 2 2\n1 1 1\n%%%%%%%%%%\n', 'm.mtx'),
    ).toThrow(/announces 2 entries, found 1/);
    expect(() =>
      parseMatrixMarket('%%MatrixMarket matrix coordinate real general\n2 2 1\n3 1 1\n', 'm.mtx'),
    ).toThrow(/line 3: index \(3, 1\) outside the 2×2 matrix/);
    expect(() =>
      parseMatrixMarket('%%MatrixMarket matrix array real general\n2 2\n1\nx\n1\n1\n', 'm.mtx'),
    ).toThrow(/line 4: expected a number/);
  });
});

describe('CSV', () => {
  it('reads real rows with a header and complex entries in NumPy notation', () => {
    expectClose(parseCsv('a,b,c\n1.5,-2,3.25\n4, 5.5, -6.75\n'), A, 0);
    expectClose(parseCsv('1.5+0.5j,-2+1j,3.25-1j\n4+2j,5.5,-6.75+3.5j\n'), Z, 0);
    expectClose(
      parseCsv('# comment\n2j (1-1e-1j)\n'),
      matrix([
        [
          [0, 2],
          [1, -0.1],
        ],
      ]),
      0,
    );
  });
  it('reports ragged rows and bad entries with their position', () => {
    expect(() => parseCsv('1,2\n3\n', 'x.csv')).toThrow(/x\.csv: line 2: 1 entries, but line 1 has 2/);
    expect(() => parseCsv('1,2\n3,abc\n', 'x.csv')).toThrow(/line 2, column 2: 'abc' is not a number/);
    expect(() => parseCsv('\n\n', 'x.csv')).toThrow(/no numeric rows/);
  });
  it('reads files from disk by extension', () => {
    const dir = mkdtempSync(join(tmpdir(), 'riesz-csv-'));
    writeFileSync(join(dir, 'a.csv'), '1,2\n3,4\n');
    expectClose(
      readMatrixFile(join(dir, 'a.csv')).matrix,
      matrix([
        [1, 2],
        [3, 4],
      ]),
      0,
    );
  });
});

describe('safetensors', () => {
  it('round-trips F32, F64 and I32 tensors with metadata, 8-byte aligned', async () => {
    const { parseSafetensors, serializeSafetensors } = await import('./safetensors.js');
    const bytes = serializeSafetensors(
      {
        w: { dtype: 'F32', shape: [2, 2], data: Float32Array.of(1, 2, 3, 4) },
        m: { dtype: 'F64', shape: [3], data: Float64Array.of(0.1, 0.2, 0.3) },
        i: { dtype: 'I32', shape: [1], data: Int32Array.of(-7) },
      },
      { step: '12' },
    );
    const n = Number(new DataView(bytes.buffer).getBigUint64(0, true));
    expect((8 + n) % 8).toBe(0);
    const { tensors, metadata } = parseSafetensors(bytes);
    expect(metadata.step).toBe('12');
    expect(Array.from(tensors.w.data)).toEqual([1, 2, 3, 4]);
    expect(Array.from(tensors.m.data)).toEqual([0.1, 0.2, 0.3]);
    expect(Array.from(tensors.i.data)).toEqual([-7]);
    expect(() => parseSafetensors(bytes.subarray(0, bytes.length - 4), 'ck.safetensors')).toThrow(
      /ck\.safetensors: tensor '.*': data offsets/,
    );
    expect(() => parseSafetensors(new Uint8Array(4), 'x')).toThrow(/truncated/);
  });
});
