/**
 * Checkpoint integrity (src/train/checkpoint.ts): a SHA-256 recorded at save time and checked at
 * load time, so damaged or truncated files are refused with a ParseError naming them.
 */
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { numpy as np } from '@jax-js/jax';
import { beforeAll, describe, expect, it } from 'vitest';
import { ready } from '../../test/jax-setup.js';
import { ParseError } from '../errors.js';
import { matrix } from '../linalg/matrix.js';
import { CHECKSUM_KEY, loadCheckpoint, parseCheckpointFile, saveCheckpoint } from '../train/checkpoint.js';
import { parseSafetensors, serializeSafetensors } from './safetensors.js';

beforeAll(async () => {
  await ready;
});

async function save(): Promise<{ path: string; bytes: Uint8Array }> {
  const dir = mkdtempSync(join(tmpdir(), 'riesz-ck-'));
  const path = join(dir, 'run.safetensors');
  await saveCheckpoint(path, {
    params: { w: np.array([1, 2, 3, 4]).reshape([2, 2]), b: np.array([0.5]) },
    state: {
      count: np.array([3], { dtype: np.int32 }),
      gram: matrix([
        [2, 1],
        [1, 2],
      ]),
      lr: 0.1,
    },
    step: 7,
    run: { task: 'linreg', optimizer: 'kfac' },
  });
  return { path, bytes: new Uint8Array(readFileSync(path)) };
}

/** Offset of the first tensor byte (after the 8-byte length and the JSON header). */
const dataStart = (b: Uint8Array) => 8 + Number(new DataView(b.buffer, b.byteOffset).getBigUint64(0, true));

describe('checkpoint integrity', () => {
  it('records a SHA-256 in the metadata and loads what it saved', async () => {
    const { path, bytes } = await save();
    expect(parseSafetensors(bytes).metadata[CHECKSUM_KEY]).toMatch(/^sha256:[0-9a-f]{64}$/);
    const ck = loadCheckpoint(path);
    expect(ck.step).toBe(7);
    expect(Array.from(ck.params.w.ref.dataSync() as Float32Array)).toEqual([1, 2, 3, 4]);
    expect(Array.from((ck.state as { gram: { re: Float64Array } }).gram.re)).toEqual([2, 1, 1, 2]);
  });
  it('refuses a checkpoint with a flipped bit in a tensor, naming the file', async () => {
    const { path, bytes } = await save();
    for (const at of [dataStart(bytes), bytes.length - 1]) {
      const bad = bytes.slice();
      bad[at] ^= 0x01;
      writeFileSync(path, bad);
      expect(() => loadCheckpoint(path)).toThrow(ParseError);
      expect(() => loadCheckpoint(path)).toThrow(
        new RegExp(`^${path.replace(/[.\\/]/g, '\\$&')}: checksum mismatch: the checkpoint was damaged`),
      );
    }
  });
  it('refuses a checkpoint whose metadata was edited (the step counter)', async () => {
    const { path, bytes } = await save();
    const text = new TextDecoder().decode(bytes);
    const at = text.indexOf('"step":"7"') + '"step":"'.length;
    const bad = bytes.slice();
    bad[at] = '8'.charCodeAt(0);
    writeFileSync(path, bad);
    expect(() => loadCheckpoint(path)).toThrow(/checksum mismatch/);
  });
  it('refuses a truncated checkpoint, naming the file', async () => {
    const { path, bytes } = await save();
    for (const keep of [bytes.length - 4, dataStart(bytes), 100, 4]) {
      writeFileSync(path, bytes.subarray(0, keep));
      expect(() => loadCheckpoint(path)).toThrow(ParseError);
      expect(() => loadCheckpoint(path)).toThrow(/run\.safetensors: (truncated|tensor '.*': data offsets)/);
    }
  });
  it('still loads an old checkpoint written without a checksum', async () => {
    const { path, bytes } = await save();
    const { tensors, metadata } = parseSafetensors(bytes);
    const old = Object.fromEntries(Object.entries(metadata).filter(([k]) => k !== CHECKSUM_KEY));
    writeFileSync(path, serializeSafetensors(tensors, old));
    expect(loadCheckpoint(path).step).toBe(7);
  });
  it('refuses a state that names a tensor of the wrong kind, or a __proto__ key', async () => {
    const { bytes } = await save();
    const { tensors, metadata } = parseSafetensors(bytes);
    const dir = mkdtempSync(join(tmpdir(), 'riesz-ck-'));
    const write = (state: string) => {
      const path = join(dir, 'x.safetensors');
      const meta = { ...metadata, state };
      delete (meta as Record<string, string>)[CHECKSUM_KEY];
      writeFileSync(path, serializeSafetensors(tensors, meta));
      return path;
    };
    expect(() => loadCheckpoint(write('{"m":{"$matrix":"params.w"}}'))).toThrow(
      /checkpoint refers to tensor 'params\.w\.re'/,
    );
    expect(() => loadCheckpoint(write('{"m":{"$array":"state.gram.re"}}'))).toThrow(
      /tensor 'state\.gram\.re' has dtype F64 .* not what the state expects/,
    );
    expect(() => loadCheckpoint(write('{"__proto__":{"polluted":1}}'))).toThrow(/a key '__proto__'/);
    expect(() => loadCheckpoint(write('{"a":[[[['))).toThrow(/corrupt checkpoint metadata/);
  });
  it('checks the checksum without building arrays (parseCheckpointFile)', async () => {
    const { bytes } = await save();
    expect(Object.keys(parseCheckpointFile(bytes, 'ck').tensors).sort()).toEqual([
      'params.b',
      'params.w',
      'state.count',
      'state.gram.re',
    ]);
    expect(() => parseCheckpointFile(serializeSafetensors({}, { format: 'other' }), 'ck')).toThrow(
      /ck: not a riesz checkpoint/,
    );
  });
});
