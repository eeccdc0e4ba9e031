/** K-FAC's curvature blocks: factor statistics, damped inverses by eigh and Cholesky, preconditioning. */
import { numpy as np, random } from '@jax-js/jax';
import { beforeAll, describe, expect, it, vi } from 'vitest';
import { read, ready } from '../../test/jax-setup.js';
import { matmul } from '../linalg/gemm.js';
import { type Matrix, zeros } from '../linalg/matrix.js';
import { Rng, randomNormal } from '../linalg/random.js';
import { disposeTree } from './base.js';
import {
  dampedInverseByCholesky,
  deviceKronecker,
  factoredDamping,
  hostKronecker,
  type KroneckerLayout,
} from './kfac-blocks.js';
import { debiasedDecay } from './kfac-rules.js';
import type { Tensor } from './types.js';

beforeAll(async () => {
  await ready;
});

const weight = (k: number) => debiasedDecay(k, 0.95);

function inverse(M: Matrix): Matrix {
  // Gauss–Jordan in f64, the reference for small matrices.
  const n = M.rows;
  const A = Array.from({ length: n }, (_, i) => [
    ...Array.from(M.re.subarray(i * n, (i + 1) * n)),
    ...Array.from({ length: n }, (_, j) => (i === j ? 1 : 0)),
  ]);
  for (let c = 0; c < n; c++) {
    let p = c;
    for (let r = c + 1; r < n; r++) if (Math.abs(A[r][c]) > Math.abs(A[p][c])) p = r;
    [A[c], A[p]] = [A[p], A[c]];
    const d = A[c][c];
    for (let j = 0; j < 2 * n; j++) A[c][j] /= d;
    for (let r = 0; r < n; r++)
      if (r !== c) {
        const f = A[r][c];
        for (let j = 0; j < 2 * n; j++) A[r][j] -= f * A[c][j];
      }
  }
  const out = zeros(n, n);
  for (let i = 0; i < n; i++) for (let j = 0; j < n; j++) out.re[i * n + j] = A[i][n + j];
  return out;
}

function plusShift(F: Matrix, s: number): Matrix {
  const M = { ...F, re: Float64Array.from(F.re) };
  for (let i = 0; i < F.rows; i++) M.re[i * F.rows + i] += s;
  return M;
}

function maxRelDiff(a: ArrayLike<number>, b: ArrayLike<number>): number {
  let m = 0;
  let scale = 0;
  for (let i = 0; i < a.length; i++) {
    m = Math.max(m, Math.abs(a[i] - b[i]));
    scale = Math.max(scale, Math.abs(b[i]));
  }
  return m / scale;
}

/** A dense layer's tap: inputs a (B×in) and output gradients g (B×out). */
function tapOf(B: number, inDim: number, outDim: number, seed: number) {
  const [k1, k2] = random.split(random.key(seed), 2) as unknown as [Tensor, Tensor];
  return { a: random.normal(k1, [B, inDim]), g: random.normal(k2, [B, outDim]).mul(0.1) };
}

