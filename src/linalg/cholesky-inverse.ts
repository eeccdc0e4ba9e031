/**
 * The inverse of a real SPD matrix's Cholesky factor, L⁻¹ with A = LLᵀ, computed in WebAssembly
 * memory: the operand is copied in once, factorised and inverted in place by recursive algorithms
 * whose work is nearly all calls of the f64 GEMM kernel on pointers (no copies per product), and
 * copied out once. The blocked `cholesky` followed by `invertLower` computes the same thing but runs
 * most of its products on thin panels, each copied in and out of the kernel's memory: about a
 * quarter of the GEMM kernel's speed on K-FAC's factors (n up to 1001).
 *
 * It works on U = Lᵀ, upper triangular and row-major, because the f64 kernel offers op(A) = Aᵀ but
 * not op(B) = Bᵀ: every product below is then C ± op(A)·B.
 */
import { NotPositiveDefiniteError, ShapeError } from '../errors.js';
import { cholesky } from './cholesky.js';
import { assertFinite, type Matrix, shapeOf, zeros } from './matrix.js';
import { invertLower } from './triangular.js';
import { type WasmArena, wasmArena } from './wasm/runtime.js';

/** Diagonal blocks at most this large are factorised and inverted by scalar loops. */
const LEAF = 32;
/** Triangular solves recurse down to this many rows, then run row updates. */
const SOLVE_LEAF = 16;
/** Triangular products recurse down to blocks this large, then multiply them whole (zeros included). */
const PRODUCT_LEAF = 64;
/** Tile of the blocked transpose out (keeps both sides' rows in cache). */
const TILE = 32;
/** Below this size the TypeScript path is as fast (and needs no arena). */
const MIN_N = 64;

/**
 * L⁻¹ for the lower-triangular Cholesky factor L of a real symmetric positive definite A = LLᵀ:
 * the same matrix as `invertLower(cholesky(A))`, up to rounding, in about two thirds of its time
 * for n in the hundreds. Without the WebAssembly kernels (or for
 * n < 64) it is exactly `invertLower(cholesky(A))`. A must be symmetric: the fast path reads its upper
 * triangle and the fallback its lower one.
 *
 * Accuracy: that of the blocked Cholesky and triangular inverse (backward stable factorisation;
 * the inverse's relative error grows with cond(A)·ε).
 * @param name how to call A in an error message.
 * @throws NotPositiveDefiniteError naming `name`, the row where the factorisation broke and the
 * pivot; NonFiniteError for NaN/±Inf entries; ShapeError when A is not square or is complex.
 * @example inverseCholeskyFactor(matrix([[4, 2], [2, 5]])) // [[0.5, 0], [-0.25, 0.5]]
 */
export function inverseCholeskyFactor(A: Matrix, name = 'matrix'): Matrix {
  if (A.rows !== A.cols) throw new ShapeError(`inverseCholeskyFactor: ${name} is ${shapeOf(A)}, not square`);
  if (A.im) throw new ShapeError(`inverseCholeskyFactor: ${name} is complex; real matrices only`);
  assertFinite(A, name);
  const n = A.rows;
  const half = Math.ceil(n / 2);
  const arena = n >= MIN_N ? wasmArena((n * n + half * n + 16) * 8) : null;
  if (!arena) return invertLower(cholesky(A, name));
  return new ArenaInverse(arena, n, name).run(A);
}

/** Splits a size into two parts, the first a multiple of 8 where it can be (aligned rows). */
function split(s: number): number {
  const h = Math.floor(s / 16) * 8;
  return h > 0 ? h : Math.floor(s / 2);
}

class ArenaInverse {
  private readonly H: Float64Array;
  /** Offsets (in doubles) of U (n×n, row stride n) and of the scratch product. */
  private readonly u: number;
  private readonly t: number;

  constructor(
    private readonly arena: WasmArena,
    private readonly n: number,
    private readonly name: string,
  ) {
    this.H = arena.f64;
    this.u = arena.base / 8;
    this.t = this.u + n * n + 8;
  }

  run(A: Matrix): Matrix {
    const { H, n, u } = this;
    // U's upper triangle from A's lower one (A = UᵀU with U = Lᵀ); the rest starts at zero.
    // U's upper triangle is A's (A is symmetric: this is its lower one transposed), row by row.
    H.fill(0, u, u + n * n);
    for (let i = 0; i < n; i++) H.set(A.re.subarray(i * n + i, i * n + n), u + i * n + i);
    this.factor(u, n, 0);
    // The symmetric updates also wrote below the diagonal: clear it, the inverse's products read it.
    for (let i = 1; i < n; i++) H.fill(0, u + i * n, u + i * n + i);
    this.invert(u, n);
    const X = zeros(n, n);
    for (let i0 = 0; i0 < n; i0 += TILE) {
      for (let j0 = 0; j0 <= i0; j0 += TILE) {
        const i1 = Math.min(n, i0 + TILE);
        const j1 = Math.min(n, j0 + TILE);
        for (let i = i0; i < i1; i++)
          for (let j = j0; j < Math.min(j1, i + 1); j++) X.re[i * n + j] = H[u + j * n + i];
      }
    }
    return X;
  }

  /** C ← C + α·op(A)·B, on offsets in doubles, every matrix with row stride n. */
  private gemm(
    m: number,
    cols: number,
    k: number,
    a: number,
    b: number,
    c: number,
    alpha: number,
    transA: boolean,
  ) {
    const n = this.n;
    this.arena.gemm(m, cols, k, a * 8, n, b * 8, n, c * 8, n, alpha, transA);
  }

