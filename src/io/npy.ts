/**
 * NumPy `.npy` files (format versions 1.0–3.0): read f4, f8, c8, c16 in either byte order and in C or
 * Fortran order; write f8 or c16, C order, version 1.0. Arrays of 1 or 2 dimensions (a 1-D array of
 * length n reads as an n×1 column with `ndim` 1).
 */
import { ParseError } from '../errors.js';
import { type Matrix, zeros } from '../linalg/matrix.js';

export interface ParsedArray {
  matrix: Matrix;
  /** Dimensions in the file (1 or 2). */
  ndim: 1 | 2;
}

const MAGIC = [0x93, 0x4e, 0x55, 0x4d, 0x50, 0x59]; // \x93NUMPY

interface Header {
  descr: string;
  fortran: boolean;
  shape: number[];
}

function parseHeader(text: string, file: string): Header {
  const descr = /'descr'\s*:\s*'([^']*)'/.exec(text)?.[1];
  const fortran = /'fortran_order'\s*:\s*(True|False)/.exec(text)?.[1];
  const shapeText = /'shape'\s*:\s*\(([^)]*)\)/.exec(text)?.[1];
  if (descr === undefined || fortran === undefined || shapeText === undefined) {
    throw new ParseError(
      file,
      `not a valid .npy header (expected descr, fortran_order and shape): ${text.trim()}`,
    );
  }
  const shape = shapeText
    .split(',')
    .map((s) => s.trim())
    .filter((s) => s.length > 0)
    .map((s) => {
      const v = Number(s.replace(/L$/, ''));
      if (!Number.isInteger(v) || v < 0)
        throw new ParseError(file, `bad dimension '${s}' in shape (${shapeText})`);
      return v;
    });
  return { descr, fortran: fortran === 'True', shape };
}

const DTYPES: Record<string, { bytes: number; complex: boolean }> = {
  f4: { bytes: 4, complex: false },
  f8: { bytes: 8, complex: false },
  c8: { bytes: 8, complex: true },
  c16: { bytes: 16, complex: true },
};

/**
 * Parses the bytes of a `.npy` file.
 * @param file the name used in error messages.
 * @throws ParseError naming the file and what was expected (bad magic, unsupported dtype or rank,
 * truncated data).
 */
export function parseNpy(bytes: Uint8Array, file = '<npy>'): ParsedArray {
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
  const order = header.descr[0];
  const code = header.descr.slice(1);
  const dtype = DTYPES[code];
  if (!dtype || !'<>|='.includes(order)) {
    throw new ParseError(file, `unsupported dtype '${header.descr}' (expected f4, f8, c8 or c16)`);
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
  if (bytes.length - dataStart < need) {
    throw new ParseError(
      file,
      `truncated data: shape (${header.shape.join(', ')}) of ${header.descr} needs ${need} bytes, found ${bytes.length - dataStart}`,
    );
  }
  const M = zeros(rows, cols, dtype.complex);
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
