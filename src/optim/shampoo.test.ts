/**
 * Shampoo's device path (shampoo-roots.ts, shampoo.ts with roots: 'device') on jax-js's Wasm device,
 * whose f32 arithmetic is the device path's: the coupled Newton root against the f64
 * eigendecomposition, the fallback to it when the iteration fails, the whole step against the host
 * path, and checkpoints of a device state (and a host state resumed on the device).
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { numpy as np } from '@jax-js/jax';
import { afterEach, beforeAll, describe, expect, it, vi } from 'vitest';
import { read, ready } from '../../test/jax-setup.js';
import { matmul } from '../linalg/gemm.js';
import { polar } from '../linalg/matfun.js';
import { conjTranspose, identity, type Matrix, toNested } from '../linalg/matrix.js';
import { Rng, randomNormal } from '../linalg/random.js';
import { loadCheckpoint, saveCheckpoint } from '../train/checkpoint.js';
import { disposeTree } from './base.js';
import { inverseRootNewton, NumericalError } from './matrix-functions.js';
import { scaleByShampoo } from './shampoo.js';
import { type DeviceRootOutcome, dampedRoot, deviceDampedRoots } from './shampoo-roots.js';
import type { ParamDict } from './types.js';

beforeAll(async () => {
  await ready;
});
afterEach(() => {
  vi.restoreAllMocks();
});

const toJax = (M: Matrix) => np.array(toNested(M) as number[][]);

/** Q diag(d) Qᵀ with Q a random orthogonal matrix. */
function spd(n: number, d: (i: number) => number, seed: number): Matrix {
  const Q = polar(randomNormal(new Rng(seed), n, n));
  const D = identity(n);
  for (let i = 0; i < n; i++) D.re[i * n + i] = d(i);
  return matmul(matmul(Q, D), conjTranspose(Q));
}

/** max |a − b| / max |b|. */
function relErr(a: number[], b: Float64Array | number[]): number {
  let num = 0;
  let den = 0;
  a.forEach((v, k) => {
    num = Math.max(num, Math.abs(v - b[k]));
    den = Math.max(den, Math.abs(b[k]));
  });
  return num / den;
}

describe('inverseRootNewton with sparse checks (checkEvery)', () => {
  it('converges as with a check per step, and still reports divergence', async () => {
    const A = [
      [16, 0],
      [0, 81],
    ];
    const X = await inverseRootNewton(np.array(A), 4, { checkEvery: 5, fro: Math.hypot(16, 81) });
    expect(relErr(read(X), [0.5, 0, 0, 1 / 3])).toBeLessThan(1e-5);
    X.dispose();
    // An indefinite matrix: its negative eigenvalue grows each step until the iterate overflows.
    const bad = np.array([
      [1, 0],
      [0, -0.5],
    ]);
    await expect(inverseRootNewton(bad, 4, { checkEvery: 4 })).rejects.toThrow(NumericalError);
  });
});

