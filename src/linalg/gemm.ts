/**
 * Matrix products. `matmul` is the public entry; `gemmKernel` is the real kernel everything else
 * (complex products, blocked Cholesky, triangular multiplies) is built on, so that speeding it up
 * speeds up the whole core. `gemmNaive` is the reference the kernel is tested against.
 */
import { ShapeError } from '../errors.js';
import { type Matrix, shapeOf, zeros } from './matrix.js';
import { wasmGemm } from './wasm/runtime.js';

/** Tile sizes: a KC×NC panel of B (128×256 f64 = 256 KiB) stays in L2 while all rows of A pass. */
const KC = 128;
const NC = 256;

/**
 * C ← C + α·op(A)·B on raw row-major arrays with leading dimensions (real f64).
 * op(A) is m×k: A itself (stored m×k, row stride lda) or, with transA, the transpose of the stored
 * k×m array; B is k×n (ldb), C is m×n (ldc); offsets select sub-blocks.
 * Large products run in the WebAssembly SIMD kernel (threaded when helpers are enabled).
 */
export function gemmKernel(
  m: number,
  n: number,
  k: number,
  a: Float64Array,
  aOff: number,
  lda: number,
  b: Float64Array,
  bOff: number,
  ldb: number,
  c: Float64Array,
  cOff: number,
  ldc: number,
  alpha = 1,
  transA = false,
): void {
  if (wasmGemm(m, n, k, a, aOff, lda, b, bOff, ldb, c, cOff, ldc, alpha, transA)) return;
  if (alpha === 1 && !transA) {
    gemmKernelTs(m, n, k, a, aOff, lda, b, bOff, ldb, c, cOff, ldc);
    return;
  }
  // Fallback: materialise α·op(A) (m×k) once, then the plain kernel.
  const t = new Float64Array(m * k);
  for (let i = 0; i < m; i++) {
    for (let p = 0; p < k; p++)
      t[i * k + p] = alpha * (transA ? a[aOff + p * lda + i] : a[aOff + i * lda + p]);
  }
  gemmKernelTs(m, n, k, t, 0, k, b, bOff, ldb, c, cOff, ldc);
}

/** The plain TypeScript kernel (also the fallback where WebAssembly SIMD is unavailable). */
export function gemmKernelTs(
  m: number,
  n: number,
  k: number,
  a: Float64Array,
  aOff: number,
  lda: number,
  b: Float64Array,
  bOff: number,
  ldb: number,
  c: Float64Array,
  cOff: number,
  ldc: number,
): void {
  if (n === 1) {
    gemv(m, k, a, aOff, lda, b, bOff, ldb, c, cOff, ldc);
    return;
  }
  for (let jj = 0; jj < n; jj += NC) {
    const jEnd = Math.min(jj + NC, n);
    for (let pp = 0; pp < k; pp += KC) {
      const pEnd = Math.min(pp + KC, k);
      let i = 0;
      // Four rows of C at a time: each loaded B entry feeds four multiply-adds.
      for (; i + 4 <= m; i += 4) {
        const c0 = cOff + i * ldc;
        const c1 = c0 + ldc;
        const c2 = c1 + ldc;
        const c3 = c2 + ldc;
        const a0 = aOff + i * lda;
        for (let p = pp; p < pEnd; p++) {
          const x0 = a[a0 + p];
          const x1 = a[a0 + lda + p];
          const x2 = a[a0 + 2 * lda + p];
          const x3 = a[a0 + 3 * lda + p];
          const bRow = bOff + p * ldb;
          for (let j = jj; j < jEnd; j++) {
            const bv = b[bRow + j];
            c[c0 + j] += x0 * bv;
            c[c1 + j] += x1 * bv;
            c[c2 + j] += x2 * bv;
            c[c3 + j] += x3 * bv;
          }
        }
      }
      for (; i < m; i++) {
        const ci = cOff + i * ldc;
        const ai = aOff + i * lda;
        for (let p = pp; p < pEnd; p++) {
          const x = a[ai + p];
          if (x === 0) continue;
          const bRow = bOff + p * ldb;
          for (let j = jj; j < jEnd; j++) c[ci + j] += x * b[bRow + j];
        }
      }
    }
  }
}

/** c[i] += Σₚ A[i,p]·b[p] (one right-hand side): dot products along A's contiguous rows, two rows
 * at a time so each loaded b[p] feeds two products. */
