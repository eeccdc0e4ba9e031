/**
 * NumPy `.npy` files (format versions 1.0–3.0): read f4, f8, c8, c16 in either byte order and in C or
 * Fortran order; write f8 or c16, C order, version 1.0. Arrays of 1 or 2 dimensions (a 1-D array of
 * length n reads as an n×1 column with `ndim` 1).
 */
import { ParseError } from '../errors.js';
import type { Matrix } from '../linalg/matrix.js';
import { allocFloat64, checkBytes, MAX_DIM, maxBytesOf, type ReadOptions, show } from './limits.js';

export interface ParsedArray {
  matrix: Matrix;
  /** Dimensions in the file (1 or 2). */
  ndim: 1 | 2;
}

const MAGIC = [0x93, 0x4e, 0x55, 0x4d, 0x50, 0x59]; // \x93NUMPY

/**
 * Longest header accepted. NumPy writes a few hundred bytes and itself refuses more than 10 000 by
 * default; 64 KiB is the most a version 1.0 header can hold.
 */
export const MAX_NPY_HEADER_BYTES = 65535;

interface Header {
  descr: string;
  fortran: boolean;
  shape: number[];
}

/**
 * Reads the header, which must be a plain Python dict literal with exactly the keys 'descr' (a
 * string), 'fortran_order' (True or False) and 'shape' (a tuple of integers), in any order, followed
 * by padding. A tiny hand-written parser: nothing is ever evaluated, and anything else — other keys,
 * expressions, calls, escapes in strings, structured dtypes — is refused.
 */
function parseHeader(text: string, file: string): Header {
  let p = 0;
  const fail = (what: string): never => {
    throw new ParseError(
      file,
      `not a valid .npy header: ${what} at character ${p} of ${show(text.trim(), 80)} ` +
        "(expected a dict literal {'descr': ..., 'fortran_order': ..., 'shape': (...)})",
    );
  };
  const ws = () => {
    while (p < text.length && ' \t\r\n'.includes(text[p])) p++;
  };
  const expect = (c: string) => {
    ws();
    if (text[p] !== c) fail(`expected '${c}'`);
    p++;
  };
  const str = (): string => {
    ws();
    const q = text[p];
    if (q !== "'" && q !== '"') fail('expected a string');
    const close = text.indexOf(q, p + 1);
    if (close < 0) fail('unterminated string');
    const v = text.slice(p + 1, close);
    if (v.includes('\\') || v.includes('\n')) fail('escapes are not accepted in strings');
    p = close + 1;
    return v;
  };
  const int = (): number => {
    ws();
    const m = /^\d+L?/.exec(text.slice(p, p + 24));
    if (!m) fail('expected a non-negative integer');
    p += m![0].length;
    const digits = m![0].replace(/L$/, '');
    const v = digits.length > 10 ? Number.POSITIVE_INFINITY : Number(digits);
    if (v > MAX_DIM) fail(`dimension ${show(digits)} is over the largest accepted, ${MAX_DIM}`);
    return v;
  };
  const tuple = (): number[] => {
    expect('(');
    const out: number[] = [];
    ws();
    let comma = false;
    while (text[p] !== ')') {
      if (out.length > 0 && !comma) fail("expected ',' or ')'");
      out.push(int());
      ws();
      comma = text[p] === ',';
      if (comma) p++;
      ws();
      if (p >= text.length) fail('unterminated tuple');
    }
    p++;
    // (3) is the integer 3 in Python, not a tuple; NumPy refuses it too.
    if (out.length === 1 && !comma) fail('a one-element shape needs a trailing comma, as in (3,)');
    return out;
  };
  const seen: Partial<Header> = {};
  expect('{');
  ws();
  while (text[p] !== '}') {
    const key = str();
    expect(':');
    ws();
    if (Object.hasOwn(seen, key)) fail(`key ${show(key)} repeated`);
    if (key === 'descr') {
      if (text[p] === '[')
        throw new ParseError(file, 'structured dtypes are not supported (expected f4, f8, c8 or c16)');
      seen.descr = str();
    } else if (key === 'fortran_order') {
      if (text.startsWith('True', p)) seen.fortran = true;
      else if (text.startsWith('False', p)) seen.fortran = false;
      else fail('fortran_order must be True or False');
      p += seen.fortran ? 4 : 5;
    } else if (key === 'shape') {
      seen.shape = tuple();
    } else {
      fail(`unexpected key ${show(key)}`);
    }
    ws();
    if (text[p] === ',') p++;
    else if (text[p] !== '}') fail("expected ',' or '}'");
    ws();
  }
  p++;
  ws();
  if (p < text.length) fail('unexpected text after the dict');
  if (seen.descr === undefined || seen.fortran === undefined || seen.shape === undefined)
    fail('missing one of descr, fortran_order and shape');
  return seen as Header;
}

const DTYPES: Record<string, { bytes: number; complex: boolean }> = {
  f4: { bytes: 4, complex: false },
  f8: { bytes: 8, complex: false },
  c8: { bytes: 8, complex: true },
  c16: { bytes: 16, complex: true },
};

/**
 * Parses the bytes of a `.npy` file. Everything the header claims is checked against the file and
 * the allocation limit before the matrix is allocated.
 * @param file the name used in error messages.
 * @throws ParseError naming the file and what was expected (bad magic, a header that is not a plain
 * dict literal, unsupported dtype — object arrays included — or rank, data length that disagrees
 * with the shape); SizeLimitError when the matrix would exceed `maxBytes`.
 */
