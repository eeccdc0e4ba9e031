/** The defining identity of each geometry optimizer (issue: identity ≡ SGD, one-step K-FAC on least
 * squares, polar orthogonality, spectrum preservation, single-statistic Shampoo = polar factor). */
import { numpy as np } from '@jax-js/jax';
import { beforeAll, describe, expect, it } from 'vitest';
import { expectArrayClose, read, ready } from '../../test/jax-setup.js';
import { dense } from '../geometry/inner-product/dense.js';
import { matmul } from '../linalg/gemm.js';
import { polar } from '../linalg/matfun.js';
import { conjTranspose, identity, type Matrix, matrix, toNested } from '../linalg/matrix.js';
import { Rng, randomNormal } from '../linalg/random.js';
import { singularValues } from '../linalg/svd.js';
import { frobenius, kfac, sgd } from './alias.js';
import { applyUpdates } from './base.js';
import { pion, scaleByMuon } from './geometry-transforms.js';
import { factoredDamping, scaleByKfac } from './kfac.js';
import {
  cayleyNewtonSchulz,
  inverseNewtonSchulz,
  inverseRootNewton,
  POLAR_CUBIC,
  polarNewtonSchulz,
} from './matrix-functions.js';
import { scaleByShampoo } from './shampoo.js';
import type { GradientTransformation, ParamDict } from './types.js';

beforeAll(async () => {
  await ready;
});

const toJax = (M: Matrix) => np.array(toNested(M) as number[][]);
const build = (n: number, f: (i: number, j: number) => number): Matrix => {
  const M = identity(n);
  for (let i = 0; i < n; i++) for (let j = 0; j < n; j++) M.re[i * n + j] = f(i, j);
  return M;
};
const frobeniusOf = (M: Matrix) => Math.sqrt(M.re.reduce((s, v) => s + v * v, 0));
const fromJax = (x: np.Array): Matrix => {
  const [r, c] = x.shape;
  return { rows: r, cols: c, re: Float64Array.from(read(x)), im: null };
};

async function run(
  opt: GradientTransformation<unknown>,
  params: ParamDict,
  grads: ParamDict[],
  ctx = {},
): Promise<ParamDict> {
  let state = opt.init(params);
  for (const g of grads) {
    const [u, s] = await opt.update(g, state, params, ctx);
    state = s;
    params = applyUpdates(params, u);
  }
  return params;
}

describe('Frobenius-type preconditioning (MATH.md §6)', () => {
  it('with V = W = I is SGD bit for bit', async () => {
    const rng = new Rng(1);
    const p0 = toNested(randomNormal(rng, 3, 4)) as number[][];
    const gs = [0, 1, 2].map(() => toNested(randomNormal(rng, 3, 4)) as number[][]);
    const a = await run(
      frobenius(0.1),
      { w: np.array(p0) },
      gs.map((g) => ({ w: np.array(g) })),
    );
    const b = await run(
      sgd(0.1),
      { w: np.array(p0) },
      gs.map((g) => ({ w: np.array(g) })),
    );
    expect(read(a.w)).toEqual(read(b.w));
  });
  it('is the Riesz gradient W⁻¹GV (MATH.md §12.12)', async () => {
    const opt = frobenius(1, () => ({
      domain: np.array([
        [0.5, 0],
        [0, 0.25],
      ]),
      codomain: np.array([
        [1, 0],
        [0, 2],
      ]),
    }));
    const p = await run(opt, { w: np.zeros([2, 2]) }, [
      {
        w: np.array([
          [1, 2],
          [3, 4],
        ]),
      },
    ]);
    expectArrayClose(p.w, [-0.5, -0.5, -0.75, -0.5]);
  });
});

