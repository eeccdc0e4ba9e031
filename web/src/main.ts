/**
 * The riesz lab page: starts jax-js (WebGPU when the browser has it, Wasm otherwise) and sets up the
 * three panels. Every handler shows its errors in its panel; anything that still escapes is shown in
 * the page's own alert box and kept out of the console.
 */
import { initDevice } from '../../src/backend/device.js';
import { setupGeometry } from './geometry-panel.js';
import { setupRace } from './race-panel.js';
import { setupSpectra } from './spectra-panel.js';
import { byId, describeError, showError } from './ui.js';

const pageError = byId('page-error');
window.addEventListener('error', (e) => {
  e.preventDefault();
  showError(pageError, e.error ?? e.message);
});
window.addEventListener('unhandledrejection', (e) => {
  e.preventDefault();
  showError(pageError, e.reason);
});

/** WebGPU when the browser offers an adapter, else Wasm; says which and why. */
async function startDevice(): Promise<{ device: string; note: string }> {
  const gpu = (navigator as { gpu?: { requestAdapter(): Promise<unknown> } }).gpu;
  if (gpu) {
    try {
      if (await gpu.requestAdapter()) return { device: await initDevice('webgpu'), note: 'WebGPU' };
    } catch {
      // fall through to Wasm
    }
  }
  return {
    device: await initDevice('wasm'),
    note: gpu ? 'no WebGPU adapter, so Wasm' : 'no WebGPU in this browser, so Wasm',
  };
}

async function start(): Promise<void> {
  const status = byId('status');
  const { device, note } = await startDevice();
  status.textContent = `device ${device} (${note}); ${crossOriginIsolated ? 'cross-origin isolated' : 'not cross-origin isolated'}`;
  document.body.dataset.device = device;
  setupRace(device);
  await Promise.all([setupGeometry(), setupSpectra()]);
  document.body.dataset.ready = 'true';
}

start().catch((e: unknown) => {
  showError(pageError, `the lab could not start: ${describeError(e)}`);
  byId('status').textContent = 'error';
});
