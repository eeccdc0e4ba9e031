/**
 * Reading device arrays back to the host, asynchronously: WebGPU in Node (and in browsers, without
 * blocking the page) can only read with `await x.data()`. On the CPU devices the promise resolves at
 * once. Several scalars are stacked into one array so that a step pays for one read, not one each.
 */
import { numpy as np } from '@jax-js/jax';
import type { Tensor } from './taps.js';

/** The entries of x as float32 (consumes x). */
export async function readF32(x: Tensor): Promise<Float32Array> {
  return (await x.data()) as Float32Array;
}

/** The value of a 0-d (or one-entry) float32 array (consumes x). */
export async function readScalar(x: Tensor): Promise<number> {
  return ((await x.data()) as Float32Array)[0];
}

/** The values of several float32 scalars in one read (consumes them); [] for none. */
export async function readScalars(xs: Tensor[]): Promise<number[]> {
  if (xs.length === 0) return [];
  const stacked = np.stack(xs.map((x) => x.reshape([]).astype(np.float32)));
  return Array.from((await stacked.data()) as Float32Array);
}
