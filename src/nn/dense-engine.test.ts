/**
 * The CPU engine against the jax-js path it stands in for: the same losses, gradients, taps,
 * squared errors and tangents to f32 tolerance, for every activation, loss and Fisher kind, on
 * untidy sizes; and its SIMD elementwise kernels against scalar references.
 */
import { numpy as np, random } from '@jax-js/jax';
import fc from 'fast-check';
import { afterEach, beforeAll, describe, expect, it } from 'vitest';
import { read, ready } from '../../test/jax-setup.js';
import type { CurvatureTap, ParamDict } from '../backend/taps.js';
import { disposeTree } from '../backend/taps.js';
import { disableThreads, enableThreads } from '../backend/threads.js';
import { f32Workspace } from '../linalg/wasm/runtime.js';
import { setDenseEngine } from './dense-engine.js';
import type { LossAndGrads } from './fisher.js';
import type { Activation } from './layers.js';
import { type Loss, sigmoidCrossEntropy, softmaxCrossEntropy, squaredError } from './losses.js';
import { initMlp, type MlpSpec, mlpLossAndGrads, mlpPredict } from './mlp.js';

beforeAll(async () => {
  await ready;
});
afterEach(() => setDenseEngine(true));

function closeTo(got: number[], want: number[], tol: number, what: string): void {
  expect(got.length, what).toBe(want.length);
  const scale = Math.max(1e-3, ...want.map(Math.abs));
  let worst = 0;
  for (let i = 0; i < got.length; i++) worst = Math.max(worst, Math.abs(got[i] - want[i]));
  expect(worst / scale, `${what}: worst difference ${worst} at scale ${scale}`).toBeLessThan(tol);
}

function direction(params: ParamDict, seed: number): ParamDict {
  const d: ParamDict = {};
  let i = 0;
  for (const [k, p] of Object.entries(params)) d[k] = random.normal(random.key(seed * 100 + i++), p.shape);
  return d;
}

function run(
  engine: boolean,
  spec: MlpSpec,
  loss: Loss,
  fisher: 'true' | 'empirical' | 'none',
  batch: number,
  { rows = batch, curvatureRows }: { rows?: number; curvatureRows?: number } = {},
) {
  setDenseEngine(engine);
  const params = initMlp(spec, 1);
  // The batch's first `rows` rows (the data of a `batch`-row batch, cut).
  const first = (t: ReturnType<typeof random.normal>) => {
    const c = t.shape[1];
    const data = Float32Array.from(read(t).slice(0, rows * c));
    t.dispose();
    return np.array(data).reshape([rows, c]);
  };
  const x = first(random.normal(random.key(2), [batch, spec.sizes[0]]));
  const C = spec.sizes[spec.sizes.length - 1];
  const targets =
    loss === softmaxCrossEntropy
      ? np.array(
          Int32Array.from({ length: rows }, (_, i) => (i * 7) % C),
          { dtype: np.int32 },
        )
      : loss === sigmoidCrossEntropy
        ? first(random.uniform(random.key(3), [batch, C]))
        : first(random.normal(random.key(3), [batch, C]));
  const r: LossAndGrads = mlpLossAndGrads(params, x, targets, spec, loss, {
    fisher,
    key: random.key(4),
    keepForward: true,
    curvatureRows,
  });
  const dirs = [direction(params, 5), direction(params, 6)];
  const tangents = r.forward!.tangents(dirs).map((t) => {
    const v = read(t);
    t.dispose();
    return v;
  });
  const taps = Object.fromEntries(
    Object.entries(r.taps ?? {}).map(([k, t]) => {
      const tap = t as CurvatureTap;
      return [k, { a: read(tap.a), g: read(tap.g), shape: [tap.a.shape[1], tap.g.shape[1]], sums: tap.sums }];
    }),
  );
  const out = {
    loss: read(r.loss),
    sse: r.sse ? read(r.sse) : [],
    grads: Object.fromEntries(Object.entries(r.grads).map(([k, g]) => [k, read(g)])),
    taps,
    tangents,
    out: read(r.forward!.out),
  };
  r.forward!.dispose();
  disposeTree([r.loss, r.sse, r.grads, r.taps, params, dirs]);
  return out;
}

const cases: [string, Loss, Activation, number[]][] = [
  ['sigmoid CE, tanh, a linear code layer', sigmoidCrossEntropy, 'tanh', [13, 9, 3, 9, 13]],
  ['softmax CE, relu', softmaxCrossEntropy, 'relu', [17, 33, 5]],
  ['squared error, sigmoid', squaredError, 'sigmoid', [6, 1, 7, 2]],
];

