/**
 * Matrix Market `.mtx` files: `array` and `coordinate` formats; fields real, double, integer,
 * complex and pattern; symmetries general, symmetric, skew-symmetric and hermitian. The size line is
 * checked (plain non-negative integers, dimensions up to 2^31 − 1, the dense result within the
 * allocation limit, enough bytes left for the values it announces) before anything is allocated, and
 * the file is read one line at a time.
 */
import { ParseError } from '../errors.js';
import type { Matrix } from '../linalg/matrix.js';
import {
  allocFloat64,
  checkBytes,
  firstTokens,
  type Line,
  MAX_DIM,
  maxBytesOf,
  type ReadOptions,
  show,
  textLines,
} from './limits.js';

type Symmetry = 'general' | 'symmetric' | 'skew-symmetric' | 'hermitian';

/**
 * Parses a Matrix Market file (its text, or its raw UTF-8 bytes) into a dense matrix.
 * @throws ParseError naming the file, the line and what was expected; SizeLimitError when the dense
 * matrix would exceed `maxBytes`.
 */
export function parseMatrixMarket(src: string | Uint8Array, file = '<mtx>', options?: ReadOptions): Matrix {
  const limit = maxBytesOf(options);
  const lines = textLines(src, file);
  const first = lines.next();
  const banner = first.done ? [] : firstTokens(first.value.text.trim().toLowerCase(), 5).tokens;
  if (banner[0] !== '%%matrixmarket' || banner[1] !== 'matrix') {
    throw new ParseError(
      file,
      "line 1: expected the banner '%%MatrixMarket matrix <format> <field> <symmetry>'",
    );
  }
  const [format, field, symmetry] = [banner[2], banner[3], banner[4]] as [string, string, Symmetry];
  if (format !== 'array' && format !== 'coordinate') {
    throw new ParseError(file, `line 1: format ${show(format ?? '')} (expected array or coordinate)`);
  }
  if (!['real', 'double', 'integer', 'complex', 'pattern'].includes(field)) {
    throw new ParseError(
      file,
      `line 1: field ${show(field ?? '')} (expected real, double, integer, complex or pattern)`,
    );
  }
  if (!['general', 'symmetric', 'skew-symmetric', 'hermitian'].includes(symmetry)) {
    throw new ParseError(
      file,
      `line 1: symmetry ${show(symmetry ?? '')} (expected general, symmetric, skew-symmetric or hermitian)`,
    );
  }
  if (format === 'array' && field === 'pattern')
    throw new ParseError(file, 'line 1: pattern field needs coordinate format');
  const complex = field === 'complex';
  // Data lines, skipping comments and blanks.
  const next = (): Line | undefined => {
    for (let r = lines.next(); !r.done; r = lines.next()) {
      const t = r.value.text.trim();
      if (t !== '' && !t.startsWith('%')) return { ...r.value, text: t };
    }
    return undefined;
  };
  const size = next();
  if (!size) throw new ParseError(file, 'missing the size line');
  const expectSizes = format === 'array' ? 2 : 3;
  const { tokens, more } = firstTokens(size.text, expectSizes);
  if (more || tokens.length !== expectSizes || tokens.some((t) => !/^\d+$/.test(t))) {
    throw new ParseError(
      file,
      `line ${size.line}: expected ${expectSizes} non-negative integers (${format === 'array' ? 'rows cols' : 'rows cols entries'}), got ${show(size.text)}`,
    );
  }
  const sizes = tokens.map(Number);
  const [m, n] = sizes;
  if (m > MAX_DIM || n > MAX_DIM)
    throw new ParseError(file, `line ${size.line}: size ${m}×${n} is over the largest dimension, ${MAX_DIM}`);
  if (symmetry !== 'general' && m !== n)
    throw new ParseError(file, `line ${size.line}: a ${symmetry} matrix must be square, got ${m}×${n}`);
  // The values the size line announces each need a line of at least 2 bytes (array) or 4 bytes
  // (coordinate: 'i j'); a count the rest of the file cannot hold is truncation, found before the
  // dense result is allocated.
  const valuesNeeded =
    format === 'array'
      ? symmetry === 'general'
        ? m * n
        : symmetry === 'skew-symmetric'
          ? (n * (n - 1)) / 2
          : (n * (n + 1)) / 2
      : sizes[2];
  const rest = src.length - size.end;
  const minBytes = format === 'array' ? 2 : 4;
  if (valuesNeeded > 0 && valuesNeeded * minBytes - 1 > rest) {
    throw new ParseError(
      file,
      `truncated: the size line (line ${size.line}) announces ${valuesNeeded} ${format === 'array' ? 'values' : 'entries'}, ` +
        `but only ${rest} bytes follow it`,
    );
  }
  const what = `a dense ${m}×${n} ${complex ? 'complex' : 'real'} matrix (size line ${size.line})`;
  checkBytes(file, what, m * n * 8 * (complex ? 2 : 1), limit);
  const A: Matrix = {
    rows: m,
    cols: n,
    re: allocFloat64(file, what, m * n, limit),
    im: complex ? allocFloat64(file, what, m * n, limit) : null,
  };
  const valuesPerEntry = field === 'pattern' ? 0 : complex ? 2 : 1;
  const num = (tok: string | undefined, line: number, what: string) => {
    const v = Number(tok);
    if (tok === undefined || tok === '' || Number.isNaN(v))
      throw new ParseError(file, `line ${line}: expected a number for ${what}, got ${show(tok ?? '')}`);
    return v;
  };
  const set = (i: number, j: number, re: number, im: number) => {
    A.re[i * n + j] = re;
    if (A.im) A.im[i * n + j] = im;
    if (i !== j && symmetry !== 'general') {
      const s = symmetry === 'skew-symmetric' ? -1 : 1;
      A.re[j * n + i] = s * re;
      if (A.im) A.im[j * n + i] = symmetry === 'hermitian' ? -im : s * im;
    }
  };
  let found = 0;
  if (format === 'array') {
    // Column-major; symmetric kinds list the lower triangle only (skew: strictly lower).
    for (let j = 0; j < n; j++) {
      const start = symmetry === 'general' ? 0 : symmetry === 'skew-symmetric' ? j + 1 : j;
      for (let i = start; i < m; i++) {
        const entry = next();
        if (!entry) {
          throw new ParseError(
            file,
            `truncated: expected ${valuesNeeded} values for a ${m}×${n} ${symmetry} array, found ${found}`,
          );
        }
        found++;
        const toks = firstTokens(entry.text, 2).tokens;
        set(
          i,
          j,
          num(toks[0], entry.line, `entry (${i + 1}, ${j + 1})`),
          complex ? num(toks[1], entry.line, 'the imaginary part') : 0,
        );
      }
    }
    return A;
  }
  const nnz = sizes[2];
  for (let k = 0; k < nnz; k++) {
    const entry = next();
    if (!entry)
      throw new ParseError(file, `truncated: the size line announces ${nnz} entries, found ${found}`);
    found++;
    const { line } = entry;
    const toks = firstTokens(entry.text, 4).tokens;
    if (toks.length < 2 + valuesPerEntry) {
      throw new ParseError(
        file,
        `line ${line}: expected 'row col${valuesPerEntry === 2 ? ' re im' : valuesPerEntry ? ' value' : ''}'`,
      );
    }
    const i = num(toks[0], line, 'the row index') - 1;
    const j = num(toks[1], line, 'the column index') - 1;
    if (!Number.isInteger(i) || !Number.isInteger(j) || i < 0 || j < 0 || i >= m || j >= n) {
      throw new ParseError(file, `line ${line}: index (${i + 1}, ${j + 1}) outside the ${m}×${n} matrix`);
    }
    const re = valuesPerEntry === 0 ? 1 : num(toks[2], line, 'the value');
    const im = complex ? num(toks[3], line, 'the imaginary part') : 0;
    set(i, j, re, im);
  }
  return A;
}
