/**
 * Matrix products for the layers. On the CPU devices large products run in riesz's own WebAssembly
 * GEMM (its float32 kernel, threaded) instead of jax-js's Wasm matmul, which is slow on untidy sizes
 * such as MNIST's 785 (bench/kernels): the operands are read back, multiplied and uploaded — O(n²)
 * copies against O(n³) work. Small products and the WebGPU device use jax-js. Consumes its arguments.
 */
import { defaultDevice, numpy as np } from '@jax-js/jax';
import type { Tensor } from '../backend/taps.js';
import { sgemm, transpose32 } from '../linalg/sgemm.js';

/**
 * Below this many multiply-adds jax-js's own product is used: for the MNIST MLP's 128×784×256
 * products the copies cost more than they save (measured with the earlier f64 kernel: 22.5 vs
 * 19.4 ms per step); for the autoencoder's 1000×784×1000 ones the host kernel wins (bench/train).
 */
const HOST_MIN_WORK = 64e6;

let hostProducts = true;

/** Turns the host path off (e.g. to compare with jax-js's own product). */
export function setHostProducts(on: boolean): void {
  hostProducts = on;
}

/** op(a)·op(b) for 2-D arrays, op = identity or transpose. */
export function mm(a: Tensor, b: Tensor, transA = false, transB = false): Tensor {
  const [ar, ac] = a.shape;
  const [br, bc] = b.shape;
  const m = transA ? ac : ar;
  const k = transA ? ar : ac;
  const n = transB ? br : bc;
  const device = defaultDevice();
  // Traced values (inside jax-js grad/jit) have no data to read: they keep jax-js's product.
  const concrete = a instanceof np.Array && b instanceof np.Array;
  if (!hostProducts || !concrete || m * n * k < HOST_MIN_WORK || (device !== 'wasm' && device !== 'cpu')) {
    return np.matmul(transA ? a.transpose() : a, transB ? b.transpose() : b);
  }
  const A = a.dataSync() as Float32Array;
  const Braw = b.dataSync() as Float32Array;
  // B is needed as k×n row-major: transpose it here when asked.
  const B = transB ? transpose32(Braw, n, k) : Braw;
  const C = sgemm(m, n, k, A, B, transA);
  return np.array(C).reshape([m, n]);
}
