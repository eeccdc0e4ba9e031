/**
 * The complete K-FAC on a problem where its quadratic model is exact (a linear map with squared
 * error, full batch, no damping): the 2-D rule lands on the minimum of the loss over the span of the
 * preconditioned gradient and the previous step, and the reduction ratio is 1.
 */
import { numpy as np } from '@jax-js/jax';
import { beforeAll, describe, expect, it } from 'vitest';
import { Rng } from '../src/linalg/random.js';
import { squaredError } from '../src/nn/losses.js';
import { mlpModel } from '../src/nn/model.js';
import type { ParamDict } from '../src/optim/types.js';
import { eagerLossAndGrads } from '../src/train/jit-step.js';
import { buildOptimizer } from '../src/train/optimizers.js';
import { curvatureGram, type StepSettings, trainingStep } from '../src/train/step.js';
import type { Task } from '../src/train/tasks.js';
import { read, ready } from './jax-setup.js';

beforeAll(async () => {
  await ready;
});

function linearTask(n: number): Task {
  const rng = new Rng(3);
  const x = Float32Array.from({ length: n * 4 }, (_, i) => rng.normal() * [1, 4, 0.2, 2][i % 4]);
  const y = Float32Array.from({ length: n * 2 }, () => rng.normal());
  const data = { n, x, xDim: 4, y, yDim: 2 };
  return {
    name: 'linear',
    description: 'linear least squares',
    model: mlpModel({ sizes: [4, 2], output: 'identity' }),
    loss: squaredError,
    classifier: false,
    train: data,
    test: data,
    batch: n,
    epochs: 1,
    lr: {},
  };
}

type Values = Record<string, number[]>;
const values = (d: ParamDict): Values => Object.fromEntries(Object.entries(d).map(([k, v]) => [k, read(v)]));
const dot = (a: Values, b: Values) =>
  Object.keys(a).reduce((s, k) => s + a[k].reduce((t, v, i) => t + v * b[k][i], 0), 0);

describe('complete K-FAC (momentum rule, Levenberg–Marquardt damping)', () => {
  it('minimises an exact quadratic over span{Δ, δ₋} with ρ = 1', async () => {
    const task = linearTask(64);
    const batch = { x: task.train.x, y: task.train.y, size: 64 };
    let params = task.model.init(0);
    const built = buildOptimizer('kfac', 1, params, [], {
      kfac: { rule: 'momentum', adaptDamping: { every: 1, min: 1e-12 }, damping: 1e-8, inverseEvery: 1 },
    });
    expect(built.curvature).toBe(true);
    const settings: StepSettings = {
      l2: 0,
      seed: 0,
      lossAndGrads: eagerLossAndGrads(task.model, task.loss, built.fisher),
      predict: (p, x) => task.model.predict(p, x),
    };
    let state = built.opt.init(params);
    const gradAt = (p: ParamDict) => {
      const x = np.array(batch.x).reshape([64, 4]);
      const y = np.array(batch.y).reshape([64, 2]);
      const r = task.model.lossAndGrads(p, x, y, task.loss, {});
      r.loss.dispose();
      return r.grads;
    };
    const directions: Values[] = [];
    for (let step = 0; step < 3; step++) {
      const r = await trainingStep(task, built, settings, params, state, batch, step);
      params = r.params;
      state = r.state;
      // ρ is 1 on an exact quadratic (up to f32 rounding of the losses).
      expect(Math.abs(r.info.rho - 1)).toBeLessThan(0.02);
      expect(r.info.directions).toBe(step === 0 ? 1 : 2);
      directions.push(values((state as [{ prev: ParamDict }])[0].prev));
      const g = values(gradAt(params));
      // First-order optimality over the span: ∇L(θ + s) ⟂ the step and the previous step.
      const gNorm = Math.sqrt(dot(g, g));
      for (const d of directions.slice(-2))
        expect(Math.abs(dot(g, d)) / (gNorm * Math.sqrt(dot(d, d)) + 1e-30)).toBeLessThan(1e-2);
    }
    // A good model shrinks λ: three ratios of 1, three factors ω = 0.95.
    const kfacState = (state as [{ damping: number }])[0];
    expect(kfacState.damping).toBeCloseTo(1e-8 * 0.95 ** 3, 15);
  });

  it('Fisher products: the kept forward pass and the JVP fallback give the same 2×2 matrix', async () => {
    const task = linearTask(16);
    const params = task.model.init(1);
    const x = np.array(task.train.x).reshape([16, 4]);
    const y = np.array(task.train.y).reshape([16, 2]);
    const kept = task.model.lossAndGrads(params, x.ref, y.ref, task.loss, { keepForward: true });
    const dirs = [kept.grads, task.model.init(2)];
    const fast = await curvatureGram(task, kept, params, x)(dirs);
    const slow = await curvatureGram(task, { ...kept, forward: undefined }, params, x)(dirs);
    for (let i = 0; i < 2; i++)
      for (let j = 0; j < 2; j++)
        expect(Math.abs(fast[i][j] - slow[i][j])).toBeLessThan(1e-4 * Math.abs(fast[i][i]));
    expect(fast[0][1]).toBe(fast[1][0]);
    kept.forward!.dispose();
    y.dispose();
  });
});
