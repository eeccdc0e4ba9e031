/**
 * Child process of test/webgpu.test.ts (bundled by it with esbuild):
 * `node pair-runner.mjs TASK STEPS BATCH DEVICE_INVERSE_MAX OPTIMIZER...` prints one JSON
 * {@link PairSummary} per line, in order; an optimizer that throws prints its error instead.
 */
import { initDevice } from '../../src/backend/device.js';
import { loadTask } from '../../src/train/tasks.js';
import { comparePair } from './pairs.js';

const [taskName, steps, batch, deviceInverseMax, ...optimizers] = process.argv.slice(2);
await initDevice('webgpu');
const task = loadTask(taskName);
const settings = { steps: Number(steps), batch: Number(batch), deviceInverseMax: Number(deviceInverseMax) };
for (const optimizer of optimizers) {
  try {
    process.stdout.write(`${JSON.stringify(await comparePair(task, optimizer, settings))}\n`);
  } catch (e) {
    process.stdout.write(`${JSON.stringify({ optimizer, error: (e as Error).stack ?? String(e) })}\n`);
  }
}
process.stdout.write('', () => process.exit(0));
