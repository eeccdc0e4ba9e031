import fc from 'fast-check';
import { afterAll, describe, expect, it } from 'vitest';
import { disableThreads, enableThreads } from '../backend/threads.js';
import { ShapeError } from '../errors.js';
import { eigh, eighReference, symmetricEigh } from './eigh.js';
import { matmul } from './gemm.js';
import { diag, frobeniusNorm, type Matrix, matrix, transpose, zeros } from './matrix.js';
import { Rng, randomNormal, randomUnitary } from './random.js';
import { setWasmEnabled, wasmStatus } from './wasm/runtime.js';

afterAll(() => {
  disableThreads();
  setWasmEnabled(true);
});

/** (B + Bᵀ)/2 for a random normal B. */
function randomSymmetric(rng: Rng, n: number): Matrix {
  const B = randomNormal(rng, n, n);
  const A = zeros(n, n);
  for (let i = 0; i < n; i++)
    for (let j = 0; j < n; j++) A.re[i * n + j] = (B.re[i * n + j] + B.re[j * n + i]) / 2;
  return A;
}

/** Q diag(λ) Qᵀ for a random orthogonal Q. */
function withSpectrum(rng: Rng, values: number[]): Matrix {
  const n = values.length;
  const Q = randomUnitary(rng, n);
  return matmul(matmul(Q, diag(values)), transpose(Q));
}

/** ‖AZ − ZΛ‖_F / ‖A‖_F and ‖ZᵀZ − I‖_F. */
function defects(A: Matrix, values: Float64Array, Z: Matrix): { residual: number; orthogonality: number } {
  const n = A.rows;
  const R = matmul(A, Z);
  for (let i = 0; i < n; i++) for (let j = 0; j < n; j++) R.re[i * n + j] -= Z.re[i * n + j] * values[j];
  const G = matmul(transpose(Z), Z);
  for (let i = 0; i < n; i++) G.re[i * n + i] -= 1;
  return { residual: frobeniusNorm(R) / Math.max(frobeniusNorm(A), 1e-300), orthogonality: frobeniusNorm(G) };
}

function expectDecomposition(A: Matrix, tol = 1e-13): void {
  const n = A.rows;
  const { values, vectors } = eigh(A);
  expect(values.length).toBe(n);
  expect(vectors!.rows).toBe(n);
  for (let i = 1; i < n; i++) expect(values[i]).toBeGreaterThanOrEqual(values[i - 1]);
  const { residual, orthogonality } = defects(A, values, vectors!);
  expect(residual).toBeLessThanOrEqual(tol);
  expect(orthogonality).toBeLessThanOrEqual(tol * Math.max(1, Math.sqrt(n)));
  // Eigenvalues agree with the TypeScript path (QL), to backward-error size.
  const ref = eighReference(A, false).values;
  const scale = Math.max(frobeniusNorm(A), 1e-300);
  for (let i = 0; i < n; i++) expect(Math.abs(values[i] - ref[i]) / scale).toBeLessThanOrEqual(tol);
}