describe('matmul-only matrix functions', () => {
  it('cubic Newton–Schulz gives orthonormal columns equal to the polar factor', async () => {
    const G = randomNormal(new Rng(3), 6, 4);
    const X = fromJax(polarNewtonSchulz(toJax(G), 40, POLAR_CUBIC));
    const XtX = matmul(conjTranspose(X), X);
    for (let i = 0; i < 4; i++)
      for (let j = 0; j < 4; j++) expect(Math.abs(XtX.re[i * 4 + j] - (i === j ? 1 : 0))).toBeLessThan(1e-4);
    const P = polar(G);
    for (let k = 0; k < P.re.length; k++) expect(Math.abs(X.re[k] - P.re[k])).toBeLessThan(1e-4);
  });
  it('coupled Newton inverse 4th root of diag(16, 81) is diag(1/2, 1/3) (MATH.md §12.15)', async () => {
    expectArrayClose(
      await inverseRootNewton(
        np.array([
          [16, 0],
          [0, 81],
        ]),
        4,
      ),
      [0.5, 0, 0, 1 / 3],
      1e-5,
    );
  });
  it('Newton–Schulz inverse matches the exact inverse, cold and warm started', async () => {
    const A = np.array([
      [4, 1, 0],
      [1, 3, 1],
      [0, 1, 2],
    ]);
    const exact = read(np.linalg.inv(A.ref));
    const cold = await inverseNewtonSchulz(A.ref);
    expectArrayClose(cold.ref, exact, 1e-4);
    expectArrayClose(await inverseNewtonSchulz(A, { start: cold }), exact, 1e-4);
  });
  // A 48×48 SPD matrix with eigenvalues from 1e-3 to 1 (a K-FAC factor plus its shift looks so):
  // from the cold start ‖I − A/‖A‖‖_F ≈ 6.7, which the old "‖R₀‖_F < 1" test took for divergence.
  const spd = (n: number, lo: number): Matrix => {
    const Q = polar(randomNormal(new Rng(7), n, n));
    const D = identity(n);
    for (let i = 0; i < n; i++) D.re[i * n + i] = lo ** (i / (n - 1));
    return matmul(matmul(Q, D), conjTranspose(Q));
  };
  it('Newton–Schulz inverse converges from the cold start when ‖I − A/‖A‖‖_F ≥ 1, without the exact fallback', async () => {
    const A = spd(48, 1e-3);
    const X = await inverseNewtonSchulz(toJax(A), { exactFallback: false });
    const AX = matmul(A, fromJax(X));
    for (let i = 0; i < 48; i++) AX.re[i * 48 + i] -= 1;
    expect(Math.sqrt(AX.re.reduce((s, v) => s + v * v, 0)) / Math.sqrt(48)).toBeLessThan(1e-3);
  });
  it('Newton–Schulz inverse drops a warm start that does not contract and restarts cold', async () => {
    const A = spd(16, 1e-2);
    const bad = np.eye(16).mul(50); // ‖I − 50A‖ > 1: the iteration from here diverges
    const X = await inverseNewtonSchulz(toJax(A), { start: bad, exactFallback: false });
    const AX = matmul(A, fromJax(X));
    for (let i = 0; i < 16; i++) AX.re[i * 16 + i] -= 1;
    expect(Math.max(...AX.re.map(Math.abs))).toBeLessThan(1e-3);
  });
  it.each([0, 0.05, 1, 8])(
    'the Newton–Schulz Cayley transform of a skew H with ‖H‖_F = %s matches the solve and is orthogonal',
    (norm) => {
      const G = randomNormal(new Rng(11), 12, 12);
      const S = build(12, (i, j) => G.re[i * 12 + j] - G.re[j * 12 + i]);
      const f = frobeniusOf(S);
      const H = build(12, (i, j) => (f === 0 ? 0 : (S.re[i * 12 + j] * norm) / f));
      const Q = fromJax(cayleyNewtonSchulz(toJax(H), norm * norm));
      // (I + H)Q = I − H, in f64 on the host.
      const lhs = matmul(
        build(12, (i, j) => (i === j ? 1 : 0) + H.re[i * 12 + j]),
        Q,
      );
      const rhs = build(12, (i, j) => (i === j ? 1 : 0) - H.re[i * 12 + j]);
      expect(Math.max(...lhs.re.map((v, k) => Math.abs(v - rhs.re[k])))).toBeLessThan(1e-5 * (1 + norm));
      const QtQ = matmul(conjTranspose(Q), Q);
      expect(Math.max(...QtQ.re.map((v, k) => Math.abs(v - (k % 13 === 0 ? 1 : 0))))).toBeLessThan(1e-5);
    },
  );
  it('Newton–Schulz inverse of an indefinite matrix throws NumericalError without the exact fallback', async () => {
    const A = np.array([
      [1, 0],
      [0, -1],
    ]);
    await expect(inverseNewtonSchulz(A, { exactFallback: false })).rejects.toThrow(
      /Newton–Schulz inverse of a 2×2/,
    );
  });
});

