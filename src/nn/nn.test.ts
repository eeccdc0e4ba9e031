/** Explicit backward passes against jax-js autodiff, the tap identity, and K-FAC on a real model. */
import { grad, jvp, numpy as np, random } from '@jax-js/jax';
import fc from 'fast-check';
import { beforeAll, describe, expect, it } from 'vitest';
import { read, ready } from '../../test/jax-setup.js';
import type { CurvatureTap, ParamDict, Tensor } from '../backend/taps.js';
import { kfac, sgd } from '../optim/alias.js';
import { applyUpdates } from '../optim/base.js';
import type { GradientTransformation } from '../optim/types.js';
import { fisherCurvature } from './fisher.js';
import { activationForward } from './layers.js';
import { type Loss, sigmoidCrossEntropy, softmaxCrossEntropy, squaredError } from './losses.js';
import { initMlp, type MlpSpec, mlpForward, mlpLossAndGrads } from './mlp.js';
import { mlpModel } from './model.js';

beforeAll(async () => {
  await ready;
});

const maxDiff = (a: number[], b: number[]) => a.reduce((m, v, i) => Math.max(m, Math.abs(v - b[i])), 0);

describe('MLP backward equals jax-js grad', () => {
  const cases: [string, MlpSpec, Loss, () => Tensor][] = [
    [
      'softmax CE, relu',
      { sizes: [5, 7, 3], activation: 'relu' },
      softmaxCrossEntropy,
      () => np.array([0, 2, 1, 1], { dtype: np.int32 }),
    ],
    [
      'sigmoid CE, tanh',
      { sizes: [5, 6, 4, 5], activation: 'tanh' },
      sigmoidCrossEntropy,
      () => random.bernoulli(random.key(3), 0.5, [4, 5]).astype(np.float32),
    ],
    [
      'squared error, sigmoid',
      { sizes: [5, 4, 2], activation: 'sigmoid' },
      squaredError,
      () => random.normal(random.key(4), [4, 2]),
    ],
  ];
  it.each(cases)('%s', (_, spec, loss, targets) => {
    const params = initMlp(spec, 1);
    const x = random.normal(random.key(2), [4, 5]);
    const t = targets();
    const ours = mlpLossAndGrads(params, x.ref, t.ref, spec, loss);
    const f = (p: ParamDict) => {
      const { out, caches } = mlpForward(p, x.ref, spec);
      for (const c of caches) {
        c.dense.dispose();
        c.act?.dispose();
      }
      return loss.value(out, t.ref);
    };
    const auto = grad(f)(params) as ParamDict;
    for (const k of Object.keys(auto)) {
      const d = maxDiff(read(ours.grads[k]), read(auto[k]));
      expect(d, k).toBeLessThan(1e-5);
    }
  });
});

describe('curvature taps', () => {
  it('reproduce the weight gradient exactly: ∂L/∂W = gᵀa / B (empirical Fisher)', () => {
    const spec: MlpSpec = { sizes: [3, 4, 2] };
    const params = initMlp(spec, 5);
    const r = mlpLossAndGrads(
      params,
      random.normal(random.key(6), [8, 3]),
      np.array([0, 1, 1, 0, 1, 0, 0, 1], { dtype: np.int32 }),
      spec,
      softmaxCrossEntropy,
      { fisher: 'empirical' },
    );
    for (const name of ['fc0.w', 'fc1.w']) {
      const { a, g } = r.taps![name] as CurvatureTap;
      const fromTaps = np.matmul(g.ref.transpose(), a.ref).div(8);
      expect(maxDiff(read(fromTaps), read(r.grads[name]))).toBeLessThan(1e-6);
    }
  });
  it('with the true Fisher use sampled targets (different output gradients, same shapes)', () => {
    const spec: MlpSpec = { sizes: [3, 4, 2] };
    const params = initMlp(spec, 5);
    const args = () =>
      [
        random.normal(random.key(6), [8, 3]),
        np.array([0, 1, 1, 0, 1, 0, 0, 1], { dtype: np.int32 }),
      ] as const;
    const emp = mlpLossAndGrads(params, ...args(), spec, softmaxCrossEntropy, { fisher: 'empirical' });
    const tru = mlpLossAndGrads(params, ...args(), spec, softmaxCrossEntropy, {
      fisher: 'true',
      key: random.key(9),
    });
    expect((tru.taps!['fc1.w'] as CurvatureTap).g.shape).toEqual([8, 2]);
    expect(
      maxDiff(read((tru.taps!['fc1.w'] as CurvatureTap).g), read((emp.taps!['fc1.w'] as CurvatureTap).g)),
    ).toBeGreaterThan(1e-3);
    expect(maxDiff(read(tru.grads['fc1.w']), read(emp.grads['fc1.w']))).toBeLessThan(1e-7);
  });
});

