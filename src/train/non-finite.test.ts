/**
 * A NaN in one training batch (issue 11, item 5): the run follows the chosen policy. 'stop' ends it
 * with a TrainingError naming the step and the first parameter whose gradient is non-finite, and the
 * checkpoint on disk stays the last good state; 'skip' drops exactly the poisoned steps, counts them
 * in the summary, and goes on to finite parameters.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import { ready } from '../../test/jax-setup.js';
import { readTrainingSettings, trainOptionsOf } from '../cli/training-flags.js';
import { shuffled } from '../data/dataset.js';
import { UsageError } from '../errors.js';
import { Rng } from '../linalg/random.js';
import { loadCheckpoint } from './checkpoint.js';
import { TrainingError, train } from './loop.js';
import { loadTask, type Task } from './tasks.js';

beforeAll(async () => {
  await ready;
});

const BATCH = 256; // linreg-aniso's: 4096 examples, 16 steps per epoch
const POISONED_BATCH = 5; // 0-based batch of epoch 0 that gets the NaN: step 6

/** linreg-aniso with one input entry set to `value`, in the example that batch 5 of epoch 0 draws. */
function poisonedTask(value: number, seed = 0): { task: Task; example: number } {
  const task = loadTask('linreg-aniso');
  // The loop's epoch-0 order (dataset.ts's epochBatches).
  const order = shuffled(task.train.n, new Rng(seed * 100003 + 0));
  const example = order[POISONED_BATCH * BATCH];
  const x = task.train.x.slice();
  x[example * task.train.xDim + 3] = value;
  return { task: { ...task, train: { ...task.train, x } }, example };
}

function finiteParams(file: string): boolean {
  const ck = loadCheckpoint(file);
  return Object.values(ck.params).every((p) => (p.dataSync() as Float32Array).every(Number.isFinite));
}

describe('a NaN in one batch', () => {
  for (const optimizer of ['adam', 'kfac']) {
    it(`${optimizer}, policy stop: a TrainingError naming the step and the parameter; the checkpoint stays valid`, async () => {
      const dir = mkdtempSync(join(tmpdir(), 'riesz-nan-'));
      const save = join(dir, 'ck.safetensors');
      const { task } = poisonedTask(Number.NaN);
      let error: unknown;
      try {
        await train(task, { optimizer, steps: 16, batch: BATCH, save, checkpointEvery: 1 });
      } catch (e) {
        error = e;
      }
      expect(error).toBeInstanceOf(TrainingError);
      const message = (error as Error).message;
      expect(message).toMatch(
        new RegExp(
          `^${optimizer} on linreg-aniso: the training loss became NaN at step ${POISONED_BATCH + 1} \\(lr [^)]+\\); the first non-finite gradient is that of fc0\\.[wb]; lower --lr, or pass --on-nonfinite skip`,
        ),
      );
      expect(message).toContain(`the checkpoint ${save} holds the last good state`);
      // The last checkpoint is the step before, intact (its checksum verified) and finite.
      expect(loadCheckpoint(save).step).toBe(POISONED_BATCH);
      expect(finiteParams(save)).toBe(true);
      rmSync(dir, { recursive: true, force: true });
    });
  }
  it('an Inf entry too (the loss is then Inf or NaN), and the default policy is stop', async () => {
    const { task } = poisonedTask(Number.POSITIVE_INFINITY);
    await expect(train(task, { optimizer: 'sgd', steps: 16, batch: BATCH })).rejects.toThrow(
      new RegExp(`at step ${POISONED_BATCH + 1} .*first non-finite gradient is that of fc0`),
    );
  });
  it('policy skip: drops exactly the poisoned steps, counts them, ends finite and resumable', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'riesz-nan-skip-'));
    const save = join(dir, 'ck.safetensors');
    const { task } = poisonedTask(Number.NaN);
    // Two epochs: the poisoned example is drawn once in each.
    const s = await train(task, {
      optimizer: 'kfac',
      steps: 32,
      batch: BATCH,
      nonFinite: 'skip',
      save,
      checkpointEvery: 4,
    });
    expect(s.non_finite).toBe('skip');
    expect(s.skipped_steps).toBe(2);
    expect(s.skipped_at).toHaveLength(2);
    expect(s.skipped_at[0]).toBe(POISONED_BATCH + 1);
    expect(s.skipped_at[1]).toBeGreaterThan(16);
    expect(s.steps).toBe(32);
    expect(s.curve).toHaveLength(30); // the skipped steps leave no metrics row
    expect(Number.isFinite(s.final_train_loss)).toBe(true);
    expect(Number.isFinite(s.final_test_loss)).toBe(true);
    expect(finiteParams(save)).toBe(true);
    expect(loadCheckpoint(save).step).toBe(32);
    // The older option name still works.
    const old = await train(task, { optimizer: 'sgd', steps: 16, batch: BATCH, onNan: 'skip' });
    expect(old.skipped_at).toEqual([POISONED_BATCH + 1]);
    rmSync(dir, { recursive: true, force: true });
  });
  it('a clean run skips nothing and says its policy', async () => {
    const s = await train(loadTask('linreg-aniso'), { optimizer: 'sgd', steps: 3 });
    expect(s.skipped_steps).toBe(0);
    expect(s.skipped_at).toEqual([]);
    expect(s.non_finite).toBe('stop');
  });
});

describe('the nonFinite setting', () => {
  it('is the flag --on-nonfinite stop|skip (and --config task.nonFinite)', () => {
    expect(trainOptionsOf(readTrainingSettings({ 'on-nonfinite': 'skip' })).nonFinite).toBe('skip');
    expect(trainOptionsOf(readTrainingSettings({ 'on-nonfinite': 'stop' })).nonFinite).toBe('stop');
    expect(trainOptionsOf(readTrainingSettings({})).nonFinite).toBeUndefined();
    expect(() => readTrainingSettings({ 'on-nonfinite': 'ignore' })).toThrow(UsageError);
    expect(() => readTrainingSettings({ 'on-nonfinite': 'ignore' })).toThrow(/one of stop, skip/);
  });
});
