/**
 * Typed errors of riesz. Every error says *what* went wrong and *where* (which matrix, which entry,
 * which file, which option), so a command-line user gets a one-line message and a library user can
 * branch on `code`.
 */
export class RieszError extends Error {
  /** A stable, machine-readable identifier of the failure kind. */
  readonly code: string;
  constructor(code: string, message: string) {
    super(message);
    this.code = code;
    this.name = new.target.name;
  }
}

/** Two operands whose shapes do not fit together; the message names both shapes. */
export class ShapeError extends RieszError {
  constructor(message: string) {
    super('shape', message);
  }
}

/**
 * A Gram matrix (or any matrix that must be Hermitian positive definite) is not: the Cholesky
 * factorisation broke at `index` (0-based), where the pivot was `pivot`.
 */
export class NotPositiveDefiniteError extends RieszError {
  readonly matrix: string;
  readonly index: number;
  readonly pivot: number;
  constructor(matrix: string, index: number, pivot: number, detail = '') {
    super(
      'not-hpd',
      `${matrix} is not Hermitian positive definite: Cholesky broke at row/column ${index} ` +
        `(pivot ${formatNumber(pivot)})${detail ? `; ${detail}` : ''}`,
    );
    this.matrix = matrix;
    this.index = index;
    this.pivot = pivot;
  }
}

/** A NaN or ±Inf entry where finite numbers are required; the message gives its position. */
export class NonFiniteError extends RieszError {
  readonly matrix: string;
  readonly row: number;
  readonly col: number;
  constructor(matrix: string, row: number, col: number, value: number) {
    super('non-finite', `${matrix} has a non-finite entry ${value} at row ${row}, column ${col} (0-based)`);
    this.matrix = matrix;
    this.row = row;
    this.col = col;
  }
}

/** A file that cannot be read as the format it claims to be; the message names the file. */
export class ParseError extends RieszError {
  readonly file: string;
  constructor(file: string, message: string) {
    super('parse', `${file}: ${message}`);
    this.file = file;
  }
}

/**
 * A file whose header asks for more memory than riesz allocates for one array; the message gives
 * the size asked for, the limit in force and how to raise it. A ParseError, so `code` is 'parse'.
 */
export class SizeLimitError extends ParseError {
  /** Bytes the file asks for (Infinity when the size overflows). */
  readonly bytes: number;
  /** The limit in force, in bytes. */
  readonly limit: number;
  constructor(file: string, what: string, bytes: number, limit: number, howToRaise: string) {
    super(
      file,
      `${what} needs ${formatBytes(bytes)}, over riesz's limit of ${formatBytes(limit)} per array; ${howToRaise}`,
    );
    this.bytes = bytes;
    this.limit = limit;
  }
}

/** '320000000000 bytes (298 GiB)'; 'more than 2^53 bytes' for sizes past exact integers. */
export function formatBytes(n: number): string {
  if (!Number.isSafeInteger(n)) return 'more than 2^53 bytes';
  const units = ['KiB', 'MiB', 'GiB', 'TiB', 'PiB'];
  let v = n;
  let u = -1;
  while (v >= 1024 && u < units.length - 1) {
    v /= 1024;
    u++;
  }
  return u < 0 ? `${n} bytes` : `${n} bytes (${Number(v.toPrecision(3))} ${units[u]})`;
}

/** An iteration that did not converge within its budget. */
export class ConvergenceError extends RieszError {
  constructor(message: string) {
    super('no-convergence', message);
  }
}

/** A bad argument or option (wrong value, unknown option, missing operand). */
export class UsageError extends RieszError {
  constructor(message: string) {
    super('usage', message);
  }
}

/** Shortest faithful rendering of a number for error messages. */
export function formatNumber(x: number): string {
  return Number.isInteger(x) ? String(x) : x.toPrecision(6);
}

/** A matrix that must be Hermitian (symmetric) is not; the message gives the worst entry pair. */
export class NotHermitianError extends RieszError {
  readonly matrix: string;
  constructor(matrix: string, row: number, col: number, defect: number) {
    super(
      'not-hermitian',
      `${matrix} is not Hermitian: entries (${row}, ${col}) and (${col}, ${row}) differ by ${formatNumber(defect)} ` +
        '(a Gram matrix must equal its conjugate transpose)',
    );
    this.matrix = matrix;
  }
}

/**
 * A numerical failure: an optimizer's NaN/Inf statistic or diverging iteration (naming the layer), or
 * a computation whose inputs passed validation that met a non-finite or meaningless intermediate (a
 * matrix-free operator that returned NaN, a zero pivot of a triangular factor); the message says
 * which routine, which argument and where.
 */
export class NumericalError extends RieszError {
  constructor(message: string) {
    super('numerical', message);
  }
}
