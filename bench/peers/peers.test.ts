/**
 * bench/train's peers on a tiny autoencoder: each JS peer (plain jax-js under jit, TF.js on its wasm
 * backend) and, where /usr/bin/python3 has torch, the PyTorch peer, starting from riesz's initial
 * weights, must compute riesz's loss and riesz's first Adam step (so that the benchmark compares
 * the same work). No timing is asserted. Also the grouping of --profile's phases.
 */
import { execFileSync } from 'node:child_process';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { numpy as np } from '@jax-js/jax';
import { beforeAll, describe, expect, it } from 'vitest';
import { sigmoidCrossEntropy } from '../../src/nn/losses.js';
import { mlpModel } from '../../src/nn/model.js';
import { adam } from '../../src/optim/alias.js';
import { applyUpdates, disposeTree } from '../../src/optim/base.js';
import type { ParamDict } from '../../src/optim/types.js';
import { ready } from '../../test/jax-setup.js';
import { gemmTotal, groupProfile, JAX_GROUP, OUTSIDE_GROUP } from '../profile-groups.js';
import type { PeerActivation, PeerProblem, PeerResult } from './problem.js';
import { checkProblem, writeProblemFile } from './problem.js';
import { runJaxjsPeer } from './train_jaxjs.js';
import { runTfjsPeer } from './train_tfjs.js';

const SIZES = [12, 8, 3, 8, 12];
const ACTS: PeerActivation[] = ['tanh', 'identity', 'tanh', 'identity'];
const BATCH = 5;
const LR = 0.01;
const L2 = 1e-3;
const model = mlpModel({ sizes: SIZES, activations: ['tanh', 'identity', 'tanh'], init: 'glorot-uniform' });

let problem: PeerProblem;
/** riesz's data loss at the initial weights and after one of its Adam steps (on loss + ½·L2‖θ‖²). */
let riesz: { loss0: number; loss1: number };

function dataLoss(params: ParamDict, x: Float32Array): number {
  const xs = np.array(x).reshape([BATCH, SIZES[0]]);
  const out = model.predict(params, xs.ref);
  return (sigmoidCrossEntropy.value(out, xs).dataSync() as Float32Array)[0];
}

beforeAll(async () => {
  await ready;
  const params = model.init(3);
  const x = Float32Array.from({ length: BATCH * SIZES[0] }, (_, i) => ((i * 37) % 101) / 100);
  const read = (k: string) => Float32Array.from(params[k].ref.dataSync() as Float32Array);
  problem = {
    sizes: SIZES,
    activations: ACTS,
    weights: ACTS.map((_, i) => read(`fc${i}.w`)),
    biases: ACTS.map((_, i) => read(`fc${i}.b`)),
    x,
    batch: BATCH,
    lr: LR,
    l2: L2,
  };
  const loss0 = dataLoss(params, x);
  const xs = np.array(x).reshape([BATCH, SIZES[0]]);
  const r = model.lossAndGrads(params, xs.ref, xs, sigmoidCrossEntropy, { fisher: 'none' });
  r.loss.dispose();
  for (const [k, g] of Object.entries(r.grads)) r.grads[k] = g.add(params[k].ref.mul(L2));
  const opt = adam(LR, { eps: 1e-8 });
  const [u, state] = await opt.update(r.grads, opt.init(params), params);
  const moved = applyUpdates(params, u);
  riesz = { loss0, loss1: dataLoss(moved, x) };
  disposeTree(moved);
  disposeTree(state);
});

/** The peer's losses agree with riesz's to f32 tolerance, and its first step moved the loss alike. */
function expectSameWork(r: PeerResult): void {
  expect(Number.isFinite(r.loss0) && Number.isFinite(r.loss1)).toBe(true);
  expect(Math.abs(r.loss0 - riesz.loss0)).toBeLessThanOrEqual(1e-5 * Math.abs(riesz.loss0));
  // One Adam step of 0.01 per coordinate moves this loss by ~1e-1: the check sees a different step.
  expect(Math.abs(riesz.loss1 - riesz.loss0)).toBeGreaterThan(1e-3);
  expect(Math.abs(r.loss1 - r.loss0 - (riesz.loss1 - riesz.loss0))).toBeLessThanOrEqual(
    1e-3 * Math.abs(riesz.loss1 - riesz.loss0) + 1e-5 * Math.abs(riesz.loss0),
  );
}

