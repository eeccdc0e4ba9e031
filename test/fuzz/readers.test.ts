/**
 * Fuzzing every file reader: random bytes, damaged valid files and generated headers. The property
 * is the readers' contract — return a result or throw a RieszError, nothing else — under a 1 MiB
 * allocation cap so that mutated sizes stay cheap. `npm run fuzz` raises the case counts (FUZZ_RUNS).
 */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import fc from 'fast-check';
import { describe, it, vi } from 'vitest';
import { parseCsv } from '../../src/io/csv.js';
import { parseMatrixMarket } from '../../src/io/mtx.js';
import { parseNpy, serializeNpy } from '../../src/io/npy.js';
import { parseSafetensors, serializeSafetensors } from '../../src/io/safetensors.js';
import { matrix } from '../../src/linalg/matrix.js';
import { check, mutated, randomBytes, returnsOrThrowsTyped, TIMEOUT } from './mutate.js';

const fixtures = join(import.meta.dirname, '../fixtures');
const enc = new TextEncoder();
const opts = { maxBytes: 2 ** 20 };
vi.setConfig({ testTimeout: TIMEOUT });

describe('fuzzing .npy', () => {
  const seeds: Uint8Array[] = [
    'f8_c',
    'f8_fortran',
    'f4_c',
    'f8_bigendian',
    'c16_c',
    'c8_fortran',
    'f8_1d',
  ].map((n) => new Uint8Array(readFileSync(join(fixtures, `${n}.npy`))));
  seeds.push(serializeNpy(matrix([[1, 2]])), serializeNpy(matrix([[[1, 2]]]), 1));
  const read = returnsOrThrowsTyped((b) => parseNpy(b, 'fuzz.npy', opts));
  it('damaged NumPy files', () => check(mutated(seeds), read, 1500));
  it('random bytes after the magic', () => {
    const magic = seeds[0].subarray(0, 10);
    return check(randomBytes([magic, seeds[0].subarray(0, 40)]), read, 400);
  });
  it('generated headers: any key, value and shape', () => {
    const value = fc.oneof(
      fc.constantFrom(
        "'<f8'",
        "'|O'",
        "'>c16'",
        "'<i8'",
        "''",
        'True',
        'False',
        'None',
        '[]',
        "[('a', '<f8')]",
      ),
      fc
        .array(fc.oneof(fc.nat(), fc.integer(), fc.constant(2 ** 40), fc.double()), { maxLength: 4 })
        .map((xs) => `(${xs.join(', ')}${xs.length === 1 ? ',' : ''})`),
      fc.string({ maxLength: 12 }),
    );
    const key = fc.constantFrom("'descr'", "'fortran_order'", "'shape'", "'x'", '"shape"', 'descr');
    const header = fc
      .array(fc.tuple(key, value), { maxLength: 5 })
      .map((kv) => `{${kv.map(([k, v]) => `${k}: ${v}`).join(', ')}}\n`);
    const file = fc.tuple(header, fc.nat(64)).map(([h, extra]) => {
      const hb = enc.encode(h);
      const bytes = new Uint8Array(10 + hb.length + extra);
      bytes.set([0x93, 0x4e, 0x55, 0x4d, 0x50, 0x59, 1, 0], 0);
      new DataView(bytes.buffer).setUint16(8, hb.length, true);
      bytes.set(hb, 10);
      return bytes;
    });
    return check(file, read, 600);
  });
});

describe('fuzzing Matrix Market', () => {
  const texts = [
    '%%MatrixMarket matrix array real general\n% comment\n2 3\n1.5\n4\n-2\n5.5\n3.25\n-6.75\n',
    '%%MatrixMarket matrix coordinate real symmetric\n3 3 3\n1 1 2\n2 1 1\n3 3 2\n',
    '%%MatrixMarket matrix coordinate complex hermitian\n2 2 3\n1 1 2 0\n2 1 1 1\n2 2 3 0\n',
    '%%MatrixMarket matrix coordinate pattern general\n2 2 1\n1 2\n',
    '%%MatrixMarket matrix array complex skew-symmetric\n3 3\n1 2\n3 4\n5 6\n',
  ];
  const seeds = texts.map((t) => enc.encode(t));
  const readBytes = returnsOrThrowsTyped((b) => parseMatrixMarket(b, 'fuzz.mtx', opts));
  const readText = returnsOrThrowsTyped((b) =>
    parseMatrixMarket(new TextDecoder().decode(b), 'fuzz.mtx', opts),
  );
  it('damaged files, as bytes', () => check(mutated(seeds), readBytes, 1200));
  it('damaged files, as text', () => check(mutated(seeds), readText, 400));
  it('random bytes after a banner', () => {
    const banners = [
      '%%MatrixMarket matrix coordinate real general\n',
      '%%MatrixMarket matrix array complex general\n',
    ];
    return check(randomBytes(banners.map((b) => enc.encode(b))), readBytes, 400);
  });
});

