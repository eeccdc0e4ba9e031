/**
 * Checkpoints: parameters and the whole optimizer state in one safetensors file, written atomically.
 * The state is an arbitrary tree (records, lists, numbers, jax-js arrays, f64 host matrices); its
 * skeleton goes to the metadata as JSON with references to the tensors, so any optimizer's state
 * round-trips without per-optimizer code. With the step counter and the deterministic batch order
 * and Fisher keys, a resumed run on the CPU continues bit for bit.
 *
 * Integrity: the metadata records a SHA-256 over the tensor table, the tensor bytes and the other
 * metadata (see {@link checkpointDigest}); loading recomputes it and refuses a mismatch, so a flipped
 * bit or a half-copied file is an error, never a silently different run.
 */

import { createHash } from 'node:crypto';
import { numpy as np } from '@jax-js/jax';
import { ParseError } from '../errors.js';
import { readFileBounded, writeFileAtomic } from '../io/files.js';
import { maxBytesOf, type ReadOptions } from '../io/limits.js';
import { parseSafetensors, type SafeTensor, serializeSafetensors } from '../io/safetensors.js';
import type { Matrix } from '../linalg/matrix.js';
import type { ParamDict } from '../optim/types.js';

function isMatrix(x: unknown): x is Matrix {
  return (
    typeof x === 'object' &&
    x !== null &&
    (x as Matrix).re instanceof Float64Array &&
    typeof (x as Matrix).rows === 'number'
  );
}

/**
 * Encodes a tree, putting its arrays into `tensors` (borrows jax-js arrays). Device arrays are read
 * asynchronously (WebGPU cannot read synchronously): their reads go into `reads`, to be awaited.
 */
function encode(
  x: unknown,
  path: string,
  tensors: Record<string, SafeTensor>,
  reads: Promise<void>[],
): unknown {
  if (x instanceof np.Array) {
    const int = x.dtype === np.int32;
    const shape = x.shape;
    reads.push(
      x.ref.data().then((data) => {
        tensors[path] = {
          dtype: int ? 'I32' : 'F32',
          shape,
          data: int ? Int32Array.from(data as Int32Array) : Float32Array.from(data as Float32Array),
        };
      }),
    );
    return { $array: path };
  }
  if (isMatrix(x)) {
    tensors[`${path}.re`] = { dtype: 'F64', shape: [x.rows, x.cols], data: x.re };
    if (x.im) tensors[`${path}.im`] = { dtype: 'F64', shape: [x.rows, x.cols], data: x.im };
    return { $matrix: path, complex: x.im !== null };
  }
  if (Array.isArray(x)) return x.map((v, i) => encode(v, `${path}.${i}`, tensors, reads));
  if (x !== null && typeof x === 'object') {
    const out: Record<string, unknown> = {};
    for (const [k, v] of Object.entries(x)) out[k] = encode(v, `${path}.${k}`, tensors, reads);
    return out;
  }
  return x;
}

function decode(x: unknown, tensors: Record<string, SafeTensor>, file: string): unknown {
  if (Array.isArray(x)) return x.map((v) => decode(v, tensors, file));
  if (x !== null && typeof x === 'object') {
    const o = x as Record<string, unknown>;
    const take = (name: string, dtypes: string[], ndim?: number) => {
      const t = Object.hasOwn(tensors, name) ? tensors[name] : undefined;
      if (!t) throw new ParseError(file, `checkpoint refers to tensor '${name}', which is missing`);
      if (!dtypes.includes(t.dtype) || (ndim !== undefined && t.shape.length !== ndim))
        throw new ParseError(
          file,
          `tensor '${name}' has dtype ${t.dtype} and shape [${t.shape}], not what the state expects`,
        );
      return t;
    };
    if (typeof o.$array === 'string') {
      const t = take(o.$array, ['F32', 'I32']);
      return t.dtype === 'I32'
        ? np.array(t.data as Int32Array, { dtype: np.int32 }).reshape(t.shape)
        : np.array(t.data as Float32Array).reshape(t.shape);
    }
    if (typeof o.$matrix === 'string') {
      const re = take(`${o.$matrix}.re`, ['F64'], 2);
      const im = o.complex ? take(`${o.$matrix}.im`, ['F64'], 2) : null;
      if (im && (im.shape[0] !== re.shape[0] || im.shape[1] !== re.shape[1]))
        throw new ParseError(file, `tensors '${o.$matrix}.re' and '.im' differ in shape`);
      return { rows: re.shape[0], cols: re.shape[1], re: re.data, im: im ? im.data : null };
    }
    const out: Record<string, unknown> = {};
    for (const [k, v] of Object.entries(o)) {
      // JSON.parse makes '__proto__' an own key; assigning it would replace out's prototype.
      if (k === '__proto__') throw new ParseError(file, "checkpoint state has a key '__proto__'");
      out[k] = decode(v, tensors, file);
    }
    return out;
  }
  return x;
}