describe('bench/train peers on a tiny autoencoder', () => {
  it('rejects a problem whose arrays do not fit its widths', () => {
    expect(() => checkProblem({ ...problem, biases: problem.biases.slice(1) })).toThrow(RangeError);
    expect(() => checkProblem({ ...problem, x: problem.x.subarray(1) })).toThrow(/batch/);
  });

  it('plain jax-js under jit computes riesz loss and Adam step', () => {
    const r = runJaxjsPeer(problem, 1, 1);
    expectSameWork(r);
    expect(r.stepS).toHaveLength(1);
    expect(r.setup).toMatch(/jax-js wasm/);
  });

  it('TF.js on its wasm backend computes riesz loss and Adam step', async () => {
    const r = await runTfjsPeer(problem, 1, 1);
    expectSameWork(r);
    expect(r.setup).toMatch(/TF\.js 4\.22\.0 wasm/);
  });

  // The PyTorch peer needs Debian's python3-torch; without it the test says why it skips.
  const torchMissing = (() => {
    try {
      execFileSync('/usr/bin/python3', ['-c', 'import torch, numpy'], { stdio: 'ignore' });
      return null;
    } catch {
      return '/usr/bin/python3 cannot import torch and numpy (apt-get install python3-torch)';
    }
  })();
  if (torchMissing) console.log(`skipping the PyTorch peer test: ${torchMissing}`);
  it.skipIf(torchMissing !== null)('PyTorch computes riesz loss and Adam step', () => {
    const file = join(mkdtempSync(join(tmpdir(), 'riesz-peer-')), 'problem.f32');
    writeProblemFile(problem, file);
    const spec = { file, sizes: SIZES, activations: ACTS, batch: BATCH, lr: LR, l2: L2 };
    const out = execFileSync(
      '/usr/bin/python3',
      [join(import.meta.dirname, 'train_torch.py'), '1', 'tanh', JSON.stringify(spec)],
      { encoding: 'utf8' },
    );
    const r = JSON.parse(out) as { loss0: number; loss1: number; adam_step_s: number[] };
    expectSameWork({ loss0: r.loss0, loss1: r.loss1, stepS: r.adam_step_s, setup: 'torch' });
  });
});

describe("bench/train --profile's groups", () => {
  it('counts self time, so that the groups add up to the step', () => {
    const rows = [
      { name: 'forward-backward', wallMs: 100, cpuMs: 180, calls: 1 },
      { name: 'forward-backward/gemm', wallMs: 60, cpuMs: 120, calls: 10 },
      { name: 'forward-backward/from-jax', wallMs: 10, cpuMs: 10, calls: 4 },
      { name: 'update', wallMs: 50, cpuMs: 50, calls: 1 },
      { name: 'update/inverses', wallMs: 20, cpuMs: 30, calls: 1 },
      { name: 'update/inverses/gemm', wallMs: 5, cpuMs: 10, calls: 3 },
    ];
    const groups = Object.fromEntries(groupProfile(rows, 170, 260).map((g) => [g.group, g]));
    // A GEMM inside K-FAC's inverses is inverse time.
    expect(groups['GEMM (CPU engine)'].wallMs).toBe(60);
    expect(groups['K-FAC inverses (refreshes)'].wallMs).toBe(20);
    expect(gemmTotal(rows)).toEqual({ wallMs: 65, cpuMs: 130 });
    expect(groups['copies (jax-js ↔ engine)'].cpuMs).toBe(10);
    // forward-backward's own 30 ms and update's own 30 ms are jax-js work.
    expect(groups[JAX_GROUP].wallMs).toBe(60);
    expect(groups[OUTSIDE_GROUP]).toEqual({ group: OUTSIDE_GROUP, wallMs: 20, cpuMs: 30 });
    const total = Object.values(groups).reduce((s, g) => s + g.wallMs, 0);
    expect(total).toBe(170);
  });
});
