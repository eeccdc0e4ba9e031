/**
 * Plain-text matrices: one row per line, entries separated by commas (or whitespace / semicolons);
 * blank lines and lines starting with '#' are skipped. Entries are real numbers or complex numbers
 * written like NumPy prints them: `1+2j`, `-0.5-1e-3j`, `3j` (an `i` suffix is accepted too).
 */
import { ParseError } from '../errors.js';
import type { Matrix } from '../linalg/matrix.js';
import { checkBytes, maxBytesOf, type ReadOptions, show, textLines } from './limits.js';

/** Parses '2.5', '1+2j', '-3.5e-2-1j', '2j', '(1-1j)'; null when the token is not a number. */
function parseEntry(tok: string): { re: number; im: number } | null {
  const t = tok.replace(/^\((.*)\)$/, '$1');
  const number = (s: string) => (s === '' || s === '+' ? 1 : s === '-' ? -1 : Number(s));
  const valid = (v: number, s: string) => !Number.isNaN(v) || /^[+-]?nan$/i.test(s);
  if (!/[ij]$/i.test(t)) {
    const v = Number(t);
    return t !== '' && valid(v, t) ? { re: v, im: 0 } : null;
  }
  const body = t.slice(0, -1);
  // The sign that separates the real from the imaginary part: the last + or − not at the start and
  // not part of an exponent.
  let k = -1;
  for (let p = body.length - 1; p > 0; p--) {
    if ((body[p] === '+' || body[p] === '-') && !/[eE]/.test(body[p - 1])) {
      k = p;
      break;
    }
  }
  const reText = k < 0 ? '0' : body.slice(0, k);
  const imText = k < 0 ? body : body.slice(k);
  const re = Number(reText);
  const im = number(imText);
  if (!valid(re, reText) || !valid(im, imText) || reText === '') return null;
  return { re, im };
}

/** Growable f64 storage for the entries, within the allocation limit. */
class Entries {
  re = new Float64Array(16);
  im: Float64Array | null = null;
  length = 0;
  constructor(
    private readonly file: string,
    private readonly limit: number,
  ) {}
  push(v: { re: number; im: number }, where: string): void {
    const complex = this.im !== null || v.im !== 0;
    const need = (this.length + 1) * (complex ? 16 : 8);
    if (need > this.limit)
      checkBytes(
        this.file,
        `${this.length + 1} ${complex ? 'complex ' : ''}entries (${where})`,
        need,
        this.limit,
      );
    if (this.length === this.re.length) this.grow(complex ? 16 : 8);
    if (complex && !this.im) this.im = new Float64Array(this.re.length);
    this.re[this.length] = v.re;
    if (this.im) this.im[this.length] = v.im;
    this.length++;
  }
  private grow(perEntry: number): void {
    // Double, but never past the limit, so the cap bounds the memory actually taken.
    const cap = Math.max(this.length + 1, Math.min(this.re.length * 2, Math.floor(this.limit / perEntry)));
    const re = new Float64Array(cap);
    re.set(this.re);
    this.re = re;
    if (this.im) {
      const im = new Float64Array(cap);
      im.set(this.im);
      this.im = im;
    }
  }
}

/** The separator between entries: a comma, semicolon or whitespace, with any spaces around it. */
const SEPARATOR = /\s*[,;\s]\s*/g;

/** Calls `f` on each entry of a trimmed line, in order, without splitting the line into an array. */
function eachToken(t: string, f: (tok: string, col: number) => void): number {
  let pos = 0;
  let col = 0;
  for (;;) {
    SEPARATOR.lastIndex = pos;
    const m = SEPARATOR.exec(t);
    f(m ? t.slice(pos, m.index) : t.slice(pos), col++);
    if (!m) return col;
    pos = m.index + m[0].length;
  }
}

/**
 * Parses a plain-text matrix (its text, or its raw UTF-8 bytes). One header line of names is
 * allowed before the first data row; after it every entry must be a number.
 * @throws ParseError naming the file, the line, the data row and the column of a bad entry, or a
 * ragged row; SizeLimitError when the entries would exceed `maxBytes`.
 */
export function parseCsv(src: string | Uint8Array, file = '<csv>', options?: ReadOptions): Matrix {
  const limit = maxBytesOf(options);
  const entries = new Entries(file, limit);
  let rows = 0;
  let cols = 0;
  let firstLine = 0;
  let headerAllowed = true;
  for (const { line, text } of textLines(src, file)) {
    const t = text.trim();
    if (t === '' || t.startsWith('#')) continue;
    if (headerAllowed) {
      headerAllowed = false;
      let names = true;
      eachToken(t, (tok) => {
        names &&= parseEntry(tok) === null;
      });
      if (names) continue;
    }
    const where = `line ${line}`;
    const n = eachToken(t, (tok, col) => {
      const v = parseEntry(tok);
      if (!v) {
        throw new ParseError(
          file,
          `line ${line}, column ${col + 1}: ${show(tok)} is not a number (data row ${rows + 1})`,
        );
      }
      entries.push(v, where);
    });
    if (rows > 0 && n !== cols)
      throw new ParseError(file, `line ${line}: ${n} entries, but line ${firstLine} has ${cols}`);
    if (rows === 0) {
      firstLine = line;
      cols = n;
    }
    rows++;
  }
  if (rows === 0) throw new ParseError(file, 'no numeric rows found');
  const size = rows * cols;
  // Trim to the exact size (copies at most once more, within the same limit).
  return {
    rows,
    cols,
    re: entries.re.length === size ? entries.re : entries.re.slice(0, size),
    im: entries.im ? (entries.im.length === size ? entries.im : entries.im.slice(0, size)) : null,
  };
}
