/**
 * The race's engine in Node (the page runs the same code in the browser): the shipped MNIST subset
 * parses, and each optimizer's runner takes steps whose loss falls, on both tasks.
 */
import { existsSync, readFileSync } from 'node:fs';
import { beforeAll, describe, expect, it } from 'vitest';
import { initDevice } from '../../src/backend/device.js';
import { parseMnistSubset, Runner, raceTask } from './race-model.js';

const SUBSET = new URL('../../build/web-public/mnist-subset.bin', import.meta.url);
const haveSubset = existsSync(SUBSET);
if (!haveSubset)
  console.warn('race-model: MNIST cases skipped, no build/web-public/mnist-subset.bin (npm run build:web)');

beforeAll(async () => {
  await initDevice('wasm');
});

describe('the MNIST subset file', () => {
  it.skipIf(!haveSubset)('holds 2000 + 500 digits with labels 0..9 and pixels in [0, 1]', () => {
    const bytes = readFileSync(SUBSET);
    const { train, test } = parseMnistSubset(
      bytes.buffer.slice(bytes.byteOffset, bytes.byteOffset + bytes.length),
    );
    expect([train.n, test.n]).toEqual([2000, 500]);
    expect(train.x.length).toBe(2000 * 784);
    expect(Math.max(...train.y)).toBe(9);
    expect(Math.min(...test.y)).toBe(0);
    expect(train.x.every((v) => v >= 0 && v <= 1)).toBe(true);
    // Every class is present in the training part.
    expect(new Set(train.y).size).toBe(10);
  });

  it('refuses bytes that are not a subset file', () => {
    expect(() => parseMnistSubset(new Uint8Array(40).buffer)).toThrow(/not a riesz MNIST subset/);
    const header = new Uint8Array([82, 90, 77, 78, 1, 0, 0, 0, 1, 0, 0, 0]);
    expect(() => parseMnistSubset(header.buffer)).toThrow(/expected 1582/);
  });
});

async function lossesOf(r: Runner, steps: number): Promise<number[]> {
  const out: number[] = [];
  for (let s = 0; s < steps; s++) {
    const p = await r.advance();
    expect(p, `${r.name}: ${r.failed}`).not.toBeNull();
    out.push(p!.loss);
  }
  return out;
}

describe.each(['sgd', 'kfac', 'muon'])('runner %s', (name) => {
  it.skipIf(!haveSubset)('lowers the MNIST subset loss in 15 steps and reports test accuracy', async () => {
    const bytes = readFileSync(SUBSET);
    const task = raceTask('mnist', bytes.buffer.slice(bytes.byteOffset, bytes.byteOffset + bytes.length));
    const r = new Runner(task, name);
    const losses = await lossesOf(r, 15);
    expect(losses[14]).toBeLessThan(losses[0]);
    expect(r.step).toBe(15);
    expect(r.medianStepMs()).toBeGreaterThan(0);
    const e = await r.evaluate();
    expect(e.accuracy).toBeGreaterThan(0.2);
    r.dispose();
  });

  it('lowers the linreg-aniso loss in 10 steps', async () => {
    const r = new Runner(raceTask('linreg-aniso'), name);
    const losses = await lossesOf(r, 10);
    expect(losses[9]).toBeLessThan(losses[0]);
    r.dispose();
  });
});