describe('Muon and Pion (MATH.md §8, §9)', () => {
  it("Muon's direction has singular values in Newton–Schulz's band, scaled by √max(1, rows/cols)", async () => {
    const G = randomNormal(new Rng(4), 8, 4);
    const t = scaleByMuon({ beta: 0 });
    const [u] = await t.update({ w: toJax(G) }, t.init({ w: np.zeros([8, 4]) }));
    const s = singularValues(fromJax(u.w));
    for (const v of s) {
      expect(v / Math.SQRT2).toBeGreaterThan(0.6);
      expect(v / Math.SQRT2).toBeLessThan(1.25);
    }
  });
  it('Pion keeps every singular value and descends to first order', async () => {
    const rng = new Rng(5);
    const A = randomNormal(rng, 5, 3);
    const G = randomNormal(rng, 5, 3);
    const t = pion({ lr: 0.05 });
    const [u] = await t.update({ w: toJax(G) }, t.init({}), { w: toJax(A) });
    const next = fromJax(np.array(toNested(A) as number[][]).add(u.w.ref));
    const s0 = singularValues(A);
    const s1 = singularValues(next);
    for (let i = 0; i < s0.length; i++) expect(Math.abs(s1[i] - s0[i]) / s0[i]).toBeLessThan(1e-5);
    // ⟨G, u⟩ < 0: the loss decreases to first order.
    const inner = read(u.w).reduce((acc, v, k) => acc + v * G.re[k], 0);
    expect(inner).toBeLessThan(0);
  });
});

describe('Shampoo (MATH.md §8)', () => {
  it('with a single step of statistics is the polar factor U Qᵀ', async () => {
    const rng = new Rng(6);
    // A well-conditioned G = P diag(1, 1.5, 2) Qᵀ.
    const U = polar(randomNormal(rng, 3, 3));
    const Q = polar(randomNormal(rng, 3, 3));
    const G = matmul(
      matmul(
        U,
        matrix([
          [1, 0, 0],
          [0, 1.5, 0],
          [0, 0, 2],
        ]),
      ),
      conjTranspose(Q),
    );
    const t = scaleByShampoo({ graft: false, eps: 1e-7 });
    const [u] = await t.update({ w: toJax(G) }, t.init({ w: np.zeros([3, 3]) }));
    const P = polar(G);
    const got = read(u.w);
    for (let k = 0; k < got.length; k++) expect(Math.abs(got[k] - P.re[k])).toBeLessThan(2e-3);
  });
});

