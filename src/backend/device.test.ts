import { expect, it } from 'vitest';
import { DeviceError, initDevice } from './device.js';

it('refuses an unknown device with the valid ones', async () => {
  await expect(initDevice('tpu' as never)).rejects.toThrow(
    /unknown device 'tpu'; valid devices: wasm, webgpu, cpu/,
  );
});

it('starts wasm', async () => {
  expect(await initDevice('wasm')).toBe('wasm');
});

it('webgpu: starts where an adapter exists, else says why and what is available', async () => {
  try {
    expect(await initDevice('webgpu')).toBe('webgpu');
    console.log('webgpu adapter found: WebGPU device started');
  } catch (e) {
    expect(e).toBeInstanceOf(DeviceError);
    expect((e as Error).message).toMatch(/--device webgpu was asked for, but .*available here: .*wasm/);
  }
});
