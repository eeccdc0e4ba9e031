/** `riesz train` end to end (the built CLI): the JSON contract, the seed's experiments 2 and 3 in small. */
import { execFile, spawn, spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';

const cli = join(import.meta.dirname, '../dist/cli/bin.js');

function riesz(...args: string[]) {
  const r = spawnSync(process.execPath, [cli, ...args], { encoding: 'utf8' });
  return { code: r.status, stdout: r.stdout, stderr: r.stderr };
}

function trainJson(...args: string[]) {
  const r = riesz('train', ...args, '--json', '--quiet');
  expect(r.code, r.stderr).toBe(0);
  const lines = r.stdout.trim().split('\n');
  return JSON.parse(lines[lines.length - 1]);
}

/** trainJson without blocking the test worker: a run past ~60 s inside spawnSync starves vitest's
 * messages to the worker ("Timeout calling onTaskUpdate"), which fails the whole run. */
function trainJsonAsync(...args: string[]): Promise<Record<string, unknown>> {
  return new Promise((resolve, reject) => {
    execFile(process.execPath, [cli, 'train', ...args, '--json', '--quiet'], (err, stdout, stderr) => {
      if (err) reject(new Error(`riesz train failed: ${stderr}`));
      else {
        const lines = stdout.trim().split('\n');
        resolve(JSON.parse(lines[lines.length - 1]));
      }
    });
  });
}

describe('riesz train', () => {
  it('prints the contract JSON as the last stdout line', () => {
    const j = trainJson('--task', 'linreg-aniso', '--optimizer', 'kfac', '--steps', '10');
    for (const k of [
      'task',
      'optimizer',
      'steps',
      'final_train_loss',
      'final_test_loss',
      'test_accuracy',
      'wall_s',
      'time_to_target_s',
    ]) {
      expect(j, k).toHaveProperty(k);
    }
    expect(j.steps).toBe(10);
    expect(j.time_to_target_s).toBeNull();
    expect([j.max_wall_s, j.time_limited]).toEqual([null, false]);
  });
  it('--max-seconds stops after the first step past the budget and says so', () => {
    const j = trainJson(
      '--task',
      'linreg-aniso',
      '--optimizer',
      'sgd',
      '--steps',
      '100000',
      '--max-seconds',
      '0.2',
    );
    expect(j.time_limited).toBe(true);
    expect(j.max_wall_s).toBe(0.2);
    expect(j.steps).toBeGreaterThan(0);
    expect(j.steps).toBeLessThan(100000);
    expect(riesz('train', '--max-seconds', '0').stderr).toMatch(/max-seconds/);
  });
  it('identity-preconditioned descent equals gradient descent bit for bit (experiment 2)', () => {
    const a = trainJson('--task', 'linreg-aniso', '--optimizer', 'sgd', '--steps', '20', '--lr', '1e-4');
    const b = trainJson(
      '--task',
      'linreg-aniso',
      '--optimizer',
      'frobenius-identity',
      '--steps',
      '20',
      '--lr',
      '1e-4',
    );
    expect(b.final_train_loss).toBe(a.final_train_loss);
    expect(b.final_test_loss).toBe(a.final_test_loss);
  });
  it('K-FAC reaches a ≥ 100× lower loss than SGD on linreg-aniso after 50 steps (experiment 3)', () => {
    const k = trainJson(
      '--task',
      'linreg-aniso',
      '--optimizer',
      'kfac',
      '--steps',
      '50',
      '--target-loss',
      '0.01',
    );
    const s = trainJson('--task', 'linreg-aniso', '--optimizer', 'sgd', '--steps', '50');
    expect(k.final_train_loss * 100).toBeLessThan(s.final_train_loss);
    expect(k.time_to_target_s).toBeGreaterThan(0);
  });
  it('stops on a diverging loss with a clear message, or skips such steps when asked', () => {
    const r = riesz(
      'train',
      '--task',
      'linreg-aniso',
      '--optimizer',
      'sgd',
      '--lr',
      '1',
      '--steps',
      '40',
      '--quiet',
    );
    expect(r.code).toBe(1);
    expect(r.stderr).toMatch(
      /sgd on linreg-aniso: the training loss became (NaN|Infinity) at step \d+ \(lr 1\); (the first non-finite gradient is that of fc0\.[wb]|every gradient is finite, the loss is not); lower --lr, or pass --on-nonfinite skip/,
    );
    const j = trainJson(
      '--task',
      'linreg-aniso',
      '--optimizer',
      'sgd',
      '--lr',
      '1',
      '--steps',
      '40',
      '--on-nonfinite',
      'skip',
    );
    expect(j.skipped_steps).toBeGreaterThan(0);
    expect(j.skipped_at.length).toBe(j.skipped_steps);
    expect(j.non_finite).toBe('skip');
  });
  it('writes metrics and the routing table with --out', () => {
    const dir = mkdtempSync(join(tmpdir(), 'riesz-train-'));
    trainJson('--task', 'linreg-aniso', '--optimizer', 'muon', '--steps', '5', '--out', dir);
    for (const f of ['metrics.jsonl', 'metrics.csv', 'summary.json', 'routing.txt'])
      expect(existsSync(join(dir, f)), f).toBe(true);
    // The first five columns are the contract; later ones extend it.
    expect(readFileSync(join(dir, 'metrics.csv'), 'utf8').split('\n')[0]).toMatch(
      /^step,wall_s,train_loss,test_loss,test_accuracy,/,
    );
    expect(readFileSync(join(dir, 'routing.txt'), 'utf8')).toMatch(/fc0\.w\s+4×16\s+muon/);
    expect(readFileSync(join(dir, 'routing.txt'), 'utf8')).toMatch(/fc0\.b\s+4\s+adamw/);
  });
  it('trains on real MNIST and reports test accuracy', () => {
    const j = trainJson('--task', 'mnist-mlp', '--optimizer', 'adam', '--steps', '30');
    expect(j.test_accuracy).toBeGreaterThan(0.6);
  }, 60_000);
  it('resumes from a checkpoint bit for bit, and refuses a checkpoint of another run', () => {
    const dir = mkdtempSync(join(tmpdir(), 'riesz-ck-'));
    const ck = join(dir, 'run.safetensors');
    for (const optimizer of ['kfac', 'adam']) {
      const straight = trainJson('--task', 'linreg-aniso', '--optimizer', optimizer, '--steps', '16');
      trainJson('--task', 'linreg-aniso', '--optimizer', optimizer, '--steps', '7', '--save', ck);
      const resumed = trainJson(
        '--task',
        'linreg-aniso',
        '--optimizer',
        optimizer,
        '--steps',
        '16',
        '--resume',
        ck,
      );
      expect(resumed.resumed_from_step).toBe(7);
      expect(resumed.final_train_loss).toBe(straight.final_train_loss);
      expect(resumed.final_test_loss).toBe(straight.final_test_loss);
    }
    const r = riesz(
      'train',
      '--task',
      'linreg-aniso',
      '--optimizer',
      'sgd',
      '--steps',
      '9',
      '--resume',
      ck,
      '--quiet',
    );
    expect(r.code).toBe(2);
    expect(r.stderr).toMatch(/was written with optimizer adam, this run has sgd/);
  }, 60_000);
  it('Ctrl-C stops after the step in progress, saves, says how to resume, exits 130; the resumed run is the straight run', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'riesz-int-'));
    const ck = join(dir, 'run.safetensors');
    const args = ['--task', 'linreg-aniso', '--optimizer', 'kfac', '--seed', '3'];
    const child = spawn(process.execPath, [
      cli,
      'train',
      ...args,
      '--steps',
      '1000000',
      '--save',
      ck,
      '--quiet',
    ]);
    let stderr = '';
    child.stderr.on('data', (d) => {
      stderr += String(d);
    });
    const code = await new Promise<number | null>((resolve) => {
      child.on('exit', (c) => resolve(c));
      // Past start-up (jax-js, the data) and into the steps.
      setTimeout(() => child.kill('SIGINT'), 4000);
    });
    expect(code, stderr).toBe(130);
    const m = stderr.match(
      /interrupted after step (\d+); checkpoint in (\S+) — continue with: riesz train .* --resume \S+/,
    );
    expect(m, stderr).not.toBeNull();
    const k = Number(m![1]);
    expect(k).toBeGreaterThan(0);
    const resumed = trainJson(...args, '--steps', String(k + 5), '--resume', ck);
    const straight = trainJson(...args, '--steps', String(k + 5));
    expect(resumed.resumed_from_step).toBe(k);
    expect(resumed.final_train_loss).toBe(straight.final_train_loss);
    rmSync(dir, { recursive: true, force: true });
  }, 60_000);
  it('--jit runs the same training as the eager step; --jit with --no-jit is a usage error', () => {
    const args = ['--task', 'linreg-aniso', '--optimizer', 'kfac', '--steps', '10'];
    const eager = trainJson(...args);
    const jitted = trainJson(...args, '--jit');
    expect(Math.abs(jitted.final_train_loss - eager.final_train_loss)).toBeLessThan(
      1e-3 * eager.final_train_loss,
    );
    const r = riesz('train', '--jit', '--no-jit', '--quiet');
    expect(r.code).toBe(2);
    expect(r.stderr).toMatch(/--jit and --no-jit exclude each other/);
  });
  it('trains the Moby-Dick character transformer (jit-compiled step) with K-FAC', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'riesz-moby-'));
    const j = await trainJsonAsync(
      '--task',
      'mobydick-char',
      '--optimizer',
      'kfac',
      '--steps',
      '6',
      '--out',
      dir,
    );
    expect(j.steps).toBe(6);
    const losses = readFileSync(join(dir, 'metrics.jsonl'), 'utf8')
      .trim()
      .split('\n')
      .map((l) => JSON.parse(l).train_loss as number);
    expect(losses[5]).toBeLessThan(losses[0] - 0.3);
    // Next-character accuracy over every position of the test text, above chance (1/78) already.
    expect(j.test_accuracy).toBeGreaterThan(0.04);
  }, 300_000);
  it('riesz compare writes curves, SVG and PNG plots and a Markdown table', () => {
    const dir = mkdtempSync(join(tmpdir(), 'riesz-compare-'));
    const r = riesz(
      'compare',
      '--task',
      'linreg-aniso',
      '--optimizers',
      'sgd,kfac',
      '--steps',
      '10',
      '--out',
      dir,
      '--quiet',
    );
    expect(r.code, r.stderr).toBe(0);
    expect(r.stdout).toMatch(/\| optimizer \| lr \| steps \| final train loss/);
    expect(r.stdout).toMatch(/\| kfac \| 1 \| 10 \|/);
    const csv = readFileSync(join(dir, 'curves.csv'), 'utf8').trim().split('\n');
    expect(csv.length).toBe(1 + 2 * 10);
    expect(readFileSync(join(dir, 'loss-vs-step.svg'), 'utf8')).toMatch(/<svg[^>]*>[\s\S]*kfac/);
    const png = readFileSync(join(dir, 'loss-vs-time.png'));
    expect(Array.from(png.subarray(0, 4))).toEqual([0x89, 0x50, 0x4e, 0x47]);
    expect(readFileSync(join(dir, 'summary.md'), 'utf8')).toMatch(/!\[loss vs steps\]\(loss-vs-step\.png\)/);
  });
  it('riesz compare --tune gives every optimizer the same budget of tries and records them', () => {
    const dir = mkdtempSync(join(tmpdir(), 'riesz-tune-'));
    const r = riesz(
      'compare',
      '--task',
      'linreg-aniso',
      '--optimizers',
      'sgd,kfac',
      '--steps',
      '10',
      '--tune',
      '3',
      '--tune-steps',
      '5',
      '--out',
      dir,
      '--quiet',
    );
    expect(r.code, r.stderr).toBe(0);
    const rows = readFileSync(join(dir, 'tuning.csv'), 'utf8').trim().split('\n');
    expect(rows[0]).toBe('optimizer,lr,final_train_loss,diverged');
    expect(rows.filter((l) => l.startsWith('sgd,')).length).toBe(3);
    expect(rows.filter((l) => l.startsWith('kfac,')).length).toBe(3);
    // K-FAC's grid around lr 1 is 0.5, 1, 2.
    expect(rows.filter((l) => l.startsWith('kfac,')).map((l) => Number(l.split(',')[1]))).toEqual([
      0.5, 1, 2,
    ]);
  });
  it('names the valid tasks and optimizers on a typo', () => {
    expect(riesz('train', '--task', 'mnist').stderr).toMatch(
      /unknown task 'mnist'; valid tasks: mnist-mlp, mnist-convnet, mnist-autoencoder, mnist-autoencoder-sigmoid, fashion-mlp, linreg-aniso/,
    );
    expect(riesz('train', '--optimizer', 'lbfgs').stderr).toMatch(
      /unknown optimizer 'lbfgs'; valid optimizers: sgd, momentum/,
    );
  });
});