describe('K-FAC (MATH.md §7)', () => {
  it('factored damping splits λ by π (MATH.md §12.12)', async () => {
    const d = factoredDamping(6, 2, 6, 3, 0.04);
    expect(d.pi).toBeCloseTo(Math.sqrt(1.5), 12);
    expect(d.inputShift).toBeCloseTo(0.244948974, 8);
    expect(d.outputShift).toBeCloseTo(0.163299316, 8);
  });
  it.each(['host', 'exact', 'newton-schulz'] as const)(
    'one step with η = 1 on linear least squares lands on the minimiser (Γ = I, V = C⁻¹; %s inverses)',
    async (inverse) => {
      // Inputs with E[xxᵀ] = diag(0.5, 5000) (condition number 10⁴) and output-gradient taps with E[ggᵀ] = I.
      const X = [
        [1, 0],
        [-1, 0],
        [0, 100],
        [0, -100],
      ];
      const r = Math.SQRT2;
      const gTap = [
        [r, 0],
        [0, r],
        [-r, 0],
        [0, -r],
      ];
      const Astar = [
        [2, -1],
        [0.5, 3],
      ];
      const A = [
        [0, 0],
        [1, 1],
      ];
      // Population gradient of ½E‖Ax − A*x‖²: G = (A − A*) C.
      const C = [0.5, 5000];
      const G = A.map((row, i) => row.map((v, j) => (v - Astar[i][j]) * C[j]));
      const opt = kfac(1, { damping: 1e-14, inverse });
      const p = await run(opt, { 'fc.w': np.array(A) }, [{ 'fc.w': np.array(G) }], {
        taps: { 'fc.w': { a: np.array(X), g: np.array(gTap) } },
      });
      expectArrayClose(p['fc.w'], Astar.flat(), 1e-4);
    },
  );
  it('folds the bias into the input factor: U = (Γ+…)⁻¹ [G g_b] (Ā+…)⁻¹, as in f64', async () => {
    const rng = new Rng(8);
    const a = randomNormal(rng, 16, 3);
    const g = randomNormal(rng, 16, 2);
    const Gw = randomNormal(rng, 2, 3);
    const gb = randomNormal(rng, 2, 1);
    const lam = 0.01;
    const t = scaleByKfac({ damping: lam, inverse: 'exact' });
    const [u] = await t.update(
      { 'fc.w': toJax(Gw), 'fc.b': np.array(Array.from(gb.re)) },
      t.init({}),
      {},
      { taps: { 'fc.w': { a: toJax(a), g: toJax(g) } } },
    );
    // f64 reference on the augmented input [a, 1].
    const aug = matrix(Array.from({ length: 16 }, (_, i) => [...a.re.slice(i * 3, i * 3 + 3), 1]));
    const Abar = matmul(conjTranspose(aug), aug);
    const Gam = matmul(conjTranspose(g), g);
    const scaleBy = (M: Matrix, c: number) => ({ ...M, re: M.re.map((v) => v * c) });
    const Ab = scaleBy(Abar, 1 / 16);
    const Gb = scaleBy(Gam, 1 / 16);
    const tr = (M: Matrix) =>
      Array.from({ length: M.rows }, (_, i) => M.re[i * M.cols + i]).reduce((x, y) => x + y);
    const d = factoredDamping(tr(Ab), 4, tr(Gb), 2, lam);
    const shift = (M: Matrix, c: number) => ({
      ...M,
      re: M.re.map((v, k) => v + (k % (M.cols + 1) === 0 ? c : 0)),
    });
    const Gmat = matrix([
      [...Gw.re.slice(0, 3), gb.re[0]],
      [...Gw.re.slice(3, 6), gb.re[1]],
    ]);
    const inv = (M: Matrix) => dense(M).inverseRieszMap(identity(M.rows));
    const U = matmul(matmul(inv(shift(Gb, d.outputShift)), Gmat), inv(shift(Ab, d.inputShift)));
    const w = read(u['fc.w']);
    const b = read(u['fc.b']);
    for (let i = 0; i < 2; i++) {
      for (let j = 0; j < 3; j++)
        expect(Math.abs(w[i * 3 + j] - U.re[i * 4 + j])).toBeLessThan(1e-3 * (1 + Math.abs(U.re[i * 4 + j])));
      expect(Math.abs(b[i] - U.re[i * 4 + 3])).toBeLessThan(1e-3 * (1 + Math.abs(U.re[i * 4 + 3])));
    }
  });
  it('KL clip rescales the step so that lr²·ν²·⟨u, G⟩ = max', async () => {
    const mk = () => ({
      a: np.array([
        [1, 0],
        [0, 1],
        [1, 1],
      ]),
      g: np.array([
        [1, 0],
        [0, 1],
        [1, -1],
      ]),
    });
    const G = [
      [3, -1],
      [2, 5],
    ];
    const step = async (klClip?: number) => {
      const opt = kfac(0.5, { damping: 1e-3, inverse: 'exact', klClip, biasOf: () => undefined });
      const [u] = await opt.update({ 'fc.w': np.array(G) }, opt.init({}), {}, { taps: { 'fc.w': mk() } });
      return read(u['fc.w']);
    };
    const free = await step();
    const clipped = await step(1e-3);
    // free = −lr·U, so ⟨U, G⟩ = −⟨free, G⟩/lr and ν = √(max / (lr²⟨U, G⟩)).
    const uG = -free.reduce((acc, v, k) => acc + v * G.flat()[k], 0) / 0.5;
    const nu = Math.sqrt(1e-3 / (0.25 * uG));
    expect(nu).toBeLessThan(1);
    for (let k = 0; k < 4; k++) expect(Math.abs(clipped[k] - nu * free[k])).toBeLessThan(1e-5);
    const loose = await step(1e6);
    for (let k = 0; k < 4; k++) expect(Math.abs(loose[k] - free[k])).toBeLessThan(1e-6);
  });
  it('weights without taps pass through unchanged', async () => {
    const t = scaleByKfac();
    const [u] = await t.update({ 'emb.w': np.array([[1, 2]]) }, t.init({}));
    expectArrayClose(u['emb.w'], [1, 2], 0);
  });
});