  /** The upper Cholesky factor of the s×s block at o, in place (its upper triangle). */
  private factor(o: number, s: number, row0: number): void {
    if (s <= LEAF) {
      this.factorLeaf(o, s, row0);
      return;
    }
    const n = this.n;
    const s1 = split(s);
    const s2 = s - s1;
    this.factor(o, s1, row0);
    // U₁₂ = U₁₁⁻ᵀ A₁₂, then A₂₂ −= U₁₂ᵀU₁₂ (its upper triangle), then U₂₂.
    this.solveUpperT(o, s1, o + s1, s2);
    this.symmetricUpdate(o + s1, s1, o + s1 * n + s1, s2);
    this.factor(o + s1 * n + s1, s2, row0 + s1);
  }

  private factorLeaf(o: number, s: number, row0: number): void {
    const { H, n } = this;
    for (let j = 0; j < s; j++) {
      let d = H[o + j * n + j];
      for (let p = 0; p < j; p++) d -= H[o + p * n + j] * H[o + p * n + j];
      if (!(d > 0)) throw new NotPositiveDefiniteError(this.name, row0 + j, d);
      const ujj = Math.sqrt(d);
      H[o + j * n + j] = ujj;
      for (let i = j + 1; i < s; i++) {
        let t = H[o + j * n + i];
        for (let p = 0; p < j; p++) t -= H[o + p * n + j] * H[o + p * n + i];
        H[o + j * n + i] = t / ujj;
      }
    }
  }

  /** B ← U⁻ᵀB for the s×s upper triangle U at o and the s×cols block B at b. */
  private solveUpperT(o: number, s: number, b: number, cols: number): void {
    const { H, n } = this;
    if (s <= SOLVE_LEAF) {
      for (let i = 0; i < s; i++) {
        const ri = b + i * n;
        for (let p = 0; p < i; p++) {
          const a = H[o + p * n + i];
          if (a === 0) continue;
          const rp = b + p * n;
          for (let j = 0; j < cols; j++) H[ri + j] -= a * H[rp + j];
        }
        const d = H[o + i * n + i];
        for (let j = 0; j < cols; j++) H[ri + j] /= d;
      }
      return;
    }
    const h = split(s);
    this.solveUpperT(o, h, b, cols);
    // B₂ −= U₁₂ᵀ X₁
    this.gemm(s - h, cols, h, o + h, b, b + h * n, -1, true);
    this.solveUpperT(o + h * n + h, s - h, b + h * n, cols);
  }

  /** C −= XᵀX on C's upper triangle (and some of its lower one), X k×s at x, C s×s at c. */
  private symmetricUpdate(x: number, k: number, c: number, s: number): void {
    if (s <= 128) {
      this.gemm(s, s, k, x, x, c, -1, true);
      return;
    }
    const n = this.n;
    const h = split(s);
    this.symmetricUpdate(x, k, c, h);
    this.gemm(h, s - h, k, x, x + h, c + h, -1, true);
    this.symmetricUpdate(x + h, k, c + h * n + h, s - h);
  }

  /** The s×s upper triangle at o (zero below it) replaced by its inverse. */
  private invert(o: number, s: number): void {
    if (s <= LEAF) {
      this.invertLeaf(o, s);
      return;
    }
    const { H, n, t } = this;
    const s1 = split(s);
    const s2 = s - s1;
    const o12 = o + s1;
    // V₁₁ and V₂₂ first (they reuse the scratch), then T = U₁₂ V₂₂ into it and V₁₂ = −V₁₁ T.
    this.invert(o, s1);
    this.invert(o + s1 * n + s1, s2);
    for (let i = 0; i < s1; i++) H.fill(0, t + i * n, t + i * n + s2);
    this.timesUpper(o12, s1, o + s1 * n + s1, s2, t);
    for (let i = 0; i < s1; i++) H.fill(0, o12 + i * n, o12 + i * n + s2);
    this.upperTimes(o, s1, t, s2, o12, -1);
  }

  /** C += A·V for the rows×s block A at a and the s×s upper triangle V at v (zero below it). */
  private timesUpper(a: number, rows: number, v: number, s: number, c: number): void {
    if (s <= PRODUCT_LEAF) {
      this.gemm(rows, s, s, a, v, c, 1, false);
      return;
    }
    const n = this.n;
    const h = split(s);
    // C₁ += A₁V₁₁; C₂ += A₁V₁₂ + A₂V₂₂
    this.timesUpper(a, rows, v, h, c);
    this.gemm(rows, s - h, h, a, v + h, c + h, 1, false);
    this.timesUpper(a + h, rows, v + h * n + h, s - h, c + h);
  }

  /** C += α·V·B for the s×s upper triangle V at v (zero below it) and the s×cols block B at b. */
  private upperTimes(v: number, s: number, b: number, cols: number, c: number, alpha: number): void {
    if (s <= PRODUCT_LEAF) {
      this.gemm(s, cols, s, v, b, c, alpha, false);
      return;
    }
    const n = this.n;
    const h = split(s);
    // C₁ += α(V₁₁B₁ + V₁₂B₂); C₂ += αV₂₂B₂
    this.upperTimes(v, h, b, cols, c, alpha);
    this.gemm(h, cols, s - h, v + h, b + h * n, c, alpha, false);
    this.upperTimes(v + h * n + h, s - h, b + h * n, cols, c + h * n, alpha);
  }

  /** Column by column from the right, each bottom up: an entry is overwritten after its last use. */
  private invertLeaf(o: number, s: number): void {
    const { H, n } = this;
    for (let j = s - 1; j >= 0; j--) {
      H[o + j * n + j] = 1 / H[o + j * n + j];
      for (let i = j - 1; i >= 0; i--) {
        let sum = 0;
        for (let p = i + 1; p <= j; p++) sum += H[o + i * n + p] * H[o + p * n + j];
        H[o + i * n + j] = -sum / H[o + i * n + i];
      }
    }
  }
}