describe('K-FAC on an ill-conditioned regression, with taps from the model', () => {
  it('reaches a far lower loss than SGD in 20 steps', async () => {
    // Linear model (one layer), inputs with variances 1 and 400 (condition number 400).
    const spec: MlpSpec = { sizes: [2, 1], output: 'identity' };
    const x = random.normal(random.key(1), [64, 2]).mul(np.array([1, 20]));
    const y = np.matmul(x.ref, np.array([[1.5], [-0.5]]));
    const train = async (opt: GradientTransformation<unknown[]>) => {
      let params = initMlp(spec, 0);
      let state = opt.init(params);
      let loss = 0;
      for (let step = 0; step < 20; step++) {
        const r = mlpLossAndGrads(params, x.ref, y.ref, spec, squaredError, {
          fisher: 'true',
          key: random.key(100 + step),
        });
        loss = read(r.loss)[0];
        const [u, s] = await opt.update(r.grads, state, params, { taps: r.taps });
        state = s;
        params = applyUpdates(params, u);
      }
      return loss;
    };
    const sgdLoss = await train(sgd(1 / 800)); // stable: η < 2/λ_max with λ_max ≈ 400
    const kfacLoss = await train(kfac(0.5, { damping: 1e-4, inverseEvery: 1, decay: 0.5 }));
    expect(kfacLoss).toBeLessThan(1e-3 * sgdLoss);
  });
  it('with the quadratic-model step lands on the minimum of the batch loss along the step', async () => {
    // A linear model with squared error: F is the exact Hessian, so α minimises L(p + t·u) in t.
    const spec: MlpSpec = { sizes: [3, 2], output: 'identity' };
    const model = mlpModel(spec);
    const x = random.normal(random.key(2), [32, 3]).mul(np.array([1, 5, 0.3]));
    const y = random.normal(random.key(3), [32, 2]);
    const params = model.init(1);
    const r = model.lossAndGrads(params, x.ref, y.ref, squaredError, { fisher: 'true', key: random.key(4) });
    const opt = kfac(1, { damping: 1e-6, quadraticStep: true });
    const curvatureGram = async (ds: ParamDict[]) => [
      [await fisherCurvature(model, squaredError, params, x, ds[0])],
    ];
    const [u] = await opt.update(r.grads, opt.init(params), params, { taps: r.taps, curvatureGram });
    const lossAt = (t: number) => {
      const moved = Object.fromEntries(
        Object.entries(params).map(([k, v]) => [k, v.ref.add(u[k].ref.mul(t))]),
      );
      return read(squaredError.value(model.predict(moved, x.ref), y.ref))[0];
    };
    const [below, at, above] = [0.8, 1, 1.2].map(lossAt);
    expect(at).toBeLessThan(below);
    expect(at).toBeLessThan(above);
    // Symmetric around the minimum of a parabola: L(0.8) = L(1.2).
    expect(Math.abs(below - above)).toBeLessThan(1e-3 * at);
    expect(() => kfac(1, { quadraticStep: true, klClip: 0.01 })).toThrow(/exclude each other/);
  });
});

it('activations: relu, tanh, sigmoid, identity forward values', () => {
  const s = np.array([-1, 0, 2]);
  expect(read(activationForward('relu', s.ref).y)).toEqual([0, 0, 2]);
  expect(maxDiff(read(activationForward('tanh', s.ref).y), [-0.7615942, 0, 0.9640276])).toBeLessThan(1e-6);
  expect(maxDiff(read(activationForward('sigmoid', s.ref).y), [0.2689414, 0.5, 0.8807971])).toBeLessThan(
    1e-6,
  );
  expect(read(activationForward('identity', s).y)).toEqual([-1, 0, 2]);
});