describe('Shampoo device roots (coupled Newton in f32)', () => {
  it('match the f64 eigendecomposition on a well-conditioned SPD statistic', async () => {
    const n = 24;
    const S = spd(n, (i) => 0.1 * 20 ** (i / (n - 1)), 1);
    const outcomes: DeviceRootOutcome[] = [];
    const warn = vi.spyOn(console, 'warn');
    const St = toJax(S);
    const [X] = await deviceDampedRoots([{ S: St, name: 'S' }], 1e-6, {
      report: (_, o) => outcomes.push(o),
    });
    St.dispose();
    expect(outcomes[0].path).toBe('device');
    expect(outcomes[0].residual).toBeLessThan(1e-5);
    expect(warn).not.toHaveBeenCalled();
    expect(relErr(read(X), dampedRoot(S, 1e-6, 'S').re)).toBeLessThan(2e-5);
    X.dispose();
  });

  it('fall back to the f64 root, saying so once, when the iteration diverges', async () => {
    // An indefinite "statistic" (f32 round-off can leave one so): a negative eigenvalue of M grows
    // by ((p+1)/p)ᵖ or more per step, and the root overflows. The host root clamps it to the shift.
    const n = 12;
    const S = spd(n, (i) => (i === 0 ? -0.5 : 1 + i), 2);
    const warn = vi.spyOn(console, 'warn').mockImplementation(() => {});
    const outcomes: DeviceRootOutcome[] = [];
    const want = dampedRoot(S, 1e-6, 'indefinite').re;
    for (let round = 0; round < 2; round++) {
      const St = toJax(S);
      const [X] = await deviceDampedRoots([{ S: St, name: 'indefinite' }], 1e-6, {
        report: (_, o) => outcomes.push(o),
      });
      St.dispose();
      expect(relErr(read(X), want)).toBeLessThan(1e-6);
      X.dispose();
    }
    expect(outcomes.map((o) => o.path)).toEqual(['fallback', 'fallback']);
    expect(warn).toHaveBeenCalledTimes(1);
    expect(String(warn.mock.calls[0][0])).toMatch(
      /indefinite: the f32 coupled Newton .* failed \(the root is not finite after \d+ steps\); using the f64 eigendecomposition on the host instead/,
    );
  });

  it('fall back on a rank-one statistic whose damping f32 cannot resolve, and still return its host root', async () => {
    // S = vvᵀ, 256×256: the damping 1e-6·tr/n puts M₀'s smallest eigenvalue near 1e-8, below f32's
    // round-off (as MNIST's first statistics do).
    const n = 256;
    const v = randomNormal(new Rng(4), n, 1);
    const S = matmul(v, conjTranspose(v));
    const warn = vi.spyOn(console, 'warn').mockImplementation(() => {});
    const outcomes: DeviceRootOutcome[] = [];
    const St = toJax(S);
    const [X] = await deviceDampedRoots([{ S: St, name: 'rank-one' }], 1e-6, {
      report: (_, o) => outcomes.push(o),
    });
    St.dispose();
    expect(outcomes[0].path).toBe('fallback');
    expect(outcomes[0].m0).toBeLessThan(1e-7);
    expect(warn).toHaveBeenCalledTimes(1);
    // The host root of the statistic the device holds: f32 (its rounding moves the null space's
    // eigenvalues by about the damping, so the f64 statistic's root differs there by several %).
    const S32 = { ...S, re: Float64Array.from(Float32Array.from(S.re)) };
    expect(relErr(read(X), dampedRoot(S32, 1e-6, 'rank-one').re)).toBeLessThan(1e-6);
    X.dispose();
  });

  it('throw a NumericalError for a statistic with NaN entries, as the host does', async () => {
    const St = np.array([
      [1, Number.NaN],
      [Number.NaN, 1],
    ]);
    await expect(deviceDampedRoots([{ S: St, name: 'bad' }], 1e-6)).rejects.toThrow(NumericalError);
    St.dispose();
  });

  it('take the host root without a warning for statistics wider than maxDim', async () => {
    const S = spd(6, (i) => 1 + i, 5);
    const warn = vi.spyOn(console, 'warn');
    const outcomes: DeviceRootOutcome[] = [];
    const St = toJax(S);
    const [X] = await deviceDampedRoots([{ S: St, name: 'wide' }], 1e-6, {
      maxDim: 5,
      report: (_, o) => outcomes.push(o),
    });
    St.dispose();
    expect(outcomes[0].path).toBe('host');
    expect(warn).not.toHaveBeenCalled();
    expect(relErr(read(X), dampedRoot(S, 1e-6, 'wide').re)).toBeLessThan(1e-6);
    X.dispose();
  });
});

/** Gradients of two weights and a bias, fixed per step. */
function gradsAt(t: number): ParamDict {
  const rng = new Rng(100 + t);
  return {
    a: toJax(randomNormal(rng, 5, 7)),
    b: toJax(randomNormal(rng, 4, 3)),
    c: np.array(Float32Array.from([0.1 * t, -0.2, 0.3])),
  };
}
const params = (): ParamDict => ({ a: np.zeros([5, 7]), b: np.zeros([4, 3]), c: np.zeros([3]) });

