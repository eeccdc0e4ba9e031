/** The Kronecker product of two dense matrices. */
import { type Matrix, zeros } from './matrix.js';

/**
 * A ⊗ B: the (m₁m₂)×(n₁n₂) block matrix whose (i₁, j₁) block is a_{i₁j₁}·B.
 * @example kron(diag([1, 2]), diag([3, 4])) // diag(3, 4, 6, 8)
 */
export function kron(A: Matrix, B: Matrix): Matrix {
  const m = A.rows * B.rows;
  const n = A.cols * B.cols;
  const K = zeros(m, n, A.im !== null || B.im !== null);
  for (let i1 = 0; i1 < A.rows; i1++) {
    for (let j1 = 0; j1 < A.cols; j1++) {
      const ar = A.re[i1 * A.cols + j1];
      const ai = A.im ? A.im[i1 * A.cols + j1] : 0;
      for (let i2 = 0; i2 < B.rows; i2++) {
        for (let j2 = 0; j2 < B.cols; j2++) {
          const br = B.re[i2 * B.cols + j2];
          const bi = B.im ? B.im[i2 * B.cols + j2] : 0;
          const idx = (i1 * B.rows + i2) * n + j1 * B.cols + j2;
          K.re[idx] = ar * br - ai * bi;
          if (K.im) K.im[idx] = ar * bi + ai * br;
        }
      }
    }
  }
  return K;
}