describe('host Kronecker block', () => {
  const layout: KroneckerLayout = { weight: 'w', bias: 'b', kind: 'dense', shape: [3, 5] };

  it('statistics: Ā = E[ã ãᵀ] with the bias column of ones, Γ = E[g gᵀ]', async () => {
    const tap = tapOf(7, 5, 3, 1);
    const a = read(tap.a);
    const g = read(tap.g);
    const s = await hostKronecker.accumulate(undefined, layout, { a: tap.a.ref, g: tap.g.ref }, weight);
    const aug = (r: number, j: number) => (j === 5 ? 1 : a[r * 5 + j]);
    for (const [i, j] of [
      [0, 0],
      [2, 4],
      [5, 5],
      [1, 5],
    ]) {
      let want = 0;
      for (let r = 0; r < 7; r++) want += aug(r, i) * aug(r, j);
      expect(s.A.re[i * 6 + j]).toBeCloseTo(want / 7, 5);
    }
    let gWant = 0;
    for (let r = 0; r < 7; r++) gWant += g[r * 3 + 1] * g[r * 3 + 2];
    expect(s.G.re[1 * 3 + 2]).toBeCloseTo(gWant / 7, 6);
    tap.a.dispose();
    tap.g.dispose();
  });

  it('the debiased average of a constant statistic is that statistic', async () => {
    const tap = tapOf(9, 5, 3, 2);
    let s = await hostKronecker.accumulate(undefined, layout, { a: tap.a.ref, g: tap.g.ref }, weight);
    const first = Float64Array.from(s.A.re);
    for (let k = 0; k < 4; k++)
      s = await hostKronecker.accumulate(s, layout, { a: tap.a.ref, g: tap.g.ref }, weight);
    expect(maxRelDiff(s.A.re, first)).toBeLessThan(1e-12);
    tap.a.dispose();
    tap.g.dispose();
  });

  for (const inverse of ['eigh', 'cholesky'] as const) {
    it(`${inverse}: damped inverses equal direct inverses of Ā + πγI and Γ + γ/πI, also after λ changes`, async () => {
      const tap = tapOf(20, 5, 3, 3);
      const settings = { inverse, step: 'natural' as const, polarSteps: 5 };
      let s = await hostKronecker.accumulate(undefined, layout, { a: tap.a.ref, g: tap.g.ref }, weight);
      s = await hostKronecker.refresh(s, 'w', settings, 0.3);
      for (const damping of [0.3, 2, 1e-3]) {
        s = await hostKronecker.damp(s, 'w', settings, damping);
        const trA = Array.from({ length: 6 }, (_, i) => s.A.re[i * 7]).reduce((x, y) => x + y);
        const trG = Array.from({ length: 3 }, (_, i) => s.G.re[i * 4]).reduce((x, y) => x + y);
        const { inputShift, outputShift } = factoredDamping(trA, 6, trG, 3, damping);
        // Both form the inverses in f32 from f64 factorisations (they feed f32 products).
        const tol = 1e-5;
        expect(maxRelDiff(s.Ainv!.re, inverse_(plusShift(s.A, inputShift)).re)).toBeLessThan(tol);
        expect(maxRelDiff(s.Ginv!.re, inverse_(plusShift(s.G, outputShift)).re)).toBeLessThan(tol);
      }
      tap.a.dispose();
      tap.g.dispose();
    });
  }
  const inverse_ = inverse;

  it('preconditioning gives Γd⁻¹ [G | g_b] Ād⁻¹ split into weight and bias (f32 products)', async () => {
    const tap = tapOf(20, 5, 3, 4);
    const settings = { inverse: 'eigh' as const, step: 'natural' as const, polarSteps: 5 };
    let s = await hostKronecker.accumulate(undefined, layout, { a: tap.a.ref, g: tap.g.ref }, weight);
    s = await hostKronecker.refresh(s, 'w', settings, 0.1);
    const rng = new Rng(5);
    const Gw = randomNormal(rng, 3, 5);
    const gb = randomNormal(rng, 3, 1);
    const grads = {
      w: np.array(Float32Array.from(Gw.re)).reshape([3, 5]),
      b: np.array(Float32Array.from(gb.re)),
    };
    const u = await hostKronecker.precondition(s, layout, grads, settings);
    const Gm = zeros(3, 6);
    for (let i = 0; i < 3; i++) {
      for (let j = 0; j < 5; j++) Gm.re[i * 6 + j] = Gw.re[i * 5 + j];
      Gm.re[i * 6 + 5] = gb.re[i];
    }
    const want = matmul(matmul(s.Ginv!, Gm), s.Ainv!);
    const got = [
      ...read(u.w).flatMap((v, k) => [[Math.floor(k / 5), k % 5, v]]),
      ...read(u.b).map((v, i) => [i, 5, v]),
    ];
    for (const [i, j, v] of got)
      expect(Math.abs(v - want.re[i * 6 + j])).toBeLessThan(1e-4 * Math.max(1, Math.abs(want.re[i * 6 + j])));
    u.w.dispose();
    u.b.dispose();
    tap.a.dispose();
    tap.g.dispose();
  });

  it('a factor that rounding left slightly indefinite falls back to its eigendecomposition, once per factor', async () => {
    // Eigenvalues 2.001 and −0.001: the shift 5e-4 does not make it PD, so Cholesky breaks.
    const F = { rows: 2, cols: 2, re: Float64Array.of(1, 1.001, 1.001, 1), im: null };
    const warn = vi.spyOn(console, 'warn').mockImplementation(() => {});
    const inv = dampedInverseByCholesky(F, 5e-4, false, 'test factor');
    dampedInverseByCholesky(F, 5e-4, false, 'test factor');
    expect(warn).toHaveBeenCalledTimes(1);
    expect(String(warn.mock.calls[0][0])).toMatch(
      /test factor.*eigendecomposition with negative eigenvalues set to 0/,
    );
    warn.mockRestore();
    // Q diag(1/(2.001 + s), 1/(0 + s)) Qᵀ with Q = [1 1; 1 −1]/√2.
    const [a, b] = [1 / (2.001 + 5e-4), 1 / 5e-4];
    const want = [(a + b) / 2, (a - b) / 2, (a - b) / 2, (a + b) / 2];
    for (let k = 0; k < 4; k++) expect(Math.abs(inv.re[k] - want[k]) / Math.abs(want[k])).toBeLessThan(1e-5);
  });
});