describe('layer products through riesz kernels', () => {
  it('agree with jax-js matmul for every transpose combination', async () => {
    const { mm, setHostProducts } = await import('./matmul.js');
    // Large enough (400·400·400 = 64e6) to take the host path.
    const a = random.normal(random.key(1), [400, 400]);
    const b = random.normal(random.key(2), [400, 400]);
    const bT = b.ref.transpose();
    const aT = a.ref.transpose();
    const cases: [Tensor, Tensor, boolean, boolean][] = [
      [a, b, false, false],
      [aT, b, true, false],
      [a, bT, false, true],
      [aT, bT, true, true],
    ];
    const ref = read(np.matmul(a.ref, b.ref));
    for (const [x, y, ta, tb] of cases) {
      setHostProducts(true);
      const host = read(mm(x.ref, y.ref, ta, tb));
      setHostProducts(false);
      const jax = read(mm(x.ref, y.ref, ta, tb));
      expect(maxDiff(host, ref), `${ta} ${tb}`).toBeLessThan(1e-3);
      expect(maxDiff(jax, ref), `${ta} ${tb}`).toBeLessThan(1e-3);
    }
    setHostProducts(true);
  });
});

describe('the Fisher quadratic form', () => {
  const cases: [string, Loss, Tensor][] = [
    ['softmax CE', softmaxCrossEntropy, np.array([0, 2, 1], { dtype: np.int32 })],
    ['sigmoid CE', sigmoidCrossEntropy, np.array([0.2, 1, 0, 0.5, 0.9, 0.1, 0, 1, 0.3]).reshape([3, 3])],
    ['squared error', squaredError, np.array([0.5, -1, 2, 0, 1, 3, -2, 0.1, 0.7]).reshape([3, 3])],
  ];
  it.each(cases)(
    '%s: mean of dᵢᵀFᵢdᵢ equals dᵀ(∇²L)d, L the batch mean (Fisher = Hessian in the outputs)',
    (_, loss, t) => {
      fc.assert(
        fc.property(fc.integer({ min: 0, max: 10_000 }), (seed) => {
          const z = random.normal(random.key(seed), [3, 3]);
          const d = random.normal(random.key(seed + 1), [3, 3]);
          const hd = (() => {
            const g = (zz: Tensor) => grad((w: Tensor) => loss.value(w, t.ref))(zz);
            const [, tangent] = jvp(g, [z.ref], [d.ref]) as [Tensor, Tensor];
            return read(tangent);
          })();
          const want = read(d.ref).reduce((acc, v, i) => acc + v * hd[i], 0);
          const got = read(loss.fisherQuadratic(z, d))[0];
          expect(Math.abs(got - want)).toBeLessThan(1e-4 * Math.max(1, Math.abs(want)));
        }),
        { numRuns: 10 },
      );
    },
  );
  it('fisherCurvature of a linear model with squared error is mean ‖dW x + db‖²', async () => {
    const spec: MlpSpec = { sizes: [4, 3], output: 'identity' };
    const model = mlpModel(spec);
    const params = model.init(3);
    const x = random.normal(random.key(4), [5, 4]);
    const d = { 'fc0.w': random.normal(random.key(5), [3, 4]), 'fc0.b': random.normal(random.key(6), [3]) };
    const jd = np.matmul(x.ref, d['fc0.w'].ref.transpose()).add(d['fc0.b'].ref);
    const want = read(np.mean(np.sum(np.square(jd), -1)))[0];
    const before = [params['fc0.w'].refCount, d['fc0.w'].refCount, x.refCount];
    expect(Math.abs((await fisherCurvature(model, squaredError, params, x, d)) - want)).toBeLessThan(
      1e-4 * want,
    );
    // It borrows: no reference is left behind (a leak of the whole model per step, once).
    expect([params['fc0.w'].refCount, d['fc0.w'].refCount, x.refCount]).toEqual(before);
  });
});
