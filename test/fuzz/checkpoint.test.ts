/**
 * Fuzzing checkpoint loading: damaged checkpoints either load or are refused with a RieszError.
 * Most damage is caught by the checksum; the same inputs with the checksum removed reach the
 * state decoder, which must refuse them just as cleanly.
 */
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { numpy as np } from '@jax-js/jax';
import { beforeAll, describe, it, vi } from 'vitest';
import { parseSafetensors, serializeSafetensors } from '../../src/io/safetensors.js';
import { matrix } from '../../src/linalg/matrix.js';
import {
  CHECKSUM_KEY,
  loadCheckpoint,
  parseCheckpointFile,
  saveCheckpoint,
} from '../../src/train/checkpoint.js';
import { ready } from '../jax-setup.js';
import { check, mutated, returnsOrThrowsTyped, TIMEOUT } from './mutate.js';

vi.setConfig({ testTimeout: TIMEOUT });
const opts = { maxBytes: 2 ** 20 };
const dir = mkdtempSync(join(tmpdir(), 'riesz-fuzz-ck-'));
let seeds: Uint8Array[] = [];

beforeAll(async () => {
  await ready;
  const path = join(dir, 'seed.safetensors');
  await saveCheckpoint(path, {
    params: { w: np.array([1, 2, 3, 4, 5, 6]).reshape([2, 3]), b: np.array([0.5, -1]) },
    state: { mu: [np.array([1, 2])], count: np.array([4], { dtype: np.int32 }), g: matrix([[1, [2, 1]]]) },
    step: 11,
    run: { task: 't', optimizer: 'o' },
  });
  const withSum = new Uint8Array(readFileSync(path));
  const { tensors, metadata } = parseSafetensors(withSum);
  const bare = Object.fromEntries(Object.entries(metadata).filter(([k]) => k !== CHECKSUM_KEY));
  seeds = [withSum, serializeSafetensors(tensors, bare)];
});

describe('fuzzing checkpoints', () => {
  it('damaged files: layout and checksum checks', () => {
    const read = returnsOrThrowsTyped((b) => parseCheckpointFile(b, 'fuzz.safetensors', opts));
    return check(mutated(seeds), read, 800);
  });
  it('damaged files through loadCheckpoint, with and without a checksum', () => {
    const path = join(dir, 'fuzz.safetensors');
    const read = returnsOrThrowsTyped((b) => {
      writeFileSync(path, b);
      return loadCheckpoint(path, opts);
    });
    return check(mutated(seeds), read, 300, 0.2);
  });
});
