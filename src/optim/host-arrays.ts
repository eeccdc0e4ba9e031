/** Moving 2-D arrays between jax-js (float32) and riesz's f64 host matrices. */
import { numpy as np } from '@jax-js/jax';
import type { Matrix } from '../linalg/matrix.js';
import type { Tensor } from './types.js';

/** A 2-D jax-js array as an f64 host matrix (consumes it; an asynchronous read, as WebGPU needs). */
export async function toHost(x: Tensor): Promise<Matrix> {
  const [rows, cols] = x.shape;
  return { rows, cols, re: Float64Array.from((await x.data()) as Float32Array), im: null };
}

/** An f64 host matrix as a float32 jax-js array. */
export function toDevice(M: Matrix): Tensor {
  return np.array(Float32Array.from(M.re)).reshape([M.rows, M.cols]);
}
