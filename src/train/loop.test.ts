/** The training loop's wall-time budget (used by bench/train's time-to-loss race). */
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import { ready } from '../../test/jax-setup.js';
import { loadCheckpoint } from './checkpoint.js';
import { train } from './loop.js';
import { loadTask } from './tasks.js';

beforeAll(async () => {
  await ready;
});

describe('train with maxWallS', () => {
  it('stops after the first step past the budget, and evaluates there', async () => {
    const task = loadTask('linreg-aniso');
    const s = await train(task, { optimizer: 'sgd', steps: 50, maxWallS: 0 });
    expect(s.steps).toBe(1);
    expect(s.time_limited).toBe(true);
    expect(s.max_wall_s).toBe(0);
    expect(Number.isFinite(s.final_test_loss)).toBe(true);
    const full = await train(task, { optimizer: 'sgd', steps: 5, maxWallS: 1e6 });
    expect(full.steps).toBe(5);
    expect(full.time_limited).toBe(false);
    // The last planned step ending past the budget is not a cut.
    const last = await train(task, { optimizer: 'sgd', steps: 1, maxWallS: 0 });
    expect([last.steps, last.time_limited]).toEqual([1, false]);
  });
});

describe('train with a signal', () => {
  it('stops after the step in progress, says so, and keeps the checkpoint and the metrics', async () => {
    const task = loadTask('linreg-aniso');
    const controller = new AbortController();
    const dir = mkdtempSync(join(tmpdir(), 'riesz-signal-'));
    const save = join(dir, 'ck.safetensors');
    let seen = 0;
    const s = await train(task, {
      optimizer: 'kfac',
      steps: 50,
      save,
      out: dir,
      signal: controller.signal,
      progress: () => {
        if (++seen === 7) controller.abort();
      },
    });
    expect(s.interrupted).toBe(true);
    expect(s.steps).toBe(7);
    expect(loadCheckpoint(save).step).toBe(7);
    expect(readFileSync(join(dir, 'metrics.jsonl'), 'utf8').trim().split('\n')).toHaveLength(7);
    // Resuming continues the metrics: the earlier rows are kept, and the run ends where it would have.
    const r = await train(task, { optimizer: 'kfac', steps: 12, resume: save, out: dir });
    expect(r.interrupted).toBe(false);
    const steps = readFileSync(join(dir, 'metrics.jsonl'), 'utf8')
      .trim()
      .split('\n')
      .map((l) => JSON.parse(l).step);
    expect(steps).toEqual(Array.from({ length: 12 }, (_, i) => i + 1));
    rmSync(dir, { recursive: true, force: true });
  });
});

describe('resuming a checkpoint from before a task had a default curvatureBatch', () => {
  const paramsOf = async (path: string) => {
    const { params } = loadCheckpoint(path);
    const out: Record<string, number[]> = {};
    for (const [k, v] of Object.entries(params)) out[k] = Array.from((await v.data()) as Float32Array);
    return out;
  };
  it('goes on with the whole batch, bit for bit, unless the caller sets one', async () => {
    const before = loadTask('linreg-aniso');
    // The same task after its defaults gained a curvature subset.
    const after = { ...before, kfac: { ...before.kfac, curvatureBatch: 8 } };
    const dir = mkdtempSync(join(tmpdir(), 'riesz-curvature-'));
    const at = (f: string) => join(dir, f);
    await train(before, { optimizer: 'kfac', steps: 3, save: at('old.safetensors') });
    await train(after, {
      optimizer: 'kfac',
      steps: 6,
      resume: at('old.safetensors'),
      save: at('resumed.safetensors'),
    });
    await train(before, { optimizer: 'kfac', steps: 6, save: at('whole.safetensors') });
    await train(after, { optimizer: 'kfac', steps: 6, save: at('subset.safetensors') });
    const resumed = await paramsOf(at('resumed.safetensors'));
    expect(resumed).toEqual(await paramsOf(at('whole.safetensors')));
    // The subset does change the run (so the comparison above can fail).
    expect(resumed).not.toEqual(await paramsOf(at('subset.safetensors')));
    // A curvature subset the caller asks for is a different run: refused, as any other setting.
    await expect(
      train(after, {
        optimizer: 'kfac',
        steps: 6,
        resume: at('old.safetensors'),
        kfac: { curvatureBatch: 8 },
      }),
    ).rejects.toThrow(/resume with the same settings/);
    rmSync(dir, { recursive: true, force: true });
  });
});
