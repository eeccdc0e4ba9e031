/**
 * Matrix Market `.mtx` files: `array` and `coordinate` formats; fields real, double, integer,
 * complex and pattern; symmetries general, symmetric, skew-symmetric and hermitian.
 */
import { ParseError } from '../errors.js';
import { type Matrix, zeros } from '../linalg/matrix.js';

type Symmetry = 'general' | 'symmetric' | 'skew-symmetric' | 'hermitian';

/**
 * Parses the text of a Matrix Market file into a dense matrix.
 * @throws ParseError naming the file, the line and what was expected.
 */
export function parseMatrixMarket(text: string, file = '<mtx>'): Matrix {
  const lines = text.split(/\r?\n/);
  const banner = lines[0]?.trim().toLowerCase().split(/\s+/) ?? [];
  if (banner[0] !== '%%matrixmarket' || banner[1] !== 'matrix') {
    throw new ParseError(
      file,
      "line 1: expected the banner '%%MatrixMarket matrix <format> <field> <symmetry>'",
    );
  }
  const [format, field, symmetry] = [banner[2], banner[3], banner[4]] as [string, string, Symmetry];
  if (format !== 'array' && format !== 'coordinate') {
    throw new ParseError(file, `line 1: format '${format}' (expected array or coordinate)`);
  }
  if (!['real', 'double', 'integer', 'complex', 'pattern'].includes(field)) {
    throw new ParseError(
      file,
      `line 1: field '${field}' (expected real, double, integer, complex or pattern)`,
    );
  }
  if (!['general', 'symmetric', 'skew-symmetric', 'hermitian'].includes(symmetry)) {
    throw new ParseError(
      file,
      `line 1: symmetry '${symmetry}' (expected general, symmetric, skew-symmetric or hermitian)`,
    );
  }
  if (format === 'array' && field === 'pattern')
    throw new ParseError(file, 'line 1: pattern field needs coordinate format');
  const complex = field === 'complex';
  // Data lines with their 1-based line numbers, skipping comments and blanks.
  const data: [number, string[]][] = [];
  for (let i = 1; i < lines.length; i++) {
    const t = lines[i].trim();
    if (t === '' || t.startsWith('%')) continue;
    data.push([i + 1, t.split(/\s+/)]);
  }
  if (data.length === 0) throw new ParseError(file, 'missing the size line');
  const [sizeLine, sizeTokens] = data[0];
  const sizes = sizeTokens.map(Number);
  const expectSizes = format === 'array' ? 2 : 3;
  if (sizes.length !== expectSizes || sizes.some((v) => !Number.isInteger(v) || v < 0)) {
    throw new ParseError(
      file,
      `line ${sizeLine}: expected ${expectSizes} non-negative integers (${format === 'array' ? 'rows cols' : 'rows cols entries'})`,
    );
  }
  const [m, n] = sizes;
  if (symmetry !== 'general' && m !== n)
    throw new ParseError(file, `line ${sizeLine}: a ${symmetry} matrix must be square, got ${m}×${n}`);
  const A = zeros(m, n, complex);
  const valuesPerEntry = field === 'pattern' ? 0 : complex ? 2 : 1;
  const num = (tok: string | undefined, line: number, what: string) => {
    const v = Number(tok);
    if (tok === undefined || tok === '' || Number.isNaN(v))
      throw new ParseError(file, `line ${line}: expected a number for ${what}, got '${tok ?? ''}'`);
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
  const entries = data.slice(1);
  if (format === 'array') {
    // Column-major; symmetric kinds list the lower triangle only (skew: strictly lower).
    const positions: [number, number][] = [];
    for (let j = 0; j < n; j++) {
      const start = symmetry === 'general' ? 0 : symmetry === 'skew-symmetric' ? j + 1 : j;
      for (let i = start; i < m; i++) positions.push([i, j]);
    }
    if (entries.length < positions.length) {
      throw new ParseError(
        file,
        `truncated: expected ${positions.length} values for a ${m}×${n} ${symmetry} array, found ${entries.length}`,
      );
    }
    positions.forEach(([i, j], k) => {
      const [line, toks] = entries[k];
      set(
        i,
        j,
        num(toks[0], line, `entry (${i + 1}, ${j + 1})`),
        complex ? num(toks[1], line, 'the imaginary part') : 0,
      );
    });
    return A;
  }
  const nnz = sizes[2];
  if (entries.length < nnz)
    throw new ParseError(file, `truncated: the size line announces ${nnz} entries, found ${entries.length}`);
  for (let k = 0; k < nnz; k++) {
    const [line, toks] = entries[k];
    if (toks.length < 2 + valuesPerEntry) {
      throw new ParseError(
        file,
        `line ${line}: expected 'row col${valuesPerEntry === 2 ? ' re im' : valuesPerEntry ? ' value' : ''}'`,
      );
    }
    const i = num(toks[0], line, 'the row index') - 1;
    const j = num(toks[1], line, 'the column index') - 1;
    if (!Number.isInteger(i) || !Number.isInteger(j) || i < 0 || j < 0 || i >= m || j >= n) {
      throw new ParseError(file, `line ${line}: index (${toks[0]}, ${toks[1]}) outside the ${m}×${n} matrix`);
    }
    const re = valuesPerEntry === 0 ? 1 : num(toks[2], line, 'the value');
    const im = complex ? num(toks[3], line, 'the imaginary part') : 0;
    set(i, j, re, im);
  }
  return A;
}