function gemv(
  m: number,
  k: number,
  a: Float64Array,
  aOff: number,
  lda: number,
  b: Float64Array,
  bOff: number,
  ldb: number,
  c: Float64Array,
  cOff: number,
  ldc: number,
): void {
  const x =
    ldb === 1 ? b.subarray(bOff, bOff + k) : Float64Array.from({ length: k }, (_, p) => b[bOff + p * ldb]);
  let i = 0;
  for (; i + 2 <= m; i += 2) {
    const r0 = aOff + i * lda;
    const r1 = r0 + lda;
    let s0 = 0;
    let s1 = 0;
    let t0 = 0;
    let t1 = 0;
    let p = 0;
    for (; p + 2 <= k; p += 2) {
      const x0 = x[p];
      const x1 = x[p + 1];
      s0 += a[r0 + p] * x0;
      t0 += a[r0 + p + 1] * x1;
      s1 += a[r1 + p] * x0;
      t1 += a[r1 + p + 1] * x1;
    }
    if (p < k) {
      s0 += a[r0 + p] * x[p];
      s1 += a[r1 + p] * x[p];
    }
    c[cOff + i * ldc] += s0 + t0;
    c[cOff + (i + 1) * ldc] += s1 + t1;
  }
  for (; i < m; i++) {
    const r0 = aOff + i * lda;
    let s0 = 0;
    for (let p = 0; p < k; p++) s0 += a[r0 + p] * x[p];
    c[cOff + i * ldc] += s0;
  }
}

/** Scaled kernel: C ← C + α·A·B via a temporary when α ≠ 1. */
function gemmAccumulate(
  alpha: number,
  m: number,
  n: number,
  k: number,
  a: Float64Array,
  b: Float64Array,
  c: Float64Array,
): void {
  if (alpha === 1) {
    gemmKernel(m, n, k, a, 0, k, b, 0, n, c, 0, n);
    return;
  }
  const t = new Float64Array(m * n);
  gemmKernel(m, n, k, a, 0, k, b, 0, n, t, 0, n);
  for (let q = 0; q < t.length; q++) c[q] += alpha * t[q];
}

/**
 * The product A·B (real or complex). A is m×k, B is k×n.
 * Complex products use four real products: (Ar + iAi)(Br + iBi) = (ArBr − AiBi) + i(ArBi + AiBr).
 * Cost 2mnk flops (×4 when complex).
 * @throws ShapeError when A's columns differ from B's rows.
 * @example matmul(matrix([[1, 2]]), matrix([[3], [4]])) // 1×1 matrix [[11]]
 */
export function matmul(A: Matrix, B: Matrix): Matrix {
  if (A.cols !== B.rows)
    throw new ShapeError(`matmul: ${shapeOf(A)} times ${shapeOf(B)}: inner sizes differ`);
  const m = A.rows;
  const n = B.cols;
  const k = A.cols;
  const complex = A.im !== null || B.im !== null;
  const C = zeros(m, n, complex);
  gemmAccumulate(1, m, n, k, A.re, B.re, C.re);
  if (!complex) return C;
  if (A.im && B.im) gemmAccumulate(-1, m, n, k, A.im, B.im, C.re);
  if (B.im) gemmAccumulate(1, m, n, k, A.re, B.im, C.im!);
  if (A.im) gemmAccumulate(1, m, n, k, A.im, B.re, C.im!);
  return C;
}

/** Product of several matrices, left to right. */
export function matmulAll(...ms: Matrix[]): Matrix {
  return ms.reduce((acc, M) => matmul(acc, M));
}

/** Reference triple loop, for tests of the kernel. */
export function gemmNaive(A: Matrix, B: Matrix): Matrix {
  if (A.cols !== B.rows) throw new ShapeError(`gemmNaive: ${shapeOf(A)} times ${shapeOf(B)}`);
  const C = zeros(A.rows, B.cols, A.im !== null || B.im !== null);
  for (let i = 0; i < A.rows; i++) {
    for (let j = 0; j < B.cols; j++) {
      let sr = 0;
      let si = 0;
      for (let p = 0; p < A.cols; p++) {
        const ar = A.re[i * A.cols + p];
        const ai = A.im ? A.im[i * A.cols + p] : 0;
        const br = B.re[p * B.cols + j];
        const bi = B.im ? B.im[p * B.cols + j] : 0;
        sr += ar * br - ai * bi;
        si += ar * bi + ai * br;
      }
      C.re[i * B.cols + j] = sr;
      if (C.im) C.im[i * B.cols + j] = si;
    }
  }
  return C;
}
