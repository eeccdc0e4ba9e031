/**
 * The safetensors format: an 8-byte little-endian header length N, a JSON header of N bytes mapping
 * each tensor's name to {dtype, shape, data_offsets} (plus an optional "__metadata__" map of
 * strings), then the raw little-endian tensor bytes.
 */
import { ParseError } from '../errors.js';

export type SafeDtype = 'F32' | 'F64' | 'I32';
export type SafeData = Float32Array | Float64Array | Int32Array;

export interface SafeTensor {
  dtype: SafeDtype;
  shape: number[];
  data: SafeData;
}

const BYTES: Record<SafeDtype, number> = { F32: 4, F64: 8, I32: 4 };

export function serializeSafetensors(
  tensors: Record<string, SafeTensor>,
  metadata: Record<string, string> = {},
): Uint8Array {
  const header: Record<string, unknown> = { __metadata__: metadata };
  let offset = 0;
  const names = Object.keys(tensors).sort();
  for (const name of names) {
    const t = tensors[name];
    const bytes = t.data.length * BYTES[t.dtype];
    header[name] = { dtype: t.dtype, shape: t.shape, data_offsets: [offset, offset + bytes] };
    offset += bytes;
  }
  let json = JSON.stringify(header);
  json += ' '.repeat((8 - (json.length % 8)) % 8); // keep the data 8-byte aligned
  const headerBytes = new TextEncoder().encode(json);
  const out = new Uint8Array(8 + headerBytes.length + offset);
  new DataView(out.buffer).setBigUint64(0, BigInt(headerBytes.length), true);
  out.set(headerBytes, 8);
  let pos = 8 + headerBytes.length;
  for (const name of names) {
    const t = tensors[name];
    out.set(new Uint8Array(t.data.buffer, t.data.byteOffset, t.data.byteLength), pos);
    pos += t.data.byteLength;
  }
  return out;
}

/** @throws ParseError naming the file and what is wrong (truncation, bad header, bad offsets). */
export function parseSafetensors(
  bytes: Uint8Array,
  file = '<safetensors>',
): { tensors: Record<string, SafeTensor>; metadata: Record<string, string> } {
  if (bytes.length < 8) throw new ParseError(file, 'truncated: no header length');
  const n = Number(new DataView(bytes.buffer, bytes.byteOffset, 8).getBigUint64(0, true));
  if (8 + n > bytes.length)
    throw new ParseError(file, `truncated: header of ${n} bytes announced, ${bytes.length - 8} present`);
  let header: Record<
    string,
    { dtype: SafeDtype; shape: number[]; data_offsets: [number, number] } | Record<string, string>
  >;
  try {
    header = JSON.parse(new TextDecoder().decode(bytes.subarray(8, 8 + n)));
  } catch {
    throw new ParseError(file, 'the header is not valid JSON');
  }
  const base = 8 + n;
  const tensors: Record<string, SafeTensor> = {};
  const metadata = (header.__metadata__ ?? {}) as Record<string, string>;
  for (const [name, entry] of Object.entries(header)) {
    if (name === '__metadata__') continue;
    const { dtype, shape, data_offsets } = entry as {
      dtype: SafeDtype;
      shape: number[];
      data_offsets: [number, number];
    };
    if (!(dtype in BYTES))
      throw new ParseError(file, `tensor '${name}': unsupported dtype '${dtype}' (expected F32, F64 or I32)`);
    const [start, end] = data_offsets;
    const count = shape.reduce((a, b) => a * b, 1);
    if (end - start !== count * BYTES[dtype] || base + end > bytes.length) {
      throw new ParseError(
        file,
        `tensor '${name}': data offsets [${start}, ${end}] do not fit shape [${shape}] of ${dtype} or the file (truncated?)`,
      );
    }
    const raw = bytes.slice(base + start, base + end).buffer;
    const data =
      dtype === 'F32' ? new Float32Array(raw) : dtype === 'F64' ? new Float64Array(raw) : new Int32Array(raw);
    tensors[name] = { dtype, shape, data };
  }
  return { tensors, metadata };
}
