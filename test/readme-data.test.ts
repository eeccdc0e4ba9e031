/** The README's own-data example, extracted from the README and run as written. */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { expect, it } from 'vitest';
import { datasetFromArrays } from '../src/data/user-data.js';
import { train } from '../src/train/loop.js';
import { mlpTask } from '../src/train/user-task.js';
import { ready } from './jax-setup.js';

it('README: training on your own data from TypeScript', async () => {
  await ready;
  const readme = readFileSync(join(import.meta.dirname, '../README.md'), 'utf8');
  const block = readme.match(
    /```ts\n(import \{ datasetFromArrays, mlpTask, train \} from 'riesz\/node';[\s\S]*?)```/,
  );
  expect(block, 'the example block').not.toBeNull();
  const code = block![1].replace(/^import .*$/m, '');
  const printed: unknown[] = [];
  const console = { log: (v: unknown) => printed.push(v) };
  const AsyncFunction = Object.getPrototypeOf(async () => {}).constructor;
  await new AsyncFunction('datasetFromArrays', 'mlpTask', 'train', 'console', code)(
    datasetFromArrays,
    mlpTask,
    train,
    console,
  );
  expect(printed).toHaveLength(1);
  expect(printed[0] as number).toBeGreaterThan(0.8);
}, 60_000);
