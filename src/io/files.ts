/**
 * Reading and writing matrices on disk, by extension: `.npy`, `.mtx`, `.csv` / `.txt`. Writes are
 * atomic (a temporary file in the same folder, then a rename), so a crash never leaves half a file.
 */
import { randomBytes } from 'node:crypto';
import { readFileSync, renameSync, rmSync, writeFileSync } from 'node:fs';
import { basename, dirname, extname, join } from 'node:path';
import { ParseError } from '../errors.js';
import type { Matrix } from '../linalg/matrix.js';
import { parseCsv } from './csv.js';
import { parseMatrixMarket } from './mtx.js';
import { type ParsedArray, parseNpy, serializeNpy } from './npy.js';

export const MATRIX_EXTENSIONS = ['.npy', '.mtx', '.csv', '.txt'] as const;

/**
 * Reads a matrix file chosen by its extension.
 * @throws ParseError naming the file (missing, unreadable, unknown extension or bad content).
 */
export function readMatrixFile(path: string): ParsedArray {
  const ext = extname(path).toLowerCase();
  if (!(MATRIX_EXTENSIONS as readonly string[]).includes(ext)) {
    throw new ParseError(
      path,
      `unknown file type '${ext || '(none)'}' (expected one of ${MATRIX_EXTENSIONS.join(', ')})`,
    );
  }
  let bytes: Buffer;
  try {
    bytes = readFileSync(path);
  } catch (e) {
    const code = (e as NodeJS.ErrnoException).code;
    throw new ParseError(path, code === 'ENOENT' ? 'no such file' : `cannot read (${code ?? String(e)})`);
  }
  if (ext === '.npy') return parseNpy(new Uint8Array(bytes.buffer, bytes.byteOffset, bytes.byteLength), path);
  const text = bytes.toString('utf8');
  const matrix = ext === '.mtx' ? parseMatrixMarket(text, path) : parseCsv(text, path);
  return { matrix, ndim: 2 };
}

/** Writes bytes atomically: a sibling temporary file, then rename over the target. */
export function writeFileAtomic(path: string, data: Uint8Array | string): void {
  const tmp = join(dirname(path), `.${basename(path)}.${randomBytes(6).toString('hex')}.tmp`);
  try {
    writeFileSync(tmp, data);
    renameSync(tmp, path);
  } catch (e) {
    rmSync(tmp, { force: true });
    throw e;
  }
}

/** Writes A as a `.npy` file (f8 or c16), atomically. */
export function writeNpyFile(path: string, A: Matrix): void {
  writeFileAtomic(path, serializeNpy(A));
}