async function run(opt: ReturnType<typeof scaleByShampoo>, from: number, to: number, state: unknown) {
  const updates: Record<string, number[]>[] = [];
  let s = state as Parameters<typeof opt.update>[1];
  for (let t = from; t < to; t++) {
    const [u, next] = await opt.update(gradsAt(t), s);
    updates.push(Object.fromEntries(Object.entries(u).map(([k, v]) => [k, read(v)])));
    disposeTree(u);
    s = next;
  }
  return { updates, state: s };
}

describe('Shampoo on the device path', () => {
  // With ε = 1e-3 the damping dominates the f32 statistics' round-off (≈1e-7 of the largest
  // eigenvalue), and the steps agree to f32 tolerance. With the default ε = 1e-6 it does not where a
  // statistic is rank-deficient (R = GᵀG of a 5×7 gradient after one step): its null space's
  // eigenvalues are 0 in f64 and ±1e-7·‖R‖ in f32, about the damping itself, and a later gradient
  // with a component there meets roots (λ + shift)^{−1/4} that differ by a few per cent (2% here).
  it.each([
    [1e-3, 1e-4],
    [1e-6, 5e-2],
  ])(
    'takes the host path’s steps (ε = %s) to %s (refreshes at steps 0 and 3; grafted and not)',
    async (eps, tol) => {
      for (const graft of [true, false]) {
        const host = scaleByShampoo({ roots: 'host', updateEvery: 3, graft, eps });
        const device = scaleByShampoo({ roots: 'device', updateEvery: 3, graft, eps });
        const h = await run(host, 0, 5, host.init(params()));
        const d = await run(device, 0, 5, device.init(params()));
        for (let t = 0; t < 5; t++)
          for (const k of ['a', 'b', 'c'])
            expect(relErr(d.updates[t][k], h.updates[t][k]), `step ${t}, ${k}, graft ${graft}`).toBeLessThan(
              tol,
            );
        disposeTree([h.state, d.state]);
      }
    },
  );

  it('with one step of statistics is the polar factor of G (as on the host)', async () => {
    const G = randomNormal(new Rng(6), 4, 6);
    const t = scaleByShampoo({ roots: 'device', graft: false, eps: 1e-7 });
    const [u, s] = await t.update({ w: toJax(G) }, t.init({ w: np.zeros([4, 6]) }));
    expect(relErr(read(u.w), polar(G).re)).toBeLessThan(2e-4);
    disposeTree([u, s]);
  });

  it('saves its f32 state to a checkpoint and resumes bit for bit; a host checkpoint resumes on the device', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'riesz-shampoo-'));
    try {
      for (const from of ['device', 'host'] as const) {
        const first = scaleByShampoo({ roots: from, updateEvery: 3 });
        const { state } = await run(first, 0, 2, first.init(params()));
        const file = join(dir, `${from}.safetensors`);
        await saveCheckpoint(file, { params: params(), state, step: 2, run: {} });
        const back = loadCheckpoint(file);
        disposeTree(back.params);
        // The device state is stored as f32 arrays, the host state as f64 matrices (unchanged).
        const L = (back.state as { L: Record<string, unknown> }).L.a;
        expect(from === 'device' ? L instanceof np.Array : (L as Matrix).re instanceof Float64Array).toBe(
          true,
        );
        const device = scaleByShampoo({ roots: 'device', updateEvery: 3 });
        const a = await run(device, 2, 5, state);
        const b = await run(device, 2, 5, back.state);
        if (from === 'device') expect(b.updates).toEqual(a.updates);
        else {
          // The host's f64 statistics and roots resume as f32 arrays: equal to f32 tolerance.
          const h = await run(first, 2, 5, (await run(first, 0, 2, first.init(params()))).state);
          for (let t = 0; t < 3; t++)
            for (const k of ['a', 'b', 'c'])
              expect(relErr(b.updates[t][k], h.updates[t][k]), `step ${t + 2}, ${k}`).toBeLessThan(1e-4);
          disposeTree(h.state);
        }
        disposeTree([a.state, b.state]);
      }
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