describe('fuzzing CSV', () => {
  const texts = [
    'a,b,c\n1.5,-2,3.25\n4, 5.5, -6.75\n',
    '1.5+0.5j;-2+1j\n4+2j;5.5\n',
    '# c\n2j (1-1e-1j)\n\n3 4\n',
  ];
  const seeds = texts.map((t) => enc.encode(t));
  const read = returnsOrThrowsTyped((b) => parseCsv(b, 'fuzz.csv', opts));
  it('damaged files', () => check(mutated(seeds), read, 1200));
  it('random bytes', () => check(randomBytes([enc.encode('1,2\n')]), read, 400));
  it('random text made of number-like pieces', () => {
    const piece = fc.constantFrom(
      '1',
      '-2.5e3',
      'j',
      '+',
      'nan',
      'inf',
      ',',
      ';',
      ' ',
      '\n',
      '(',
      ')',
      'e',
      '#',
    );
    const text = fc.array(piece, { maxLength: 60 }).map((ps) => ps.join(''));
    return check(text, (t) => read(enc.encode(t)), 600);
  });
});

describe('fuzzing safetensors', () => {
  const seeds = [
    serializeSafetensors(
      {
        w: { dtype: 'F32', shape: [2, 2], data: Float32Array.of(1, 2, 3, 4) },
        m: { dtype: 'F64', shape: [3], data: Float64Array.of(0.1, 0.2, 0.3) },
        i: { dtype: 'I32', shape: [1], data: Int32Array.of(-7) },
      },
      { step: '12', note: '[{"nested": true}]' },
    ),
    serializeSafetensors({ e: { dtype: 'F32', shape: [0, 3], data: new Float32Array(0) } }),
  ];
  const read = returnsOrThrowsTyped((b) => parseSafetensors(b, 'fuzz.safetensors', opts));
  const withHeader = (text: string, data: Uint8Array) => {
    const h = enc.encode(text);
    const out = new Uint8Array(8 + h.length + data.length);
    new DataView(out.buffer).setBigUint64(0, BigInt(h.length), true);
    out.set(h, 8);
    out.set(data, 8 + h.length);
    return out;
  };
  it('damaged files', () => check(mutated(seeds), read, 1200));
  it('random bytes', () => check(randomBytes([seeds[0].subarray(0, 8)]), read, 400));
  it('random JSON headers', () => {
    const file = fc.tuple(fc.json({ maxDepth: 12 }), fc.uint8Array({ maxLength: 64 }));
    return check(file, ([j, data]) => read(withHeader(j, data)), 600);
  });
  it('generated tensor tables: any dtype, shape and offsets', () => {
    const num = fc.oneof(fc.nat(64), fc.integer(), fc.constant(2 ** 53), fc.constant(-1), fc.double());
    const entry = fc.record({
      dtype: fc.oneof(fc.constantFrom('F32', 'F64', 'I32', 'BF16', 'U8', ''), fc.anything()),
      shape: fc.oneof(fc.array(num, { maxLength: 3 }), fc.anything()),
      data_offsets: fc.oneof(fc.array(num, { minLength: 2, maxLength: 2 }), fc.anything()),
    });
    const names = fc.constantFrom('a', 'b', '__proto__', '__metadata__', 'constructor', '');
    const header = fc.dictionary(names, fc.oneof(entry, fc.anything()), { maxKeys: 4 });
    const file = fc.tuple(header, fc.uint8Array({ maxLength: 64 }));
    return check(file, ([h, data]) => read(withHeader(JSON.stringify(h), data)), 800);
  });
});
