/**
 * A supervised dataset held in host memory, and seeded mini-batches of it. Inputs are float32 rows;
 * targets are either int32 class labels (yDim per row: 1 for a classifier, one per position for a
 * sequence model) or float32 rows.
 */
import { Rng } from '../linalg/random.js';

export interface Dataset {
  n: number;
  /** n×xDim row-major inputs. */
  x: Float32Array;
  xDim: number;
  /** n×yDim int32 labels (classification) or n×yDim float32 targets. */
  y: Int32Array | Float32Array;
  yDim: number;
}

/** A permutation of 0..n−1 by Fisher–Yates with a seeded generator. */
export function shuffled(n: number, rng: Rng): Uint32Array {
  const p = new Uint32Array(n);
  for (let i = 0; i < n; i++) p[i] = i;
  for (let i = n - 1; i > 0; i--) {
    const j = Math.floor(rng.uniform() * (i + 1));
    const t = p[i];
    p[i] = p[j];
    p[j] = t;
  }
  return p;
}

export interface Batch {
  x: Float32Array;
  y: Int32Array | Float32Array;
  size: number;
}

/** Rows `idx` of the dataset, gathered into contiguous arrays. */
export function gather(d: Dataset, idx: ArrayLike<number>): Batch {
  const b = idx.length;
  const x = new Float32Array(b * d.xDim);
  const y = d.y instanceof Int32Array ? new Int32Array(b * d.yDim) : new Float32Array(b * d.yDim);
  for (let r = 0; r < b; r++) {
    const i = idx[r];
    x.set(d.x.subarray(i * d.xDim, (i + 1) * d.xDim), r * d.xDim);
    y.set(d.y.subarray(i * d.yDim, (i + 1) * d.yDim), r * d.yDim);
  }
  return { x, y, size: b };
}

/**
 * The mini-batches of one epoch: a seeded shuffle (seed, epoch) cut into full batches (the ragged
 * tail is dropped so every step has the same shape).
 */
export function* epochBatches(
  d: Dataset,
  batchSize: number,
  seed: number,
  epoch: number,
  /** Batches of this epoch to pass over without gathering them (a resumed epoch). */
  skip = 0,
): Generator<Batch> {
  const order = shuffled(d.n, new Rng(seed * 100003 + epoch));
  for (let s = skip * batchSize; s + batchSize <= d.n; s += batchSize)
    yield gather(d, order.subarray(s, s + batchSize));
}

/**
 * Batches of varying size `size(k)` for steps k = from, from+1, …: consecutive rows of the epochs'
 * seeded shuffles (the same ones as `epochBatches`), a batch that crosses an epoch's end continuing
 * into the next shuffle. Deterministic in (seed, k), so a resumed run gets the same batches.
 */
export function* scheduledBatches(
  d: Dataset,
  size: (step: number) => number,
  seed: number,
  from = 0,
): Generator<Batch> {
  let epoch = 0;
  let pos = 0;
  let order = shuffled(d.n, new Rng(seed * 100003 + epoch));
  const take = (m: number, keep: boolean): Uint32Array | null => {
    const idx = keep ? new Uint32Array(m) : null;
    for (let i = 0; i < m; i++) {
      if (pos === d.n) {
        order = shuffled(d.n, new Rng(seed * 100003 + ++epoch));
        pos = 0;
      }
      if (idx) idx[i] = order[pos];
      pos++;
    }
    return idx;
  };
  for (let k = 0; k < from; k++) take(size(k), false);
  for (let k = from; ; k++) yield gather(d, take(size(k), true)!);
}

/** Consecutive batches for evaluation (the tail batch is smaller). */
export function* evalBatches(d: Dataset, batchSize: number): Generator<Batch> {
  for (let s = 0; s < d.n; s += batchSize) {
    const idx = Array.from({ length: Math.min(batchSize, d.n - s) }, (_, k) => s + k);
    yield gather(d, idx);
  }
}