/** The metadata key holding the checksum, as 'sha256:<64 hex digits>'. */
export const CHECKSUM_KEY = 'checksum';

/**
 * SHA-256 over what a checkpoint holds: for each tensor in name order its name, dtype and shape,
 * then its bytes; then every metadata entry except the checksum, in key order. Computed from the
 * parsed values, so it does not depend on how the JSON header is spaced.
 */
export function checkpointDigest(
  tensors: Record<string, SafeTensor>,
  metadata: Record<string, string>,
): string {
  const h = createHash('sha256');
  for (const name of Object.keys(tensors).sort()) {
    const t = tensors[name];
    h.update(`${JSON.stringify([name, t.dtype, t.shape])}\n`);
    h.update(new Uint8Array(t.data.buffer, t.data.byteOffset, t.data.byteLength));
  }
  for (const k of Object.keys(metadata).sort()) {
    if (k !== CHECKSUM_KEY) h.update(`${JSON.stringify([k, metadata[k]])}\n`);
  }
  return `sha256:${h.digest('hex')}`;
}

export interface Checkpoint {
  params: ParamDict;
  state: unknown;
  step: number;
  /** Free-form run description (task, optimizer, lr, seed, batch) checked on resume. */
  run: Record<string, string | number>;
}

/** Writes a checkpoint atomically (borrows the arrays; reads them back asynchronously). */
export async function saveCheckpoint(path: string, c: Checkpoint): Promise<void> {
  const tensors: Record<string, SafeTensor> = {};
  const reads: Promise<void>[] = [];
  const params = encode(c.params, 'params', tensors, reads);
  const state = encode(c.state, 'state', tensors, reads);
  await Promise.all(reads);
  const meta = {
    format: 'riesz-checkpoint-1',
    step: String(c.step),
    run: JSON.stringify(c.run),
    params: JSON.stringify(params),
    state: JSON.stringify(state),
  };
  writeFileAtomic(
    path,
    serializeSafetensors(tensors, { ...meta, [CHECKSUM_KEY]: checkpointDigest(tensors, meta) }),
  );
}

/**
 * Reads a checkpoint's tensors and metadata and checks its checksum, without building jax-js arrays.
 * Checkpoints written before checksums were recorded have none; they still load, unchecked.
 * @throws ParseError naming the file when it is corrupt (bad layout, checksum mismatch) or not a
 * riesz checkpoint.
 */
export function parseCheckpointFile(
  bytes: Uint8Array,
  file: string,
  options?: ReadOptions,
): { tensors: Record<string, SafeTensor>; metadata: Record<string, string> } {
  const { tensors, metadata } = parseSafetensors(bytes, file, options);
  if (metadata.format !== 'riesz-checkpoint-1')
    throw new ParseError(file, 'not a riesz checkpoint (missing format metadata)');
  const recorded = metadata[CHECKSUM_KEY];
  if (recorded !== undefined) {
    const actual = checkpointDigest(tensors, metadata);
    if (recorded !== actual) {
      throw new ParseError(
        file,
        `checksum mismatch: the checkpoint was damaged or changed after it was written ` +
          `(recorded ${recorded.slice(0, 80)}, computed ${actual})`,
      );
    }
  }
  return { tensors, metadata };
}

/**
 * Loads a checkpoint written by {@link saveCheckpoint}.
 * @param options `maxBytes` caps the file and each tensor (default 2^31 bytes or `RIESZ_MAX_BYTES`).
 * @throws ParseError naming the file when it is missing, corrupt (checksum mismatch, truncation) or
 * not a riesz checkpoint.
 */
export function loadCheckpoint(path: string, options?: ReadOptions): Checkpoint {
  const bytes = readFileBounded(path, maxBytesOf(options));
  const { tensors, metadata } = parseCheckpointFile(bytes, path, options);
  const step = /^\d{1,15}$/.test(metadata.step ?? '') ? Number(metadata.step) : -1;
  if (step < 0)
    throw new ParseError(path, `corrupt checkpoint metadata (step '${String(metadata.step).slice(0, 40)}')`);
  try {
    const run = JSON.parse(metadata.run);
    if (run === null || typeof run !== 'object' || Array.isArray(run))
      throw new Error('run is not an object');
    return {
      params: decode(JSON.parse(metadata.params), tensors, path) as ParamDict,
      state: decode(JSON.parse(metadata.state), tensors, path),
      step,
      run,
    };
  } catch (e) {
    if (e instanceof ParseError) throw e;
    throw new ParseError(path, `corrupt checkpoint metadata (${(e as Error).message})`);
  }
}
