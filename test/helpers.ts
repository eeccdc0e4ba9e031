/** Shared test helpers: seeded random cases and tolerant comparisons. */
import { expect } from 'vitest';
import { frobeniusNorm, type Matrix, maxAbsDiff } from '../src/linalg/matrix.js';

/** ‖A − B‖_F / max(‖B‖_F, tiny). */
export function relErr(A: Matrix, B: Matrix): number {
  const diff = {
    rows: A.rows,
    cols: A.cols,
    re: A.re.map((v, k) => v - B.re[k]),
    im: A.im || B.im ? A.re.map((_, k) => (A.im ? A.im[k] : 0) - (B.im ? B.im[k] : 0)) : null,
  };
  return frobeniusNorm(diff) / Math.max(frobeniusNorm(B), 1e-300);
}

export function expectClose(A: Matrix, B: Matrix, tol = 1e-12): void {
  const e = relErr(A, B);
  if (!(e <= tol)) {
    throw new Error(
      `matrices differ: relative error ${e.toExponential(3)} > ${tol} (max abs diff ${maxAbsDiff(A, B)})`,
    );
  }
}

export function expectRel(actual: number, expected: number, tol = 1e-12): void {
  const e = Math.abs(actual - expected) / Math.max(Math.abs(expected), 1e-300);
  expect(e, `${actual} vs ${expected}`).toBeLessThanOrEqual(tol);
}
