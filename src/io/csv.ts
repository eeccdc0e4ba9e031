/**
 * Plain-text matrices: one row per line, entries separated by commas (or whitespace / semicolons);
 * blank lines and lines starting with '#' are skipped. Entries are real numbers or complex numbers
 * written like NumPy prints them: `1+2j`, `-0.5-1e-3j`, `3j` (an `i` suffix is accepted too).
 */
import { ParseError } from '../errors.js';
import { type Matrix, zeros } from '../linalg/matrix.js';

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

/**
 * @throws ParseError naming the file, the line and the column of a bad entry, or a ragged row.
 */
export function parseCsv(text: string, file = '<csv>'): Matrix {
  const rows: { re: number; im: number }[][] = [];
  const lines = text.split(/\r?\n/);
  let complex = false;
  let firstLine = 0;
  lines.forEach((raw, idx) => {
    const t = raw.trim();
    if (t === '' || t.startsWith('#')) return;
    const toks = t.split(/\s*[,;\s]\s*/);
    const parsed = toks.map(parseEntry);
    // A header line of names is allowed before the first data row.
    if (rows.length === 0 && parsed.every((v) => v === null)) return;
    const row = parsed.map((v, col) => {
      if (!v)
        throw new ParseError(file, `line ${idx + 1}, column ${col + 1}: '${toks[col]}' is not a number`);
      if (v.im !== 0) complex = true;
      return v;
    });
    if (rows.length > 0 && row.length !== rows[0].length) {
      throw new ParseError(
        file,
        `line ${idx + 1}: ${row.length} entries, but line ${firstLine} has ${rows[0].length}`,
      );
    }
    if (rows.length === 0) firstLine = idx + 1;
    rows.push(row);
  });
  if (rows.length === 0) throw new ParseError(file, 'no numeric rows found');
  const m = rows.length;
  const n = rows[0].length;
  const A = zeros(m, n, complex);
  rows.forEach((row, i) => {
    row.forEach((v, j) => {
      A.re[i * n + j] = v.re;
      if (A.im) A.im[i * n + j] = v.im;
    });
  });
  return A;
}
