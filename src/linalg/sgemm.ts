/**
 * Float32 matrix products on plain arrays, for training's large products (layers, K-FAC's factor
 * statistics and preconditioning): riesz's WebAssembly f32 kernel, or without WebAssembly SIMD the
 * f64 TypeScript kernel on widened copies. Not for the geometry core, which stays in f64.
 */
import { gemmKernel } from './gemm.js';
import { wasmSgemm } from './wasm/runtime.js';

/**
 * C = op(A)·B, row-major, op(A) m×k (A stored k×m when `transA`), B k×n; returns C (m×n). With
 * `symmetric` (the caller knows C is, e.g. XᵀX), only C's lower triangle is computed — about half
 * the work in the WebAssembly kernel — and mirrored.
 * @example sgemm(1, 1, 2, Float32Array.of(1, 2), Float32Array.of(3, 4)) // Float32Array [11]
 */
export function sgemm(
  m: number,
  n: number,
  k: number,
  A: Float32Array,
  B: Float32Array,
  transA = false,
  symmetric = false,
): Float32Array {
  const lda = transA ? m : k;
  const C = new Float32Array(m * n);
  if (m === 0 || n === 0 || k === 0) return C;
  const lower = symmetric && m === n;
  if (wasmSgemm(m, n, k, A, 0, lda, B, 0, n, C, 0, n, 1, transA, lower)) {
    if (lower) for (let i = 0; i < n; i++) for (let j = i + 1; j < n; j++) C[i * n + j] = C[j * n + i];
  } else {
    const C64 = new Float64Array(m * n);
    gemmKernel(m, n, k, Float64Array.from(A), 0, lda, Float64Array.from(B), 0, n, C64, 0, n, 1, transA);
    C.set(C64);
  }
  return C;
}

/** The transpose of a row-major rows×cols float32 matrix. */
export function transpose32(X: Float32Array, rows: number, cols: number): Float32Array {
  const T = new Float32Array(rows * cols);
  for (let i = 0; i < rows; i++) for (let j = 0; j < cols; j++) T[j * rows + i] = X[i * cols + j];
  return T;
}
