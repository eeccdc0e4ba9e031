/**
 * Checkpoints: parameters and the whole optimizer state in one safetensors file, written atomically.
 * The state is an arbitrary tree (records, lists, numbers, jax-js arrays, f64 host matrices); its
 * skeleton goes to the metadata as JSON with references to the tensors, so any optimizer's state
 * round-trips without per-optimizer code. With the step counter and the deterministic batch order
 * and Fisher keys, a resumed run on the CPU continues bit for bit.
 */

import { readFileSync } from 'node:fs';
import { numpy as np } from '@jax-js/jax';
import { ParseError } from '../errors.js';
import { writeFileAtomic } from '../io/files.js';
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

/** Encodes a tree, putting its arrays into `tensors` (borrows jax-js arrays). */
function encode(x: unknown, path: string, tensors: Record<string, SafeTensor>): unknown {
  if (x instanceof np.Array) {
    const int = x.dtype === np.int32;
    const data = x.ref.dataSync();
    tensors[path] = {
      dtype: int ? 'I32' : 'F32',
      shape: x.shape,
      data: int ? Int32Array.from(data as Int32Array) : Float32Array.from(data as Float32Array),
    };
    return { $array: path };
  }
  if (isMatrix(x)) {
    tensors[`${path}.re`] = { dtype: 'F64', shape: [x.rows, x.cols], data: x.re };
    if (x.im) tensors[`${path}.im`] = { dtype: 'F64', shape: [x.rows, x.cols], data: x.im };
    return { $matrix: path, complex: x.im !== null };
  }
  if (Array.isArray(x)) return x.map((v, i) => encode(v, `${path}.${i}`, tensors));
  if (x !== null && typeof x === 'object') {
    const out: Record<string, unknown> = {};
    for (const [k, v] of Object.entries(x)) out[k] = encode(v, `${path}.${k}`, tensors);
    return out;
  }
  return x;
}

function decode(x: unknown, tensors: Record<string, SafeTensor>, file: string): unknown {
  if (Array.isArray(x)) return x.map((v) => decode(v, tensors, file));
  if (x !== null && typeof x === 'object') {
    const o = x as Record<string, unknown>;
    const take = (name: string) => {
      const t = tensors[name];
      if (!t) throw new ParseError(file, `checkpoint refers to tensor '${name}', which is missing`);
      return t;
    };
    if (typeof o.$array === 'string') {
      const t = take(o.$array);
      return t.dtype === 'I32'
        ? np.array(t.data as Int32Array, { dtype: np.int32 }).reshape(t.shape)
        : np.array(t.data as Float32Array).reshape(t.shape);
    }
    if (typeof o.$matrix === 'string') {
      const re = take(`${o.$matrix}.re`);
      return {
        rows: re.shape[0],
        cols: re.shape[1],
        re: re.data,
        im: o.complex ? take(`${o.$matrix}.im`).data : null,
      };
    }
    const out: Record<string, unknown> = {};
    for (const [k, v] of Object.entries(o)) out[k] = decode(v, tensors, file);
    return out;
  }
  return x;
}

export interface Checkpoint {
  params: ParamDict;
  state: unknown;
  step: number;
  /** Free-form run description (task, optimizer, lr, seed, batch) checked on resume. */
  run: Record<string, string | number>;
}

/** Writes a checkpoint atomically (borrows the arrays). */
export function saveCheckpoint(path: string, c: Checkpoint): void {
  const tensors: Record<string, SafeTensor> = {};
  const params = encode(c.params, 'params', tensors);
  const state = encode(c.state, 'state', tensors);
  const meta = {
    format: 'riesz-checkpoint-1',
    step: String(c.step),
    run: JSON.stringify(c.run),
    params: JSON.stringify(params),
    state: JSON.stringify(state),
  };
  writeFileAtomic(path, serializeSafetensors(tensors, meta));
}

/** @throws ParseError naming the file when it is missing, corrupt or not a riesz checkpoint. */
export function loadCheckpoint(path: string): Checkpoint {
  let bytes: Buffer;
  try {
    bytes = readFileSync(path);
  } catch {
    throw new ParseError(path, 'cannot read the checkpoint (no such file?)');
  }
  const { tensors, metadata } = parseSafetensors(new Uint8Array(bytes), path);
  if (metadata.format !== 'riesz-checkpoint-1')
    throw new ParseError(path, 'not a riesz checkpoint (missing format metadata)');
  try {
    return {
      params: decode(JSON.parse(metadata.params), tensors, path) as ParamDict,
      state: decode(JSON.parse(metadata.state), tensors, path),
      step: Number(metadata.step),
      run: JSON.parse(metadata.run),
    };
  } catch (e) {
    if (e instanceof ParseError) throw e;
    throw new ParseError(path, `corrupt checkpoint metadata (${(e as Error).message})`);
  }
}
