/** Test helpers for jax-js code: device start-up and comparisons of jax-js arrays. */
import type { numpy as np } from '@jax-js/jax';
import { expect } from 'vitest';
import { initDevice } from '../src/backend/device.js';

export const ready = initDevice('wasm');

/** Reads an array without consuming it. */
export function read(x: np.Array): number[] {
  return Array.from(x.ref.dataSync() as Float32Array);
}

export function expectArrayClose(x: np.Array, expected: number[] | number[][], tol = 1e-5): void {
  const got = read(x);
  const want: number[] = expected.flat();
  expect(got.length).toBe(want.length);
  got.forEach((v, i) => {
    expect(Math.abs(v - want[i]), `entry ${i}: ${v} vs ${want[i]}`).toBeLessThanOrEqual(
      tol * Math.max(1, Math.abs(want[i])),
    );
  });
}
