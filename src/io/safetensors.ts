/**
 * The safetensors format: an 8-byte little-endian header length N, a JSON header of N bytes mapping
 * each tensor's name to {dtype, shape, data_offsets} (plus an optional "__metadata__" map of
 * strings), then the raw little-endian tensor bytes.
 */
import { ParseError, UsageError } from '../errors.js';
import { checkBytes, maxBytesOf, type ReadOptions, show } from './limits.js';

export type SafeDtype = 'F32' | 'F64' | 'I32';
export type SafeData = Float32Array | Float64Array | Int32Array;

export interface SafeTensor {
  dtype: SafeDtype;
  shape: number[];
  data: SafeData;
}

const BYTES: Record<SafeDtype, number> = { F32: 4, F64: 8, I32: 4 };

/** The bytes of a safetensors file: tensors in name order, data 8-byte aligned, with `metadata`. */
export function serializeSafetensors(
  tensors: Record<string, SafeTensor>,
  metadata: Record<string, string> = {},
): Uint8Array {
  // No prototype: a tensor named '__proto__' must become a key, not replace the prototype.
  const header: Record<string, unknown> = Object.assign(Object.create(null), { __metadata__: metadata });
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

/** Default cap on the JSON header: 16 MiB, far above the few KiB of a checkpoint's header. */
export const DEFAULT_MAX_HEADER_BYTES = 16 * 2 ** 20;

/**
 * Deepest JSON nesting accepted in a header. A valid header needs 3 levels (the header object, a
 * tensor entry, its shape list); the cap is checked on the raw text before JSON.parse runs.
 */
export const MAX_HEADER_DEPTH = 8;

/** Options of {@link parseSafetensors}. */
export interface SafetensorsOptions extends ReadOptions {
  /** The most bytes the JSON header may have (default {@link DEFAULT_MAX_HEADER_BYTES}). */
  maxHeaderBytes?: number;
}

/** Dtypes of the format that riesz does not read, named so the refusal says what the file holds. */
const KNOWN_DTYPES = [
  'BOOL',
  'U8',
  'I8',
  'U16',
  'I16',
  'F16',
  'BF16',
  'U32',
  'U64',
  'I64',
  'F8_E4M3',
  'F8_E5M2',
];

/** The deepest bracket nesting of a JSON text, outside strings; stops counting past `cap`. */
function jsonDepth(text: string, cap: number): number {
  let depth = 0;
  let max = 0;
  let inString = false;
  for (let k = 0; k < text.length; k++) {
    const c = text.charCodeAt(k);
    if (inString) {
      if (c === 0x5c)
        k++; // backslash: skip the escaped character
      else if (c === 0x22) inString = false;
    } else if (c === 0x22) inString = true;
    else if (c === 0x7b || c === 0x5b) {
      if (++depth > max && (max = depth) > cap) return max;
    } else if (c === 0x7d || c === 0x5d) depth--;
  }
  return max;
}

const isRecord = (x: unknown): x is Record<string, unknown> =>
  typeof x === 'object' && x !== null && !Array.isArray(x);
const isCount = (x: unknown): x is number => Number.isSafeInteger(x) && (x as number) >= 0;

/**
 * Parses the bytes of a safetensors file. The header length, its nesting depth and every entry
 * (dtype, shape, offsets) are checked before anything is copied; the tensors must tile the data
 * region exactly, without gaps or overlaps, as the format requires. Result objects have no
 * prototype, so a tensor named `__proto__` is just a name.
 * @throws ParseError naming the file and what is wrong (truncation, bad or oversized header, bad
 * offsets); SizeLimitError when one tensor would exceed `maxBytes`.
 */
export function parseSafetensors(
  bytes: Uint8Array,
  file = '<safetensors>',
  options?: SafetensorsOptions,
): { tensors: Record<string, SafeTensor>; metadata: Record<string, string> } {
  const limit = maxBytesOf(options);
  const maxHeader = options?.maxHeaderBytes ?? DEFAULT_MAX_HEADER_BYTES;
  if (!Number.isSafeInteger(maxHeader) || maxHeader <= 0)
    throw new UsageError(`maxHeaderBytes must be a positive whole number of bytes, got ${maxHeader}`);
  if (bytes.length < 8) throw new ParseError(file, 'truncated: no header length');
  const n64 = new DataView(bytes.buffer, bytes.byteOffset, 8).getBigUint64(0, true);
  if (n64 > BigInt(maxHeader)) {
    throw new ParseError(
      file,
      `header of ${n64} bytes announced; riesz reads safetensors headers up to ${maxHeader} bytes ` +
        '(raise it with the maxHeaderBytes option)',
    );
  }
  const n = Number(n64);
  if (8 + n > bytes.length)
    throw new ParseError(file, `truncated: header of ${n} bytes announced, ${bytes.length - 8} present`);
  let text: string;
  try {
    text = new TextDecoder('utf-8', { fatal: true }).decode(bytes.subarray(8, 8 + n));
  } catch {
    throw new ParseError(file, 'the header is not valid UTF-8');
  }
  const depth = jsonDepth(text, MAX_HEADER_DEPTH);
  if (depth > MAX_HEADER_DEPTH)
    throw new ParseError(file, `the header nests deeper than ${MAX_HEADER_DEPTH} levels`);
  let header: unknown;
  try {
    header = JSON.parse(text);
  } catch {
    throw new ParseError(file, 'the header is not valid JSON');
  }
  if (!isRecord(header)) throw new ParseError(file, 'the header is not a JSON object');
  const base = 8 + n;
  const dataLength = bytes.length - base;
  const metadata: Record<string, string> = Object.create(null);
  const raw = header.__metadata__;
  if (raw !== undefined && raw !== null) {
    if (!isRecord(raw)) throw new ParseError(file, '__metadata__ is not an object of strings');
    for (const [k, v] of Object.entries(raw)) {
      if (typeof v !== 'string') throw new ParseError(file, `__metadata__ entry ${show(k)} is not a string`);
      metadata[k] = v;
    }
  }
  const entries: { name: string; dtype: SafeDtype; shape: number[]; start: number; end: number }[] = [];
  for (const [name, entry] of Object.entries(header)) {
    if (name === '__metadata__') continue;
    const bad = (what: string): never => {
      throw new ParseError(file, `tensor ${show(name)}: ${what}`);
    };
    if (!isRecord(entry)) bad('the entry is not an object');
    const { dtype, shape, data_offsets } = entry as Record<string, unknown>;
    if (typeof dtype !== 'string') bad('missing dtype');
    if (!Object.hasOwn(BYTES, dtype as string)) {
      bad(
        KNOWN_DTYPES.includes(dtype as string)
          ? `unsupported dtype '${dtype}' (expected F32, F64 or I32)`
          : `unknown dtype ${show(String(dtype))} (expected F32, F64 or I32)`,
      );
    }
    if (!Array.isArray(shape) || !shape.every(isCount)) bad('shape is not a list of non-negative integers');
    if (!Array.isArray(data_offsets) || data_offsets.length !== 2 || !data_offsets.every(isCount))
      bad('data_offsets is not a pair of non-negative integers');
    const d = dtype as SafeDtype;
    const dims = shape as number[];
    const [start, end] = data_offsets as [number, number];
    const count = dims.reduce((a, b) => a * b, 1);
    const what = `tensor ${show(name)} of shape [${dims}] ${d}`;
    if (start > end || end > dataLength || end - start !== count * BYTES[d]) {
      bad(
        `data offsets [${start}, ${end}] do not fit shape [${dims}] of ${d} or the file ` +
          `(${dataLength} data bytes; truncated?)`,
      );
    }
    checkBytes(file, what, count * BYTES[d], limit);
    entries.push({ name, dtype: d, shape: dims, start, end });
  }
  // The tensors must tile the data region: no gap, no overlap, nothing after the last.
  entries.sort((a, b) => a.start - b.start || a.end - b.end);
  let covered = 0;
  for (const e of entries) {
    if (e.start !== covered) {
      throw new ParseError(
        file,
        `tensor ${show(e.name)} starts at data byte ${e.start}, expected ${covered} (gap or overlap between tensors)`,
      );
    }
    covered = e.end;
  }
  if (covered !== dataLength) {
    throw new ParseError(
      file,
      `the tensors cover ${covered} of the ${dataLength} data bytes (trailing bytes, or a tensor missing from the header)`,
    );
  }
  const tensors: Record<string, SafeTensor> = Object.create(null);
  for (const { name, dtype, shape, start, end } of entries) {
    const copy = bytes.slice(base + start, base + end).buffer;
    const data =
      dtype === 'F32'
        ? new Float32Array(copy)
        : dtype === 'F64'
          ? new Float64Array(copy)
          : new Int32Array(copy);
    tensors[name] = { dtype, shape, data };
  }
  return { tensors, metadata };
}
