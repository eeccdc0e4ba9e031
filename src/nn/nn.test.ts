/** Explicit backward passes against jax-js autodiff, the tap identity, and K-FAC on a real model. */
import { grad, numpy as np, random } from '@jax-js/jax';
import { beforeAll, describe, expect, it } from 'vitest';
import { read, ready } from '../../test/jax-setup.js';
import { kfac, sgd } from '../optim/alias.js';
import { applyUpdates } from '../optim/base.js';
import type { CurvatureTap, ParamDict, Tensor } from '../optim/types.js';
import { activationForward } from './layers.js';
import { type Loss, sigmoidCrossEntropy, softmaxCrossEntropy, squaredError } from './losses.js';
import { initMlp, type MlpSpec, mlpForward, mlpLossAndGrads } from './mlp.js';

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
  it('reaches a far lower loss than SGD in 20 steps', () => {
    // Linear model (one layer), inputs with variances 1 and 400 (condition number 400).
    const spec: MlpSpec = { sizes: [2, 1], output: 'identity' };
    const x = random.normal(random.key(1), [64, 2]).mul(np.array([1, 20]));
    const y = np.matmul(x.ref, np.array([[1.5], [-0.5]]));
    const train = (opt: ReturnType<typeof sgd>) => {
      let params = initMlp(spec, 0);
      let state = opt.init(params);
      let loss = 0;
      for (let step = 0; step < 20; step++) {
        const r = mlpLossAndGrads(params, x.ref, y.ref, spec, squaredError, {
          fisher: 'true',
          key: random.key(100 + step),
        });
        loss = read(r.loss)[0];
        const [u, s] = opt.update(r.grads, state, params, { taps: r.taps });
        state = s;
        params = applyUpdates(params, u);
      }
      return loss;
    };
    const sgdLoss = train(sgd(1 / 800)); // stable: η < 2/λ_max with λ_max ≈ 400
    const kfacLoss = train(kfac(0.5, { damping: 1e-4, inverseEvery: 1, decay: 0.5 }));
    expect(kfacLoss).toBeLessThan(1e-3 * sgdLoss);
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
