/**
 * CIFAR-10's binary format (A. Krizhevsky, 2009): each record is 1 label byte followed by 3072 pixel
 * bytes (1024 red, 1024 green, 1024 blue, each a 32×32 row-major plane). The data set itself cannot
 * be obtained on these machines (no network beyond package registries, and no registry ships it):
 * this reader is tested on generated files, for users who have the `cifar-10-batches-bin` folder.
 */
import { readFileSync } from 'node:fs';
import { ParseError } from '../errors.js';
import type { ImageDataset } from './mnist.js';

const RECORD = 1 + 3 * 32 * 32;

/** Parses one CIFAR-10 binary batch (n records) into C×H×W float rows in [0, 1]. */
export function parseCifarBatch(bytes: Uint8Array, file = '<cifar>'): ImageDataset {
  if (bytes.length === 0 || bytes.length % RECORD !== 0) {
    throw new ParseError(
      file,
      `size ${bytes.length} is not a multiple of the ${RECORD}-byte CIFAR-10 record (truncated?)`,
    );
  }
  const n = bytes.length / RECORD;
  const images = new Float32Array(n * 3072);
  const labels = new Int32Array(n);
  for (let i = 0; i < n; i++) {
    const off = i * RECORD;
    const label = bytes[off];
    if (label > 9) throw new ParseError(file, `record ${i}: label ${label} is outside 0..9`);
    labels[i] = label;
    for (let p = 0; p < 3072; p++) images[i * 3072 + p] = bytes[off + 1 + p] / 255;
  }
  return { images, labels, n, rows: 32, cols: 32, classes: 10 };
}

/** Reads a batch file (e.g. data_batch_1.bin). */
export function readCifarBatch(path: string): ImageDataset {
  let bytes: Buffer;
  try {
    bytes = readFileSync(path);
  } catch {
    throw new ParseError(path, 'cannot read the file (CIFAR-10 is not shipped with riesz; see the README)');
  }
  return parseCifarBatch(new Uint8Array(bytes), path);
}