describe('device inverses (the WebGPU path) and their f32 safeguard', () => {
  const denseLayout: KroneckerLayout = { weight: 'w', kind: 'dense', shape: [3, 4] };
  const settings = { inverse: 'newton-schulz' as const, step: 'natural' as const, polarSteps: 5 };

  it('newton-schulz: the damped inverses of a well-conditioned block, to f32 accuracy', async () => {
    const a = random.normal(random.key(1), [32, 4]);
    const g = random.normal(random.key(2), [32, 3]);
    let s = deviceKronecker.accumulate(undefined, denseLayout, { a, g }, weight);
    s = await deviceKronecker.refresh(s, 'w', settings, 0.1);
    const A = { rows: 4, cols: 4, re: Float64Array.from(read(s.A)), im: null };
    const trG = read(np.trace(s.G.ref))[0];
    const trA = read(np.trace(s.A.ref))[0];
    const { inputShift } = factoredDamping(trA, 4, trG, 3, 0.1);
    expect(maxRelDiff(Float64Array.from(read(s.Ainv!)), inverse(plusShift(A, inputShift)).re)).toBeLessThan(
      1e-3,
    );
    disposeTree([s.A, s.G, s.Ainv, s.Ginv]);
  });

  it('falls back to the f64 host factorisation when the f32 inverse is poor, and says so', async () => {
    // Ā = [[1, 1], [1, 1]] exactly singular and a shift below f32's resolution of its diagonal: on the
    // device M = Ā + shift·I is singular, its inverse not finite; in f64 the shift is kept.
    const a = np.array([
      [1, 1],
      [1, 1],
    ]);
    const g = np.array([[1], [1]]);
    const layout: KroneckerLayout = { weight: 'v', kind: 'dense', shape: [1, 2] };
    const warn = vi.spyOn(console, 'warn').mockImplementation(() => {});
    let s = deviceKronecker.accumulate(undefined, layout, { a, g }, weight);
    s = await deviceKronecker.refresh(s, 'v', settings, 1e-20);
    expect(warn.mock.calls.map((call) => String(call[0])).join('\n')).toMatch(
      /K-FAC layer v: damped input factor Ā: the f32 device inverse failed .* using the f64 host factorisation instead/,
    );
    warn.mockRestore();
    // The f64 inverse of Ā + shift·I: its entries are ±1/(2·shift) + 1/(2·(2 + shift)) ~ 1e9.
    const { inputShift } = factoredDamping(2, 2, 1, 1, 1e-20);
    const want = inverse(
      plusShift({ rows: 2, cols: 2, re: Float64Array.from([1, 1, 1, 1]), im: null }, inputShift),
    );
    expect(maxRelDiff(Float64Array.from(read(s.Ainv!)), want.re)).toBeLessThan(1e-4);
    disposeTree([s.A, s.G, s.Ainv, s.Ginv]);
  });
});
