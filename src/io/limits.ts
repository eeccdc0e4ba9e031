/**
 * What the readers are willing to allocate, and the small helpers they share to stay inside it.
 *
 * The limit is per array (one decoded matrix, one tensor, one file buffer): **2^31 bytes (2 GiB)** by
 * default. Why that number: it is the largest file Node's `readFileSync` reads in one piece, so it
 * matches what a reader can be handed anyway; it holds a 16384×16384 f64 matrix (11585² complex),
 * where one dense O(n³) kernel at this project's measured ~20 GFLOP/s already takes minutes; and it
 * leaves room on an ordinary laptop. Raise it per call with the `maxBytes` option, or for a whole
 * process with the environment variable `RIESZ_MAX_BYTES` (bytes, or with a KiB/MiB/GiB/TiB suffix).
 */
import { ParseError, SizeLimitError, UsageError } from '../errors.js';

/** The default cap on one allocation by a reader: 2^31 bytes. */
export const DEFAULT_MAX_BYTES = 2 ** 31;

/** The environment variable that overrides {@link DEFAULT_MAX_BYTES}. */
export const MAX_BYTES_ENV = 'RIESZ_MAX_BYTES';

/** Largest matrix dimension accepted from a file header; larger is an overflowing size. */
export const MAX_DIM = 2 ** 31 - 1;

/** Longest text line the text readers decode (a longer one is refused, not split). */
export const MAX_LINE_BYTES = 2 ** 28;

/** Options shared by the readers. */
export interface ReadOptions {
  /**
   * The most bytes one array (or the file buffer) may take; default `RIESZ_MAX_BYTES` from the
   * environment, else {@link DEFAULT_MAX_BYTES}. `Infinity` removes the cap.
   */
  maxBytes?: number;
}

const UNITS: Record<string, number> = { '': 1, k: 2 ** 10, m: 2 ** 20, g: 2 ** 30, t: 2 ** 40 };

/**
 * Parses '4294967296', '4GiB', '512 MiB', '8g' into bytes (suffixes are binary: 4G = 4GB = 4 × 2^30);
 * null when it is not a byte count.
 */
export function parseByteCount(text: string): number | null {
  const m = /^\s*(\d+(?:\.\d+)?)\s*([kmgt]?)(?:i?b)?\s*$/i.exec(text);
  if (!m) return null;
  const v = Number(m[1]) * UNITS[m[2].toLowerCase()];
  return Number.isFinite(v) && v > 0 ? Math.floor(v) : null;
}

/**
 * The allocation cap in force: the option, else the environment variable, else the default.
 * @throws UsageError for a bad option or a bad `RIESZ_MAX_BYTES` value.
 */
export function maxBytesOf(options?: ReadOptions): number {
  const opt = options?.maxBytes;
  if (opt !== undefined) {
    if (!(opt > 0)) throw new UsageError(`maxBytes must be a positive number of bytes, got ${opt}`);
    return opt;
  }
  const env = process.env[MAX_BYTES_ENV];
  if (env === undefined || env === '') return DEFAULT_MAX_BYTES;
  const v = parseByteCount(env);
  if (v === null) {
    throw new UsageError(`${MAX_BYTES_ENV}='${env}' is not a byte count (write e.g. 4294967296 or 4GiB)`);
  }
  return v;
}

/** How to raise the allocation cap, for error messages. */
export const RAISE_MAX_BYTES = `raise it with the maxBytes option or the ${MAX_BYTES_ENV} environment variable`;

/** Refuses `bytes` (what `what` would take) when over `limit`, before anything is allocated. */
export function checkBytes(file: string, what: string, bytes: number, limit: number): void {
  if (!(bytes <= limit)) throw new SizeLimitError(file, what, bytes, limit, RAISE_MAX_BYTES);
}

/**
 * A zeroed Float64Array of `length`, after the limit check; an allocation the machine refuses
 * (a cap raised beyond its memory) becomes a ParseError too.
 */
export function allocFloat64(file: string, what: string, length: number, limit: number): Float64Array {
  checkBytes(file, what, length * 8, limit);
  try {
    return new Float64Array(length);
  } catch (e) {
    throw new ParseError(file, `cannot allocate ${length * 8} bytes for ${what} (${(e as Error).message})`);
  }
}

/** A token from the file, quoted for an error message: control bytes escaped, at most 40 chars. */
export function show(s: string, max = 40): string {
  const cut = s.length > max ? `${s.slice(0, max)}…` : s;
  // JSON escaping keeps terminal control sequences in hostile files from reaching the user's tty.
  return `'${JSON.stringify(cut).slice(1, -1)}'`;
}

/** A text line with its 1-based number. */
export interface Line {
  line: number;
  text: string;
  /** Offset just past this line (its newline included), in the source's units. */
  end: number;
}

/**
 * The lines of a text, from a string or from raw UTF-8 bytes (decoded one line at a time, so a big
 * file never becomes one giant string). `\r\n` and `\n` both end a line; a leading BOM is dropped.
 * @throws ParseError for a line longer than {@link MAX_LINE_BYTES}.
 */
export function* textLines(src: string | Uint8Array, file: string): Generator<Line> {
  const decoder = new TextDecoder();
  let pos = 0;
  let line = 0;
  const n = src.length;
  while (pos < n) {
    line++;
    let nl = typeof src === 'string' ? src.indexOf('\n', pos) : src.indexOf(10, pos);
    if (nl < 0) nl = n;
    if (nl - pos > MAX_LINE_BYTES)
      throw new ParseError(file, `line ${line} is longer than ${MAX_LINE_BYTES} bytes`);
    let text = typeof src === 'string' ? src.slice(pos, nl) : decoder.decode(src.subarray(pos, nl));
    if (text.endsWith('\r')) text = text.slice(0, -1);
    if (line === 1 && text.charCodeAt(0) === 0xfeff) text = text.slice(1);
    pos = nl + 1;
    yield { line, text, end: Math.min(pos, n) };
  }
}

/**
 * The first `max` whitespace-separated tokens of a line and whether more follow, without splitting
 * the whole line (a hostile line may hold millions of tokens).
 */
export function firstTokens(text: string, max: number): { tokens: string[]; more: boolean } {
  const re = /\S+/g;
  const tokens: string[] = [];
  for (let m = re.exec(text); m !== null; m = re.exec(text)) {
    if (tokens.length === max) return { tokens, more: true };
    tokens.push(m[0]);
  }
  return { tokens, more: false };
}
