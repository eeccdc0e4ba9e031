/**
 * Crashes and resumes (issue 11, item 6), on the built CLI: `riesz train` killed with SIGKILL at
 * random moments, and in the middle of a checkpoint write (RIESZ_CRASH_AT_WRITE, src/io/files.ts),
 * then continued with --resume until it finishes, ends with the same checkpoint, tensor for tensor
 * and bit for bit, as a run that was never interrupted; so does a run stopped by SIGINT and resumed.
 * After every crash the checkpoint on disk loads (its checksum holds). Bounded to well under a minute
 * on two cores: a tiny task (linreg-aniso), a checkpoint after every step.
 */
import { type ChildProcess, spawn } from 'node:child_process';
import { existsSync, mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { parseSafetensors } from '../src/io/safetensors.js';
import { Rng } from '../src/linalg/random.js';
import { loadCheckpoint } from '../src/train/checkpoint.js';
import { ready } from './jax-setup.js';

const cli = join(import.meta.dirname, '../dist/cli/bin.js');
const STEPS = 300;
/** Random SIGKILLs per optimizer, and crashes inside a checkpoint write (the n-th write). */
const RANDOM_KILLS = 4;
const WRITE_CRASHES = 2;

let dir: string;
beforeAll(async () => {
  await ready;
  dir = mkdtempSync(join(tmpdir(), 'riesz-kill-'));
});
afterAll(() => rmSync(dir, { recursive: true, force: true }));

function args(optimizer: string, save: string, resume: boolean): string[] {
  return [
    cli,
    'train',
    '--task',
    'linreg-aniso',
    '--optimizer',
    optimizer,
    '--seed',
    '2',
    '--steps',
    String(STEPS),
    '--save',
    save,
    '--checkpoint-every',
    '1',
    '--quiet',
    '--json',
    ...(resume ? ['--resume', save] : []),
  ];
}

interface Exit {
  code: number | null;
  signal: NodeJS.Signals | null;
  stderr: string;
}

/** Starts the CLI; `after(child)` may kill it. Resolves when it exits. */
function run(argv: string[], env: NodeJS.ProcessEnv = {}, after?: (c: ChildProcess) => void): Promise<Exit> {
  return new Promise((resolve) => {
    const child = spawn(process.execPath, argv, { env: { ...process.env, ...env } });
    let stderr = '';
    child.stderr.on('data', (d) => {
      stderr += String(d);
    });
    child.stdout.resume();
    child.on('exit', (code, signal) => resolve({ code, signal, stderr }));
    after?.(child);
  });
}

/** The tensors of a checkpoint file (parameters and optimizer state), by name. */
function tensors(file: string): Map<string, Buffer> {
  const { tensors } = parseSafetensors(new Uint8Array(readFileSync(file)), file);
  return new Map(
    Object.entries(tensors).map(([k, t]) => [
      k,
      Buffer.from(t.data.buffer, t.data.byteOffset, t.data.byteLength),
    ]),
  );
}

function expectBitIdentical(a: string, b: string): void {
  const ta = tensors(a);
  const tb = tensors(b);
  expect([...ta.keys()].sort()).toEqual([...tb.keys()].sort());
  for (const [k, v] of ta) expect(v.equals(tb.get(k)!), `tensor ${k}`).toBe(true);
  expect(loadCheckpoint(a).step).toBe(loadCheckpoint(b).step);
}

/** Whatever a crash left behind must be the old or the new checkpoint, whole: it loads (checksum). */
function expectLoadable(save: string): number | null {
  if (!existsSync(save)) return null;
  return loadCheckpoint(save).step;
}

describe('kill -9 and resume: bit for bit', () => {
  for (const optimizer of ['kfac', 'adam']) {
    it(`${optimizer}: ${RANDOM_KILLS} SIGKILLs at random moments and ${WRITE_CRASHES} inside a checkpoint write, then the same final checkpoint`, async () => {
      const straight = join(dir, `${optimizer}-straight.safetensors`);
      const s = await run(args(optimizer, straight, false));
      expect(s.code, s.stderr).toBe(0);

      const save = join(dir, `${optimizer}-killed.safetensors`);
      const rng = new Rng(optimizer === 'kfac' ? 11 : 12);
      let kills = 0;
      let lastStep = -1;
      // The write crashes first (they must happen: a finished run has no writes left to crash in).
      const plan: ('random' | 'write')[] = [
        ...Array<'write'>(WRITE_CRASHES).fill('write'),
        ...Array<'random'>(RANDOM_KILLS).fill('random'),
      ];
      for (const kind of plan) {
        const resume = existsSync(save);
        let r: Exit;
        if (kind === 'write') {
          // The n-th atomic write of this process: its n-th checkpoint (no --out, so nothing else).
          const n = 2 + Math.floor(rng.uniform() * 40);
          r = await run(args(optimizer, save, resume), { RIESZ_CRASH_AT_WRITE: String(n) });
        } else {
          // Past start-up (~0.5 s) and somewhere in the steps (a step, with its checkpoint, is ~10 ms).
          const delay = 400 + Math.floor(rng.uniform() * 1200);
          r = await run(args(optimizer, save, resume), {}, (c) => {
            setTimeout(() => c.kill('SIGKILL'), delay);
          });
        }
        if (r.code === 0) break; // the run finished before the kill: nothing left to interrupt
        expect(r.signal, r.stderr).toBe('SIGKILL');
        kills++;
        const step = expectLoadable(save);
        // Resumed runs only move forward.
        if (step !== null) {
          expect(step).toBeGreaterThanOrEqual(lastStep);
          lastStep = step;
        }
      }
      // A crash inside a write leaves its temporary file, never a torn checkpoint.
      expect(readdirSync(dir).some((f) => f.startsWith(`.${optimizer}-killed.safetensors.`))).toBe(true);
      expect(kills).toBeGreaterThanOrEqual(WRITE_CRASHES + 1);
      const done = await run(args(optimizer, save, existsSync(save)));
      expect(done.code, done.stderr).toBe(0);
      expectBitIdentical(save, straight);
    }, 120_000);
  }
});

describe('SIGINT and resume: bit for bit', () => {
  it('Ctrl-C at a random moment exits 130 with a checkpoint; resuming ends on the straight run, every tensor equal', async () => {
    const straight = join(dir, 'int-straight.safetensors');
    expect((await run(args('kfac', straight, false))).code).toBe(0);
    const save = join(dir, 'int.safetensors');
    // Ctrl-C once the first checkpoint is on disk (so the CLI's handler is in place: a SIGINT
    // before it kills Node outright, which a loaded machine made happen at a fixed 1 s), then
    // at a random moment within the next 300 ms.
    const r = await run(args('kfac', save, false), {}, (c) => {
      const wait = setInterval(() => {
        if (!existsSync(save)) return;
        clearInterval(wait);
        setTimeout(() => c.kill('SIGINT'), Math.random() * 300);
      }, 10);
      c.on('exit', () => clearInterval(wait));
    });
    // The run may have ended first on a fast machine; otherwise it stopped cleanly and said so.
    if (r.code !== 0) {
      expect(r.code, r.stderr).toBe(130);
      expect(r.stderr).toMatch(/interrupted after step \d+; checkpoint in/);
      expect(loadCheckpoint(save).step).toBeLessThan(STEPS);
      const done = await run(args('kfac', save, true));
      expect(done.code, done.stderr).toBe(0);
    }
    expectBitIdentical(save, straight);
  }, 60_000);
});