describe('real symmetric eigh (WebAssembly reduction + divide and conquer)', () => {
  it('runs on the Wasm kernels in Node', () => {
    expect(wasmStatus().available).toBe(true);
  });

  it('decomposes random symmetric matrices of any size (property)', () => {
    fc.assert(
      fc.property(fc.integer({ min: 0, max: 140 }), fc.integer(), (n, seed) => {
        expectDecomposition(randomSymmetric(new Rng(seed), n));
      }),
      { numRuns: 40 },
    );
  });

  it('handles repeated and clustered eigenvalues (property)', () => {
    fc.assert(
      fc.property(
        fc.array(fc.constantFrom(-2, 0, 1, 1 + 1e-14, 3), { minLength: 1, maxLength: 120 }),
        fc.integer(),
        (values, seed) => {
          expectDecomposition(withSpectrum(new Rng(seed), values));
        },
      ),
      { numRuns: 30 },
    );
  });

  it('handles rank-deficient Gram matrices B Bᵀ (property)', () => {
    fc.assert(
      fc.property(
        fc.integer({ min: 1, max: 130 }),
        fc.integer({ min: 0, max: 20 }),
        fc.integer(),
        (n, r, seed) => {
          const B = randomNormal(new Rng(seed), n, r);
          expectDecomposition(r === 0 ? zeros(n, n) : matmul(B, transpose(B)));
        },
      ),
      { numRuns: 30 },
    );
  });

  it('handles diagonal matrices, with repeats, exactly', () => {
    fc.assert(
      fc.property(fc.array(fc.integer({ min: -3, max: 3 }), { minLength: 1, maxLength: 90 }), (d) => {
        const { values, vectors } = eigh(diag(d));
        expect(Array.from(values)).toEqual([...d].sort((a, b) => a - b));
        expect(defects(diag(d), values, vectors!).orthogonality).toBeLessThanOrEqual(1e-14);
      }),
      { numRuns: 30 },
    );
  });

  it('agrees with the TypeScript path on the eigenvectors of a well-separated spectrum', () => {
    const rng = new Rng(11);
    for (const n of [1, 2, 3, 33, 64, 97, 200]) {
      const A = withSpectrum(
        rng,
        Array.from({ length: n }, (_, i) => i - n / 3),
      );
      const fast = eigh(A);
      const ref = eighReference(A);
      const overlap = matmul(transpose(fast.vectors!), ref.vectors!);
      for (let j = 0; j < n; j++)
        expect(Math.abs(Math.abs(overlap.re[j * n + j]) - 1)).toBeLessThanOrEqual(1e-12);
    }
  });

  it('reads only the lower triangle', () => {
    const rng = new Rng(3);
    const A = randomSymmetric(rng, 70);
    const B = zeros(70, 70);
    for (let i = 0; i < 70; i++) for (let j = 0; j <= i; j++) B.re[i * 70 + j] = A.re[i * 70 + j];
    for (let i = 0; i < 70; i++) for (let j = i + 1; j < 70; j++) B.re[i * 70 + j] = 1e6;
    expect(Array.from(eigh(B).values)).toEqual(Array.from(eigh(A).values));
  });

  it('the all-ones matrix (the reduction meets α ≈ 1e-159 columns) on both paths', () => {
    const n = 600;
    const A = zeros(n, n);
    A.re.fill(1);
    for (const values of [eigh(A).values, eighReference(A, false).values]) {
      expect(values.every(Number.isFinite)).toBe(true);
      expect(Math.abs(values[n - 1] - n)).toBeLessThanOrEqual(1e-12 * n);
      expect(Math.abs(values[0])).toBeLessThanOrEqual(1e-12 * n);
    }
  });

  it('is scale invariant from 1e-150 to 1e150', () => {
    const A = randomSymmetric(new Rng(8), 90);
    const base = eigh(A).values;
    for (const s of [1e-150, 1e150]) {
      const S = zeros(90, 90);
      for (let i = 0; i < 90 * 90; i++) S.re[i] = A.re[i] * s;
      const { values, vectors } = eigh(S);
      for (let i = 0; i < 90; i++) expect(Math.abs(values[i] / s - base[i])).toBeLessThanOrEqual(1e-12 * 90);
      expect(defects(A, base, vectors!).residual).toBeLessThanOrEqual(1e-13);
    }
  });

  it('decomposes a larger matrix (several merge levels) to backward-error accuracy', () => {
    const A = randomSymmetric(new Rng(2), 301);
    expectDecomposition(A, 5e-14);
  });

  it('gives the same decomposition with two threads', () => {
    const A = randomSymmetric(new Rng(4), 257);
    const one = eigh(A);
    expect(enableThreads(2)).toBe(2);
    const two = eigh(A);
    disableThreads();
    expect(Array.from(two.values)).toEqual(Array.from(one.values));
    expect(defects(A, two.values, two.vectors!).orthogonality).toBeLessThanOrEqual(1e-12);
  });

  it('eigenvalues only', () => {
    const A = randomSymmetric(new Rng(6), 120);
    const { values, vectors } = eigh(A, { vectors: false });
    expect(vectors).toBeNull();
    const full = eigh(A).values;
    for (let i = 0; i < 120; i++) expect(Math.abs(values[i] - full[i])).toBeLessThanOrEqual(1e-12);
  });

  it('falls back to the TypeScript path when Wasm is off', () => {
    const A = randomSymmetric(new Rng(9), 50);
    setWasmEnabled(false);
    const off = eigh(A);
    setWasmEnabled(true);
    const ref = eighReference(A);
    expect(Array.from(off.values)).toEqual(Array.from(ref.values));
    expect(Array.from(off.vectors!.re)).toEqual(Array.from(ref.vectors!.re));
  });

  it('symmetricEigh returns the vectors and refuses complex input', () => {
    const { values, vectors } = symmetricEigh(
      matrix([
        [2, 1],
        [1, 2],
      ]),
    );
    expect(values[0]).toBeCloseTo(1, 15);
    expect(values[1]).toBeCloseTo(3, 15);
    expect(Math.abs(vectors.re[0])).toBeCloseTo(Math.SQRT1_2, 15);
    expect(() => symmetricEigh(matrix([[[1, 0]]]))).toThrow(ShapeError);
    expect(() => eigh(zeros(2, 3))).toThrow(ShapeError);
  });
});