describe('dense engine against the jax-js path', () => {
  for (const [what, loss, act, sizes] of cases)
    for (const fisher of ['true', 'empirical', 'none'] as const)
      it(`${what}, fisher ${fisher}`, () => {
        const spec: MlpSpec = {
          sizes,
          activation: act,
          activations: sizes.length === 5 ? [act, 'identity', act] : undefined,
          init: 'glorot-uniform',
        };
        const batch = 11;
        const a = run(true, spec, loss, fisher, batch);
        const b = run(false, spec, loss, fisher, batch);
        closeTo(a.loss, b.loss, 1e-5, 'loss');
        closeTo(a.sse, b.sse, 1e-5, 'squared error');
        closeTo(a.out, b.out, 1e-5, 'outputs');
        expect(Object.keys(a.grads).sort()).toEqual(Object.keys(b.grads).sort());
        for (const k of Object.keys(b.grads)) closeTo(a.grads[k], b.grads[k], 1e-4, `gradient ${k}`);
        expect(Object.keys(a.taps).sort()).toEqual(Object.keys(b.taps).sort());
        for (const k of Object.keys(b.taps)) {
          closeTo(a.taps[k].a, b.taps[k].a, 1e-5, `tap ${k}.a`);
          closeTo(a.taps[k].g, b.taps[k].g, 1e-4, `tap ${k}.g`);
          // The engine's sums are aᵀa, Σa and gᵀg of the reference tap.
          const [n, m] = b.taps[k].shape;
          const gram = (X: number[], c: number) =>
            Array.from({ length: c * c }, (_, ij) => {
              let s = 0;
              for (let r = 0; r < batch; r++) s += X[r * c + Math.floor(ij / c)] * X[r * c + (ij % c)];
              return s;
            });
          const colSums = (X: number[], c: number) =>
            Array.from({ length: c }, (_, j) => X.filter((_, q) => q % c === j).reduce((x, y) => x + y, 0));
          const sums = a.taps[k].sums!;
          closeTo(Array.from(sums.aa), gram(b.taps[k].a, n), 1e-5, `${k} aᵀa`);
          closeTo(Array.from(sums.a), colSums(b.taps[k].a, n), 1e-5, `${k} Σa`);
          closeTo(Array.from(sums.gg), gram(b.taps[k].g, m), 1e-4, `${k} gᵀg`);
        }
        for (const [i, t] of a.tangents.entries()) closeTo(t, b.tangents[i], 1e-4, `tangent ${i}`);
      });
});

describe('dense engine: predictions', () => {
  it.each(cases)('equal the jax-js forward pass to f32 tolerance (%s)', (_, _loss, act, sizes) => {
    const spec: MlpSpec = { sizes, activation: act, init: 'glorot-uniform' };
    const params = initMlp(spec, 7);
    const outputs = (engine: boolean) => {
      setDenseEngine(engine);
      return read(mlpPredict(params, random.normal(random.key(8), [23, sizes[0]]), spec));
    };
    const [a, b] = [outputs(true), outputs(false)];
    closeTo(a, b, 1e-5, 'outputs');
    disposeTree(params);
  });
  // (This also shows that mlpPredict runs on the engine: the jax-js path would not touch its buffers.)
  it("ends a step's kept forward pass: its tangents then refuse, naming why", () => {
    const spec: MlpSpec = { sizes: [5, 4, 3], activation: 'tanh', init: 'glorot-uniform' };
    const params = initMlp(spec, 1);
    const x = random.normal(random.key(2), [6, 5]);
    const y = random.uniform(random.key(3), [6, 3]);
    const r = mlpLossAndGrads(params, x, y, spec, sigmoidCrossEntropy, { keepForward: true });
    read(mlpPredict(params, random.normal(random.key(4), [6, 5]), spec));
    const d = direction(params, 5);
    expect(() => r.forward!.tangents([d])).toThrow(/another engine call overwrote the buffers/);
    r.forward!.dispose();
    disposeTree([r.loss, r.sse, r.grads, params, d]);
  });
});

describe("dense engine: curvature on the batch's first rows (curvatureRows)", () => {
  for (const [what, loss, act, sizes] of cases)
    it(`${what}: gradients of the whole batch, taps and tangents of the first rows`, () => {
      const spec: MlpSpec = {
        sizes,
        activation: act,
        activations: sizes.length === 5 ? [act, 'identity', act] : undefined,
        init: 'glorot-uniform',
      };
      const [batch, S] = [13, 5];
      const sub = run(true, spec, loss, 'true', batch, { curvatureRows: S });
      // The jax-js path on the whole batch (loss, gradients) and on its first S rows (taps, tangents:
      // the same key samples the same targets from the same S outputs).
      const whole = run(false, spec, loss, 'true', batch);
      const head = run(false, spec, loss, 'true', batch, { rows: S });
      closeTo(sub.loss, whole.loss, 1e-5, 'loss');
      for (const k of Object.keys(whole.grads)) closeTo(sub.grads[k], whole.grads[k], 1e-4, `gradient ${k}`);
      closeTo(sub.out, head.out, 1e-5, 'kept outputs');
      for (const [i, t] of sub.tangents.entries()) closeTo(t, head.tangents[i], 1e-4, `tangent ${i}`);
      expect(Object.keys(sub.taps).sort()).toEqual(Object.keys(head.taps).sort());
      for (const k of Object.keys(head.taps)) {
        expect(sub.taps[k].a.length).toBe(S * head.taps[k].shape[0]);
        closeTo(sub.taps[k].a, head.taps[k].a, 1e-5, `tap ${k}.a`);
        closeTo(sub.taps[k].g, head.taps[k].g, 1e-4, `tap ${k}.g`);
      }
    });
});