export function parseNpy(bytes: Uint8Array, file = '<npy>', options?: ReadOptions): ParsedArray {
  const limit = maxBytesOf(options);
  if (bytes.length < 10 || MAGIC.some((b, i) => bytes[i] !== b)) {
    throw new ParseError(file, 'not a .npy file (missing the \\x93NUMPY magic string)');
  }
  const major = bytes[6];
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  let headerLen: number;
  let headerStart: number;
  if (major === 1) {
    headerLen = view.getUint16(8, true);
    headerStart = 10;
  } else if (major === 2 || major === 3) {
    if (bytes.length < 12) throw new ParseError(file, 'truncated .npy header');
    headerLen = view.getUint32(8, true);
    headerStart = 12;
  } else {
    throw new ParseError(
      file,
      `unsupported .npy format version ${major}.${bytes[7]} (expected 1.0, 2.0 or 3.0)`,
    );
  }
  if (headerLen > MAX_NPY_HEADER_BYTES) {
    throw new ParseError(
      file,
      `.npy header of ${headerLen} bytes announced; riesz reads headers up to ${MAX_NPY_HEADER_BYTES} bytes`,
    );
  }
  if (headerStart + headerLen > bytes.length) {
    throw new ParseError(
      file,
      `truncated .npy header: ${headerLen} bytes announced, ${bytes.length - headerStart} present`,
    );
  }
  const header = parseHeader(
    new TextDecoder().decode(bytes.subarray(headerStart, headerStart + headerLen)),
    file,
  );
  const order = header.descr[0] ?? '';
  const code = header.descr.slice(1);
  if (code === 'O') {
    throw new ParseError(
      file,
      `object arrays (${show(header.descr)}) are refused: they hold pickled Python objects, which riesz never loads`,
    );
  }
  const dtype = Object.hasOwn(DTYPES, code) ? DTYPES[code] : undefined;
  if (!dtype || !'<>|='.includes(order) || order === '') {
    throw new ParseError(file, `unsupported dtype ${show(header.descr)} (expected f4, f8, c8 or c16)`);
  }
  const little = order !== '>';
  if (header.shape.length < 1 || header.shape.length > 2) {
    throw new ParseError(file, `expected a 1-D or 2-D array, got shape (${header.shape.join(', ')})`);
  }
  const rows = header.shape[0];
  const cols = header.shape.length === 2 ? header.shape[1] : 1;
  const count = rows * cols;
  const dataStart = headerStart + headerLen;
  const need = count * dtype.bytes;
  const found = bytes.length - dataStart;
  const shapeText = `shape (${header.shape.join(', ')}) of ${header.descr}`;
  if (found < need)
    throw new ParseError(file, `truncated data: ${shapeText} needs ${need} bytes, found ${found}`);
  if (found > need) {
    throw new ParseError(
      file,
      `data length disagrees with the header: ${shapeText} needs ${need} bytes, the file has ${found} after the header`,
    );
  }
  const what = `a ${rows}×${cols} ${dtype.complex ? 'complex' : 'real'} matrix (${shapeText})`;
  checkBytes(file, what, count * 8 * (dtype.complex ? 2 : 1), limit);
  const M: Matrix = {
    rows,
    cols,
    re: allocFloat64(file, what, count, limit),
    im: dtype.complex ? allocFloat64(file, what, count, limit) : null,
  };
  const scalar = dtype.complex ? dtype.bytes / 2 : dtype.bytes;
  const read = (offset: number) =>
    scalar === 4 ? view.getFloat32(dataStart + offset, little) : view.getFloat64(dataStart + offset, little);
  for (let k = 0; k < count; k++) {
    // File element k sits at (i, j) = C order: (k / cols, k % cols); Fortran: (k % rows, k / rows).
    const i = header.fortran ? k % rows : Math.floor(k / cols);
    const j = header.fortran ? Math.floor(k / rows) : k % cols;
    const dst = i * cols + j;
    if (dtype.complex) {
      M.re[dst] = read(k * dtype.bytes);
      M.im![dst] = read(k * dtype.bytes + scalar);
    } else {
      M.re[dst] = read(k * dtype.bytes);
    }
  }
  return { matrix: M, ndim: header.shape.length as 1 | 2 };
}

/**
 * The bytes of a `.npy` file (version 1.0, little-endian, C order) holding A as f8 or, when complex,
 * c16. `ndim` 1 writes a column vector as a 1-D array.
 */
export function serializeNpy(A: Matrix, ndim: 1 | 2 = 2): Uint8Array {
  const complex = A.im !== null;
  const shape = ndim === 1 ? `(${A.rows * A.cols},)` : `(${A.rows}, ${A.cols})`;
  let header = `{'descr': '<${complex ? 'c16' : 'f8'}', 'fortran_order': False, 'shape': ${shape}, }`;
  // Pad with spaces so that magic + version + length + header + '\n' is a multiple of 64 bytes.
  const total = 10 + header.length + 1;
  header += `${' '.repeat((64 - (total % 64)) % 64)}\n`;
  const elemBytes = complex ? 16 : 8;
  const out = new Uint8Array(10 + header.length + A.re.length * elemBytes);
  out.set(MAGIC, 0);
  out[6] = 1;
  out[7] = 0;
  const view = new DataView(out.buffer);
  view.setUint16(8, header.length, true);
  out.set(new TextEncoder().encode(header), 10);
  const start = 10 + header.length;
  for (let k = 0; k < A.re.length; k++) {
    view.setFloat64(start + k * elemBytes, A.re[k], true);
    if (complex) view.setFloat64(start + k * elemBytes + 8, A.im![k], true);
  }
  return out;
}
