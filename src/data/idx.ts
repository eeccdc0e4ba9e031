/**
 * The IDX format of the MNIST files: a big-endian header (magic: 0, 0, type 0x08 = unsigned byte,
 * number of dimensions), one 32-bit size per dimension, then the data.
 */
import { ParseError } from '../errors.js';

export interface IdxArray {
  shape: number[];
  data: Uint8Array;
}

/** @throws ParseError naming the file and what was expected. */
export function parseIdx(bytes: Uint8Array, file = '<idx>'): IdxArray {
  if (bytes.length < 4 || bytes[0] !== 0 || bytes[1] !== 0)
    throw new ParseError(file, 'not an IDX file (bad magic number)');
  if (bytes[2] !== 0x08)
    throw new ParseError(
      file,
      `unsupported IDX element type 0x${bytes[2].toString(16)} (expected 0x08, unsigned bytes)`,
    );
  const ndim = bytes[3];
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  if (bytes.length < 4 + 4 * ndim) throw new ParseError(file, 'truncated IDX header');
  const shape = Array.from({ length: ndim }, (_, i) => view.getUint32(4 + 4 * i, false));
  const count = shape.reduce((a, b) => a * b, 1);
  const start = 4 + 4 * ndim;
  if (bytes.length - start < count) {
    throw new ParseError(
      file,
      `truncated: shape ${shape.join('×')} needs ${count} bytes of data, found ${bytes.length - start}`,
    );
  }
  return { shape, data: bytes.subarray(start, start + count) };
}
