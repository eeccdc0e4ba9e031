/**
 * Reading and writing matrices on disk, by extension: `.npy`, `.mtx`, `.csv` / `.txt`. Reads are
 * bounded (the file's size is checked against the allocation limit before it is read). Writes are
 * atomic and durable: a temporary file in the same folder, flushed to disk, renamed over the target,
 * then the folder flushed, so a crash or power loss leaves either the old file or the new one.
 */
import { randomBytes } from 'node:crypto';
import { closeSync, fsyncSync, openSync, readSync, renameSync, rmSync, statSync, writeSync } from 'node:fs';
import { basename, dirname, extname, join } from 'node:path';
import { ParseError, SizeLimitError } from '../errors.js';
import type { Matrix } from '../linalg/matrix.js';
import { parseCsv } from './csv.js';
import { maxBytesOf, RAISE_MAX_BYTES, type ReadOptions } from './limits.js';
import { parseMatrixMarket } from './mtx.js';
import { MAX_NPY_HEADER_BYTES, type ParsedArray, parseNpy, serializeNpy } from './npy.js';

export const MATRIX_EXTENSIONS = ['.npy', '.mtx', '.csv', '.txt'] as const;

/** Largest single read: stays under the 2 GiB a single read(2) call may return on Linux. */
const READ_CHUNK = 2 ** 30;

/**
 * Reads a whole regular file into memory, refusing one larger than `limit` (+ `slack`, room for a
 * header) bytes before reading. Special files (FIFOs, devices, folders) are refused: reading them
 * could block or never end.
 * @throws ParseError naming the file (missing, unreadable, not a regular file); SizeLimitError.
 */
export function readFileBounded(path: string, limit: number, slack = 0): Uint8Array {
  const failed = (e: unknown): never => {
    const code = (e as NodeJS.ErrnoException).code;
    throw new ParseError(path, code === 'ENOENT' ? 'no such file' : `cannot read (${code ?? String(e)})`);
  };
  let size = 0;
  try {
    const st = statSync(path);
    if (!st.isFile()) throw new ParseError(path, 'not a regular file');
    size = st.size;
  } catch (e) {
    if (e instanceof ParseError) throw e;
    failed(e);
  }
  if (size > limit + slack) throw new SizeLimitError(path, 'the file', size, limit, RAISE_MAX_BYTES);
  let buf: Buffer;
  try {
    buf = Buffer.allocUnsafe(size);
  } catch (e) {
    throw new ParseError(path, `cannot allocate ${size} bytes to read it (${(e as Error).message})`);
  }
  let fd: number | undefined;
  let got = 0;
  try {
    fd = openSync(path, 'r');
    while (got < size) {
      const k = readSync(fd, buf, got, Math.min(READ_CHUNK, size - got), got);
      if (k === 0) break;
      got += k;
    }
  } catch (e) {
    failed(e);
  } finally {
    if (fd !== undefined) closeSync(fd);
  }
  if (got < size) throw new ParseError(path, `the file shrank while being read (${got} of ${size} bytes)`);
  return new Uint8Array(buf.buffer, buf.byteOffset, size);
}

/**
 * Reads a matrix file chosen by its extension.
 * @param options `maxBytes` caps the file and the decoded matrix (default 2^31 bytes, or the
 * `RIESZ_MAX_BYTES` environment variable).
 * @throws ParseError naming the file (missing, unreadable, unknown extension or bad content);
 * SizeLimitError when the file or its matrix is over the limit.
 */
export function readMatrixFile(path: string, options?: ReadOptions): ParsedArray {
  const ext = extname(path).toLowerCase();
  if (!(MATRIX_EXTENSIONS as readonly string[]).includes(ext)) {
    throw new ParseError(
      path,
      `unknown file type '${ext || '(none)'}' (expected one of ${MATRIX_EXTENSIONS.join(', ')})`,
    );
  }
  const limit = maxBytesOf(options);
  // A .npy file is its data plus a header; allow the header on top of a data size at the limit.
  const bytes = readFileBounded(path, limit, ext === '.npy' ? 12 + MAX_NPY_HEADER_BYTES : 0);
  const opts = { maxBytes: limit };
  if (ext === '.npy') return parseNpy(bytes, path, opts);
  const matrix = ext === '.mtx' ? parseMatrixMarket(bytes, path, opts) : parseCsv(bytes, path, opts);
  return { matrix, ndim: 2 };
}

/** Errors of fsync on a folder from platforms or file systems that cannot flush one. */
const DIR_FSYNC_UNSUPPORTED = new Set(['EISDIR', 'EINVAL', 'EPERM', 'ENOTSUP', 'EBADF']);

/** Flushes a folder's entries (a rename in it) to disk, where the platform allows. */
function fsyncDir(dir: string): void {
  let fd: number;
  try {
    fd = openSync(dir, 'r');
  } catch (e) {
    // Windows cannot open a folder for reading; nothing to flush there.
    if (DIR_FSYNC_UNSUPPORTED.has((e as NodeJS.ErrnoException).code ?? '')) return;
    throw e;
  }
  try {
    fsyncSync(fd);
  } catch (e) {
    if (!DIR_FSYNC_UNSUPPORTED.has((e as NodeJS.ErrnoException).code ?? '')) throw e;
  } finally {
    closeSync(fd);
  }
}

/**
 * Fault injection for the kill tests (test/kill-resume.test.ts): with RIESZ_CRASH_AT_WRITE=n in the
 * environment, the process SIGKILLs itself in the middle of its n-th atomic write — half of the
 * temporary file written and flushed, nothing renamed — the moment a real crash would do the most
 * damage. Unset (the default), nothing changes.
 */
const CRASH_AT_WRITE = Number(process.env.RIESZ_CRASH_AT_WRITE ?? 0) || 0;
let atomicWrites = 0;

function crashMidWrite(fd: number, bytes: Uint8Array): never {
  writeSync(fd, bytes, 0, bytes.length >> 1);
  fsyncSync(fd);
  process.kill(process.pid, 'SIGKILL');
  throw new Error('unreachable: SIGKILL did not end the process');
}

/**
 * Writes bytes atomically and durably: a sibling temporary file (created exclusively), fsynced,
 * renamed over the target, then the folder fsynced so the rename itself survives a power loss. On
 * failure the temporary file is removed and the target is left as it was.
 */
export function writeFileAtomic(path: string, data: Uint8Array | string): void {
  const dir = dirname(path);
  const tmp = join(dir, `.${basename(path)}.${randomBytes(6).toString('hex')}.tmp`);
  const bytes = typeof data === 'string' ? Buffer.from(data, 'utf8') : data;
  let fd: number | undefined;
  try {
    fd = openSync(tmp, 'wx');
    if (CRASH_AT_WRITE > 0 && ++atomicWrites === CRASH_AT_WRITE) crashMidWrite(fd, bytes);
    for (let off = 0; off < bytes.length; ) off += writeSync(fd, bytes, off, bytes.length - off);
    fsyncSync(fd);
    closeSync(fd);
    fd = undefined;
    renameSync(tmp, path);
  } catch (e) {
    if (fd !== undefined) closeSync(fd);
    rmSync(tmp, { force: true });
    throw e;
  }
  fsyncDir(dir);
}

/** Writes A as a `.npy` file (f8 or c16), atomically. */
export function writeNpyFile(path: string, A: Matrix): void {
  writeFileAtomic(path, serializeNpy(A));
}