describe('dense engine kernels against scalar references', () => {
  const ws = () => {
    const w = f32Workspace(1 << 20);
    if (!w) throw new Error('no WebAssembly SIMD here');
    return w;
  };
  const values = fc.array(
    fc.oneof(fc.float({ min: -100, max: 100, noNaN: true }), fc.constantFrom(0, -0, 1e-40, 30, -30)),
    {
      minLength: 1,
      maxLength: 203,
    },
  );
  const reference: Record<number, (s: number) => number> = {
    1: (s) => Math.max(s, 0),
    2: Math.tanh,
    3: (s) => 1 / (1 + Math.exp(-s)),
  };
  for (const [kind, name] of [
    [1, 'relu'],
    [2, 'tanh'],
    [3, 'sigmoid'],
  ] as const)
    it(`${name}: within 3e-7 of the f64 function, odd lengths included`, () => {
      fc.assert(
        fc.property(values, (xs) => {
          const w = ws();
          w.heap().set(xs, w.base / 4);
          w.kernels.activate(kind, w.base, xs.length);
          const got = w.heap().subarray(w.base / 4, w.base / 4 + xs.length);
          for (let i = 0; i < xs.length; i++) {
            const want = reference[kind](Math.fround(xs[i]));
            expect(Math.abs(got[i] - want), `${name}(${xs[i]})`).toBeLessThanOrEqual(
              3e-7 * Math.max(1, Math.abs(want)),
            );
          }
        }),
        { numRuns: 200 },
      );
    });

  it('sigmoid cross-entropy: the sums and the gradient against f64', () => {
    fc.assert(
      fc.property(values, fc.integer({ min: 1, max: 5 }), (zs, rows) => {
        const cols = zs.length;
        const n = rows * cols;
        const z = Float32Array.from({ length: n }, (_, i) => zs[i % cols] / (1 + (i % 3)));
        const t = Float32Array.from({ length: n }, (_, i) => ((i * 37) % 11) / 10);
        const w = ws();
        const base = w.base / 4;
        w.heap().set(z, base);
        w.heap().set(t, base + n);
        const sums = w.base + Math.ceil((12 * n) / 64) * 64 + 64;
        w.kernels.sigmoidCrossEntropy(w.base, w.base + 4 * n, rows, cols, w.base + 8 * n, 0.5, sums);
        let loss = 0;
        let sq = 0;
        const g = w.heap().subarray(base + 2 * n, base + 3 * n);
        for (let i = 0; i < n; i++) {
          const s = 1 / (1 + Math.exp(-z[i]));
          loss += Math.max(z[i], 0) + Math.log1p(Math.exp(-Math.abs(z[i]))) - t[i] * z[i];
          sq += (s - t[i]) ** 2;
          expect(Math.abs(g[i] - 0.5 * (s - t[i]))).toBeLessThan(1e-7);
        }
        const got = new Float64Array(w.heap().buffer, sums, 2);
        expect(Math.abs(got[0] - loss)).toBeLessThanOrEqual(1e-5 * Math.max(1, Math.abs(loss)));
        expect(Math.abs(got[1] - sq)).toBeLessThanOrEqual(1e-5 * Math.max(1, sq));
      }),
      { numRuns: 100 },
    );
  });

  it('column sums', () => {
    const w = ws();
    const [rows, cols] = [7, 13];
    const x = Float32Array.from({ length: rows * cols }, (_, i) => Math.sin(i));
    w.heap().set(x, w.base / 4);
    const out = w.base + 4 * rows * cols + 64;
    w.kernels.columnSums(w.base, rows, cols, out);
    const got = w.heap().subarray(out / 4, out / 4 + cols);
    for (let j = 0; j < cols; j++) {
      let s = 0;
      for (let r = 0; r < rows; r++) s += x[r * cols + j];
      expect(Math.abs(got[j] - s)).toBeLessThan(1e-5);
    }
  });

  it('the lower-triangle product (AᵀA) equals the full one below the diagonal, on two threads too', () => {
    enableThreads(2);
    const w = ws();
    for (const [rows, cols] of [
      [37, 29],
      [300, 130],
    ]) {
      const A = Float32Array.from({ length: rows * cols }, (_, i) => Math.cos(i * 0.37));
      const base = w.base / 4;
      w.heap().set(A, base);
      const pc = w.base + 4 * rows * cols;
      w.heap().fill(0, pc / 4, pc / 4 + cols * cols);
      w.sgemm(cols, cols, rows, w.base, cols, w.base, cols, pc, cols, { transA: true, lower: true });
      const C = w.heap().subarray(pc / 4, pc / 4 + cols * cols);
      for (let i = 0; i < cols; i++)
        for (let j = 0; j <= i; j++) {
          let s = 0;
          for (let r = 0; r < rows; r++) s += A[r * cols + i] * A[r * cols + j];
          expect(Math.abs(C[i * cols + j] - s), `(${i}, ${j})`).toBeLessThan(1e-3);
        }
    }
    disableThreads();
  });
});
