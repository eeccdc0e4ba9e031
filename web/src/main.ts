/** The lab page's entry (first cut): starts jax-js, says which device it got, and a first norm. */
import { initDevice } from '../../src/backend/device.js';
import { frobeniusNorm } from '../../src/geometry/frobenius.js';
import { diagonal } from '../../src/geometry/inner-product/diagonal.js';
import { matrix } from '../../src/linalg/matrix.js';
import { loadTask } from '../../src/train/tasks.js';

async function start(): Promise<void> {
  const status = document.getElementById('status')!;
  let device: string;
  try {
    device = await initDevice('webgpu');
  } catch {
    device = await initDevice('wasm');
  }
  const norm = frobeniusNorm(
    matrix([
      [1, 2],
      [0, 1],
    ]),
    { domain: diagonal([4, 1]) },
  );
  const task = loadTask('linreg-aniso');
  status.textContent = `device ${device}; ‖A‖_V,W = ${norm.toFixed(4)}; task ${task.name} (${task.train.n} examples)`;
  document.body.dataset.ready = 'true';
}

start().catch((e: Error) => {
  document.getElementById('status')!.textContent = `error: ${e.message}`;
});
