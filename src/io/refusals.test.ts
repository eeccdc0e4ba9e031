/**
 * The readers' guarantees for hostile or broken files: each refusal is a ParseError (or its
 * SizeLimitError subclass) that names the file, raised before any large allocation.
 */
import { execFileSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { ParseError, SizeLimitError, UsageError } from '../errors.js';
import { matrix } from '../linalg/matrix.js';
import { parseCsv } from './csv.js';
import { readMatrixFile } from './files.js';
import { DEFAULT_MAX_BYTES, MAX_BYTES_ENV, maxBytesOf, parseByteCount } from './limits.js';
import { parseMatrixMarket } from './mtx.js';
import { parseNpy, serializeNpy } from './npy.js';
import { parseSafetensors, serializeSafetensors } from './safetensors.js';

const fixtures = join(import.meta.dirname, '../../test/fixtures');
const enc = new TextEncoder();

/** A .npy file (version 1.0 or 2.0) with the given header text and data bytes. */
function npy(header: string, dataBytes: number, version = 1): Uint8Array {
  const pre = version === 1 ? 10 : 12;
  const h = enc.encode(header);
  const out = new Uint8Array(pre + h.length + dataBytes);
  out.set([0x93, 0x4e, 0x55, 0x4d, 0x50, 0x59, version, 0], 0);
  const view = new DataView(out.buffer);
  if (version === 1) view.setUint16(8, h.length, true);
  else view.setUint32(8, h.length, true);
  out.set(h, pre);
  return out;
}
const f8 = (shape: string, extra = '') =>
  `{'descr': '<f8', 'fortran_order': False, 'shape': ${shape}, ${extra}}\n`;

/** A safetensors file from a raw header text and a data region. */
function safetensors(header: string, data = new Uint8Array(0)): Uint8Array {
  const h = enc.encode(header);
  const out = new Uint8Array(8 + h.length + data.length);
  new DataView(out.buffer).setBigUint64(0, BigInt(h.length), true);
  out.set(h, 8);
  out.set(data, 8 + h.length);
  return out;
}

function thrown(f: () => unknown): Error {
  try {
    f();
  } catch (e) {
    return e as Error;
  }
  throw new Error('expected a throw');
}

afterEach(() => {
  delete process.env[MAX_BYTES_ENV];
});

describe('the allocation limit', () => {
  it('defaults to 2^31 bytes and is overridden by the option, then by RIESZ_MAX_BYTES', () => {
    expect(maxBytesOf()).toBe(DEFAULT_MAX_BYTES);
    expect(DEFAULT_MAX_BYTES).toBe(2 ** 31);
    process.env[MAX_BYTES_ENV] = '4GiB';
    expect(maxBytesOf()).toBe(4 * 2 ** 30);
    expect(maxBytesOf({ maxBytes: 100 })).toBe(100);
    expect(parseByteCount('512 MiB')).toBe(2 ** 29);
    expect(parseByteCount('1234')).toBe(1234);
    expect(parseByteCount('lots')).toBeNull();
  });
  it('refuses a bad RIESZ_MAX_BYTES or maxBytes with a UsageError naming it', () => {
    process.env[MAX_BYTES_ENV] = 'lots';
    expect(() => parseCsv('1\n')).toThrow(UsageError);
    expect(() => parseCsv('1\n')).toThrow(/RIESZ_MAX_BYTES='lots' is not a byte count/);
    delete process.env[MAX_BYTES_ENV];
    expect(() => parseCsv('1\n', 'x.csv', { maxBytes: -1 })).toThrow(/maxBytes must be a positive/);
  });
  it('says the limit and how to raise it, and RIESZ_MAX_BYTES applies to every reader', () => {
    const bytes = serializeNpy(matrix([[1, 2, 3, 4]]));
    process.env[MAX_BYTES_ENV] = '16';
    const e = thrown(() => parseNpy(bytes, 'big.npy'));
    expect(e).toBeInstanceOf(SizeLimitError);
    expect(e).toBeInstanceOf(ParseError);
    expect(e.message).toMatch(
      /^big\.npy: a 1×4 real matrix .* needs 32 bytes, over riesz's limit of 16 bytes per array; raise it with the maxBytes option or the RIESZ_MAX_BYTES environment variable$/,
    );
    expect((e as SizeLimitError).limit).toBe(16);
    expect(() => parseCsv('1,2,3\n', 'x.csv')).toThrow(SizeLimitError);
    expect(() =>
      parseMatrixMarket('%%MatrixMarket matrix array real general\n1 3\n1\n2\n3\n', 'x.mtx'),
    ).toThrow(SizeLimitError);
    delete process.env[MAX_BYTES_ENV];
    expect(parseNpy(bytes, 'big.npy').matrix.cols).toBe(4);
  });
});

describe('.npy refusals', () => {
  it('refuses a huge shape with too little data as truncated, before allocating', () => {
    expect(() => parseNpy(npy(f8('(200000, 200000)'), 16), 'h.npy')).toThrow(
      /h\.npy: truncated data: shape \(200000, 200000\) of <f8 needs 320000000000 bytes, found 16/,
    );
  });
  it('refuses a matrix over the allocation limit even when the data is all there', () => {
    const bytes = npy(f8('(64, 64)'), 64 * 64 * 8);
    expect(() => parseNpy(bytes, 'm.npy', { maxBytes: 1024 })).toThrow(SizeLimitError);
    expect(() => parseNpy(bytes, 'm.npy', { maxBytes: 1024 })).toThrow(
      /m\.npy: a 64×64 real matrix .*32768 bytes/,
    );
    expect(parseNpy(bytes, 'm.npy').matrix.rows).toBe(64);
  });
  it('refuses negative and overflowing dimensions', () => {
    expect(() => parseNpy(npy(f8('(-1, 3)'), 0), 'n.npy')).toThrow(
      /n\.npy: not a valid \.npy header: expected a non-negative integer/,
    );
    expect(() => parseNpy(npy(f8('(99999999999, 1)'), 0), 'o.npy')).toThrow(
      /dimension '99999999999' is over the largest accepted, 2147483647/,
    );
    expect(() => parseNpy(npy(f8('(1e3,)'), 0), 'e.npy')).toThrow(/e\.npy: not a valid \.npy header/);
  });
  it('refuses data longer than the shape says', () => {
    expect(() => parseNpy(npy(f8('(2,)'), 24), 'l.npy')).toThrow(
      /l\.npy: data length disagrees with the header: shape \(2\) of <f8 needs 16 bytes, the file has 24/,
    );
  });
  it('refuses object arrays without touching pickle', () => {
    const h = "{'descr': '|O', 'fortran_order': False, 'shape': (2,), }\n";
    expect(() => parseNpy(npy(h, 16), 'obj.npy')).toThrow(
      /obj\.npy: object arrays \('\|O'\) are refused: they hold pickled/,
    );
  });
  it('refuses unsupported and structured dtypes', () => {
    expect(() => readMatrixFile(join(fixtures, 'i8_unsupported.npy'))).toThrow(/unsupported dtype '<i8'/);
    const u = "{'descr': '<U5', 'fortran_order': False, 'shape': (1,), }";
    expect(() => parseNpy(npy(u, 20), 'u.npy')).toThrow(/u\.npy: unsupported dtype '<U5'/);
    const s = "{'descr': [('a', '<f8')], 'fortran_order': False, 'shape': (1,), }";
    expect(() => parseNpy(npy(s, 8), 's.npy')).toThrow(/s\.npy: structured dtypes are not supported/);
  });
  it.each([
    ['an extra key', f8('(2,)', "'__class__': 1, ")],
    ['a call', "{'descr': '<f8', 'fortran_order': bool(0), 'shape': (2,)}"],
    ['an expression in the shape', "{'descr': '<f8', 'fortran_order': False, 'shape': (1+1,)}"],
    ['a generator', "{'descr': '<f8', 'fortran_order': False, 'shape': tuple(range(2))}"],
    ['dict()', "dict(descr='<f8', fortran_order=False, shape=(2,))"],
    ['a missing key', "{'descr': '<f8', 'shape': (2,)}"],
    ['a repeated key', "{'descr': '<f8', 'descr': '<f8', 'fortran_order': False, 'shape': (2,)}"],
    ['(2) that is not a tuple', "{'descr': '<f8', 'fortran_order': False, 'shape': (2)}"],
    ['an escape in a string', "{'descr': '<f\\x38', 'fortran_order': False, 'shape': (2,)}"],
    ['text after the dict', `${f8('(2,)')} import os`],
    ['an unterminated dict', "{'descr': '<f8', 'fortran_order': False, 'shape': (2,)"],
  ])('refuses a header that is not a plain dict literal: %s', (_, header) => {
    expect(() => parseNpy(npy(header, 16), 'lit.npy')).toThrow(/^lit\.npy: not a valid \.npy header/);
  });
  it('accepts the literal in any key order, with double quotes, Python 2 longs and spacing', () => {
    const h = '{ "shape" : ( 1 , 2L , ) , "fortran_order": True, "descr": "<f8" }  \n';
    expect(parseNpy(npy(h, 16), 'ok.npy').matrix.cols).toBe(2);
  });
  it('refuses a header length over 64 KiB before decoding it', () => {
    const bytes = npy(f8('(1,)'), 8, 2);
    new DataView(bytes.buffer).setUint32(8, 2 ** 31, true);
    expect(() => parseNpy(bytes, 'v2.npy')).toThrow(
      /v2\.npy: \.npy header of 2147483648 bytes announced; riesz reads headers up to 65535/,
    );
  });
  it('escapes control bytes and shortens long text when quoting the file', () => {
    const h = `{'descr': '\x1b[31m${'x'.repeat(200)}', 'fortran_order': False, 'shape': (1,)}`;
    const e = thrown(() => parseNpy(npy(h, 8), 'esc.npy'));
    expect(e.message).not.toContain('\x1b');
    expect(e.message).toContain('\\u001b');
    expect(e.message.length).toBeLessThan(200);
  });
});

describe('Matrix Market refusals', () => {
  const coo = (size: string, body = '1 1 1\n') =>
    `%%MatrixMarket matrix coordinate real general\n${size}\n${body}`;
  it('refuses a 3e9 × 3e9 coordinate size line as an overflowing dimension', () => {
    expect(() => readMatrixFile(join(fixtures, 'fuzz/mtx-huge-coordinate.mtx'))).toThrow(
      /mtx-huge-coordinate\.mtx: line 2: size 3000000000×3000000000 is over the largest dimension, 2147483647/,
    );
  });
  it('refuses a sparse file whose dense matrix exceeds the limit, before allocating', () => {
    const e = thrown(() => parseMatrixMarket(coo('100000 100000 1'), 's.mtx'));
    expect(e).toBeInstanceOf(SizeLimitError);
    expect(e.message).toMatch(
      /^s\.mtx: a dense 100000×100000 real matrix \(size line 2\) needs 80000000000 bytes \(74\.5 GiB\), over riesz's limit of 2147483648 bytes \(2 GiB\) per array; raise it/,
    );
    // Raised past what any machine can allocate (80 PB), the refusal is still a ParseError.
    expect(() =>
      parseMatrixMarket(coo('100000000 100000000 1'), 's.mtx', { maxBytes: Number.POSITIVE_INFINITY }),
    ).toThrow(/s\.mtx: cannot allocate 80000000000000000 bytes/);
  });
  it('refuses a 200000 × 200000 array whose values are not in the file, before allocating', () => {
    expect(() => readMatrixFile(join(fixtures, 'fuzz/mtx-huge-array.mtx'))).toThrow(
      /mtx-huge-array\.mtx: truncated: the size line \(line 2\) announces 40000000000 values, but only 2 bytes follow it/,
    );
  });
  it('refuses negative, non-integer and overflowing sizes', () => {
    expect(() => parseMatrixMarket(coo('-1 2 1'), 'n.mtx')).toThrow(
      /n\.mtx: line 2: expected 3 non-negative integers/,
    );
    expect(() => parseMatrixMarket(coo('1e3 2 1'), 'n.mtx')).toThrow(
      /line 2: expected 3 non-negative integers/,
    );
    expect(() => parseMatrixMarket(coo('2 2 1 7'), 'n.mtx')).toThrow(
      /line 2: expected 3 non-negative integers/,
    );
    expect(() => parseMatrixMarket(coo('99999999999999999999 1 1'), 'n.mtx')).toThrow(
      /over the largest dimension/,
    );
  });
  it('refuses an entry count the file cannot hold', () => {
    expect(() => parseMatrixMarket(coo('2 2 1000000000'), 'c.mtx')).toThrow(
      /c\.mtx: truncated: the size line \(line 2\) announces 1000000000 entries, but only 6 bytes follow it/,
    );
  });
});

describe('CSV refusals', () => {
  it('names the line, column and data row of a text cell', () => {
    expect(() => parseCsv('a,b\n1,2\n3,oops\n', 'd.csv')).toThrow(
      /^d\.csv: line 3, column 2: 'oops' is not a number \(data row 2\)$/,
    );
    expect(() => parseCsv('1;2\n3;;4\n', 'd.csv')).toThrow(/line 2, column 2: '' is not a number/);
  });
  it('allows one header line of names, not two', () => {
    expect(parseCsv('a,b\n1,2\n').rows).toBe(1);
    expect(() => parseCsv('a,b\nc,d\n1,2\n', 'h.csv')).toThrow(
      /h\.csv: line 2, column 1: 'c' is not a number/,
    );
  });
  it('refuses more entries than the limit allows while reading, not after', () => {
    const text = `${'1,'.repeat(999)}1\n`;
    const e = thrown(() => parseCsv(text, 'w.csv', { maxBytes: 4096 }));
    expect(e).toBeInstanceOf(SizeLimitError);
    expect(e.message).toMatch(
      /^w\.csv: 513 entries \(line 1\) needs 4104 bytes \(4\.01 KiB\), over riesz's limit of 4096 bytes \(4 KiB\)/,
    );
    expect(parseCsv(text, 'w.csv', { maxBytes: 8000 }).cols).toBe(1000);
  });
  it('reads raw bytes line by line and drops a byte-order mark', () => {
    const bytes = enc.encode('\ufeffx,y\r\n1,2\r\n3,4\r\n');
    expect(Array.from(parseCsv(bytes, 'bom.csv').re)).toEqual([1, 2, 3, 4]);
  });
});

describe('safetensors refusals', () => {
  const entry = (o: Record<string, unknown>) =>
    JSON.stringify({ t: { dtype: 'F32', shape: [2], data_offsets: [0, 8], ...o } });
  it('refuses a header length over 16 MiB before reading it', () => {
    const bytes = safetensors('{}');
    new DataView(bytes.buffer).setBigUint64(0, 2n ** 40n, true);
    expect(() => parseSafetensors(bytes, 'h.safetensors')).toThrow(
      /h\.safetensors: header of 1099511627776 bytes announced; riesz reads safetensors headers up to 16777216 bytes \(raise it with the maxHeaderBytes option\)/,
    );
    const big = safetensors(`{"__metadata__": {"x": "${'a'.repeat(2000)}"}}`);
    expect(() => parseSafetensors(big, 'h.safetensors', { maxHeaderBytes: 1024 })).toThrow(
      /up to 1024 bytes/,
    );
    expect(() => parseSafetensors(big, 'h.safetensors', { maxHeaderBytes: 1.5 })).toThrow(UsageError);
  });
  it('refuses deep nesting before JSON.parse', () => {
    expect(() => parseSafetensors(new Uint8Array(0), 'x')).toThrow(/truncated/);
    expect(() => parseSafetensors(safetensors(`${'['.repeat(9)}${']'.repeat(9)}`), 'd.safetensors')).toThrow(
      /d\.safetensors: the header nests deeper than 8 levels/,
    );
    // Brackets inside strings do not count.
    const ok = safetensors(JSON.stringify({ __metadata__: { s: '[[[[[[[[[[[[' } }));
    expect(parseSafetensors(ok).metadata.s).toBe('[[[[[[[[[[[[');
  });
  it.each([
    ['not JSON', '{"a": ', /the header is not valid JSON/],
    ['null', 'null', /the header is not a JSON object/],
    ['a list', '[1, 2]', /the header is not a JSON object/],
    ['metadata that is not strings', '{"__metadata__": {"a": 1}}', /__metadata__ entry 'a' is not a string/],
    ['an entry that is not an object', '{"t": 3}', /tensor 't': the entry is not an object/],
    ['a missing dtype', entry({ dtype: undefined }), /tensor 't': missing dtype/],
    [
      'an unsupported dtype',
      entry({ dtype: 'BF16' }),
      /tensor 't': unsupported dtype 'BF16' \(expected F32, F64 or I32\)/,
    ],
    ['an unknown dtype', entry({ dtype: 'F128' }), /tensor 't': unknown dtype 'F128'/],
    ['a negative dimension', entry({ shape: [-2] }), /shape is not a list of non-negative integers/],
    ['a fractional dimension', entry({ shape: [1.5] }), /shape is not a list of non-negative integers/],
    ['reversed offsets', entry({ data_offsets: [8, 0] }), /data offsets \[8, 0\] do not fit/],
    [
      'offsets past the file',
      entry({ data_offsets: [0, 16], shape: [4] }),
      /do not fit .* \(8 data bytes; truncated\?\)/,
    ],
    [
      'offsets that disagree with the shape',
      entry({ shape: [3] }),
      /data offsets \[0, 8\] do not fit shape \[3\]/,
    ],
    ['three offsets', entry({ data_offsets: [0, 4, 8] }), /data_offsets is not a pair/],
  ])('refuses a header with %s', (_, header, message) => {
    expect(() => parseSafetensors(safetensors(header, new Uint8Array(8)), 'bad.safetensors')).toThrow(
      message,
    );
  });
  it('refuses gaps, overlaps and trailing bytes in the data region', () => {
    const two = (a: [number, number], b: [number, number], n: number) =>
      safetensors(
        JSON.stringify({
          a: { dtype: 'I32', shape: [1], data_offsets: a },
          b: { dtype: 'I32', shape: [1], data_offsets: b },
        }),
        new Uint8Array(n),
      );
    expect(parseSafetensors(two([0, 4], [4, 8], 8)).tensors.b.data.length).toBe(1);
    expect(() => parseSafetensors(two([0, 4], [0, 4], 8), 'o.st')).toThrow(
      /o\.st: tensor 'b' starts at data byte 0, expected 4 \(gap or overlap/,
    );
    expect(() => parseSafetensors(two([0, 4], [8, 12], 12), 'g.st')).toThrow(
      /tensor 'b' starts at data byte 8, expected 4/,
    );
    expect(() => parseSafetensors(two([0, 4], [4, 8], 12), 't.st')).toThrow(
      /t\.st: the tensors cover 8 of the 12 data bytes/,
    );
  });
  it('refuses a tensor over the allocation limit', () => {
    const bytes = serializeSafetensors({ w: { dtype: 'F64', shape: [32], data: new Float64Array(32) } });
    expect(() => parseSafetensors(bytes, 'w.st', { maxBytes: 100 })).toThrow(SizeLimitError);
    expect(() => parseSafetensors(bytes, 'w.st', { maxBytes: 100 })).toThrow(
      /w\.st: tensor 'w' of shape \[32\] F64 needs 256 bytes/,
    );
  });
  it('treats a tensor named __proto__ as a name, not as a prototype', () => {
    const bytes = serializeSafetensors({
      ['__proto__']: { dtype: 'I32', shape: [1], data: Int32Array.of(5) },
    });
    const { tensors } = parseSafetensors(bytes);
    expect(Object.hasOwn(tensors, '__proto__')).toBe(true);
    expect(Object.getPrototypeOf(tensors)).toBeNull();
  });
  it('refuses a header that is not UTF-8', () => {
    const bytes = safetensors('{"a": 1}');
    bytes[10] = 0xff;
    expect(() => parseSafetensors(bytes, 'u.st')).toThrow(/u\.st: the header is not valid UTF-8/);
  });
});

describe('file refusals', () => {
  it('refuses a file larger than the limit before reading it', () => {
    const dir = mkdtempSync(join(tmpdir(), 'riesz-limit-'));
    const path = join(dir, 'big.csv');
    writeFileSync(path, '1,2,3,4\n'.repeat(100));
    expect(() => readMatrixFile(path, { maxBytes: 100 })).toThrow(
      /big\.csv: the file needs 800 bytes, over riesz's limit of 100 bytes per array; raise it/,
    );
    expect(readMatrixFile(path).matrix.rows).toBe(100);
  });
  it('refuses what is not a regular file (a folder, which could also be a FIFO or a device)', () => {
    const dir = mkdtempSync(join(tmpdir(), 'riesz-limit-'));
    mkdirSync(join(dir, 'folder.csv'));
    expect(() => readMatrixFile(join(dir, 'folder.csv'))).toThrow(/folder\.csv: not a regular file/);
  });
  it('refuses a FIFO without blocking on it', () => {
    const dir = mkdtempSync(join(tmpdir(), 'riesz-limit-'));
    const fifo = join(dir, 'pipe.npy');
    try {
      execFileSync('mkfifo', [fifo]);
    } catch {
      return; // no mkfifo on this platform
    }
    expect(() => readMatrixFile(fifo)).toThrow(/pipe\.npy: not a regular file/);
  });
});
