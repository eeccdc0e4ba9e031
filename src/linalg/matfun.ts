/**
 * Matrix functions: of Hermitian matrices through their eigendecomposition (exact, for small or rare
 * uses), and the matmul-only iterations training uses (Newton–Schulz polar factor, coupled Newton
 * inverse p-th root). See MATH.md §8. The Newton–Schulz iteration and its schedules are defined here
 * once, generically over the matrix operations; optim/matrix-functions.ts runs it on jax-js arrays.
 */
import { ConvergenceError, ShapeError, UsageError } from '../errors.js';
import { cholesky } from './cholesky.js';
import { eigh } from './eigh.js';
import { matmul } from './gemm.js';
import {
  assertFinite,
  axpby,
  conjTranspose,
  frobeniusNorm,
  identity,
  type Matrix,
  rangeScale,
  scale,
  shapeOf,
  zeros,
} from './matrix.js';
import { svd } from './svd.js';

/**
 * f(A) = Z diag(f(λ)) Zᴴ for Hermitian A.
 * @example hermitianFunction(matrix([[4, 0], [0, 9]]), Math.sqrt) // diag(2, 3)
 */
export function hermitianFunction(A: Matrix, f: (lambda: number) => number): Matrix {
  if (A.rows !== A.cols) throw new ShapeError(`hermitianFunction: matrix is ${shapeOf(A)}, not square`);
  const { values, vectors } = eigh(A);
  const Z = vectors!;
  const n = A.rows;
  const ZF = zeros(n, n, Z.im !== null);
  for (let i = 0; i < n; i++) {
    for (let j = 0; j < n; j++) {
      const fj = f(values[j]);
      ZF.re[i * n + j] = Z.re[i * n + j] * fj;
      if (ZF.im) ZF.im[i * n + j] = Z.im![i * n + j] * fj;
    }
  }
  return matmul(ZF, conjTranspose(Z));
}

/**
 * The polar factor U Qᴴ of G = U Σ Qᴴ (thin SVD), exact. For full-rank G it is the unique
 * maximiser of Re tr(Gᴴ D) over ‖D‖_op ≤ 1 (MATH.md §8).
 * @example polar(matrix([[3, 4]])) // [[0.6, 0.8]]
 */
export function polar(G: Matrix): Matrix {
  const { U, V } = svd(G);
  return matmul(U, conjTranspose(V));
}

/** Coefficients (a, b, c) of one step X ← aX + b(XXᴴ)X + c(XXᴴ)²X. */
export type NewtonSchulzCoefficients = readonly [number, number, number];
/** Converges to the polar factor itself (singular values → 1), slowly from small ones. */
export const NEWTON_SCHULZ_CUBIC: NewtonSchulzCoefficients = [1.5, -0.5, 0];
/**
 * Keller Jordan's fixed quintic for Muon: a steep slope at 0 makes it fast, but p(1) = 0.70, so 1
 * is not a fixed point — singular values settle in about [0.68, 1.14] and stay there at any step
 * count (newton-schulz.test.ts).
 */
export const NEWTON_SCHULZ_MUON: NewtonSchulzCoefficients = [3.4445, -4.775, 2.0315];

/**
 * A Newton–Schulz schedule, as data: X₀ = G / (‖G‖_F·`normScale` + `eps`), then step k applies
 * `coefficients[k]`, and any steps past the list apply `tail`.
 */
export interface NewtonSchulzSchedule {
  readonly coefficients: readonly NewtonSchulzCoefficients[];
  readonly tail: NewtonSchulzCoefficients;
  readonly normScale: number;
  readonly eps: number;
}

/**
 * Polar Express (Amsel, Persson, Musco & Gower, arXiv 2505.16932), as in today's GPT speed-runs:
 * five minimax-optimal quintics, each for the singular-value interval the previous one leaves, from
 * X₀ = G/(1.02‖G‖_F + ε) (the 1.02 keeps rounding from pushing σ past 1, where step 1 blows up).
 * Past five steps it continues with the cubic, which converges to the polar factor from there.
 */
export const POLAR_EXPRESS: NewtonSchulzSchedule = {
  coefficients: [
    [8.156554524902461, -22.48329292557795, 15.878769915207462],
    [4.042929935166739, -2.808917465908714, 0.5000178451051316],
    [3.8916678022926607, -2.772484153217685, 0.5060648178503393],
    [3.285753657755655, -2.3681294933425376, 0.46449024233003106],
    [2.3465413258596377, -1.7097828382687081, 0.42323551169305323],
  ],
  tail: NEWTON_SCHULZ_CUBIC,
  normScale: 1.02,
  eps: 1e-7,
};

/** The same (a, b, c) at every step from X₀ = G/(‖G‖_F + ε); five steps unless asked otherwise. */
export function fixedSchedule(coefficients: NewtonSchulzCoefficients, steps = 5): NewtonSchulzSchedule {
  return { coefficients: Array(steps).fill(coefficients), tail: coefficients, normScale: 1, eps: 1e-7 };
}

/** Muon's original schedule: the fixed quintic, five steps. Kept as an option (fast, not convergent). */
export const QUINTIC_MUON: NewtonSchulzSchedule = fixedSchedule(NEWTON_SCHULZ_MUON);
/** The cubic Newton–Schulz iteration (30 steps): a convergent reference, slow from small σ. */
export const CUBIC_NEWTON_SCHULZ: NewtonSchulzSchedule = fixedSchedule(NEWTON_SCHULZ_CUBIC, 30);

/** The schedules by name, for options such as `muon(lr, { polar: 'quintic' })`. */
export const NEWTON_SCHULZ_SCHEDULES = {
  'polar-express': POLAR_EXPRESS,
  quintic: QUINTIC_MUON,
  cubic: CUBIC_NEWTON_SCHULZ,
} as const satisfies Record<string, NewtonSchulzSchedule>;
/** The name of a built-in schedule: 'polar-express', 'quintic' or 'cubic'. */
export type NewtonSchulzScheduleName = keyof typeof NEWTON_SCHULZ_SCHEDULES;

/** A schedule given by name, as data, or (legacy) as one fixed coefficient triple. */
export type NewtonSchulzSpec = NewtonSchulzScheduleName | NewtonSchulzSchedule | NewtonSchulzCoefficients;

/** The schedule a spec names. */
export function resolveSchedule(spec: NewtonSchulzSpec): NewtonSchulzSchedule {
  if (typeof spec === 'string') {
    const s = (NEWTON_SCHULZ_SCHEDULES as Record<string, NewtonSchulzSchedule>)[spec];
    if (!s) {
      throw new UsageError(
        `unknown Newton–Schulz schedule '${spec}'; valid: ${Object.keys(NEWTON_SCHULZ_SCHEDULES).join(', ')}`,
      );
    }
    return s;
  }
  if (isCoefficients(spec)) return fixedSchedule(spec);
  return spec;
}

function isCoefficients(
  spec: NewtonSchulzSchedule | NewtonSchulzCoefficients,
): spec is NewtonSchulzCoefficients {
  return Array.isArray(spec);
}

/** The coefficients of each of `steps` steps (default: the schedule's own length). */
export function scheduleSteps(
  schedule: NewtonSchulzSchedule,
  steps: number = schedule.coefficients.length,
): NewtonSchulzCoefficients[] {
  return Array.from({ length: steps }, (_, k) => schedule.coefficients[k] ?? schedule.tail);
}

/**
 * The matrix operations Newton–Schulz needs, so that one definition of the iteration serves f64 host
 * matrices and jax-js device arrays. Operations may consume their arguments (jax-js does); `keep`
 * returns a second handle to a value used again (jax-js `.ref`, the identity on the host).
 */
export interface NewtonSchulzOps<M> {
  shape(X: M): readonly number[];
  keep(X: M): M;
  /** Xᴴ. */
  adjoint(X: M): M;
  matmul(X: M, Y: M): M;
  /** αX + βY. */
  axpby(alpha: number, X: M, beta: number, Y: M): M;
  scale(X: M, alpha: number): M;
  /** X / (‖X‖_F·normScale + eps), computed where X lives (no host read-back on a device). */
  normalize(X: M, normScale: number, eps: number): M;
}

/**
 * The Newton–Schulz polar iteration, written once (MATH.md §8): pre-normalise, then per step
 * X ← aX + b(XXᴴ)X + c(XXᴴ)²X, on the wide orientation (fewer rows than columns) so that XXᴴ is the
 * smaller Gram matrix — a tall G is transposed in and out. Consumes G when `ops` consume.
 */
export function newtonSchulzIterate<M>(
  G: M,
  ops: NewtonSchulzOps<M>,
  schedule: NewtonSchulzSchedule,
  steps?: number,
): M {
  const [rows, cols] = ops.shape(G);
  const tall = rows > cols;
  let X = ops.normalize(tall ? ops.adjoint(G) : G, schedule.normScale, schedule.eps);
  for (const [a, b, c] of scheduleSteps(schedule, steps)) {
    const A = ops.matmul(ops.keep(X), ops.adjoint(ops.keep(X)));
    const B = c === 0 ? ops.scale(A, b) : ops.axpby(b, ops.keep(A), c, ops.matmul(ops.keep(A), A));
    X = ops.axpby(a, ops.keep(X), 1, ops.matmul(B, X));
  }
  return tall ? ops.adjoint(X) : X;
}

/** f64 (and complex) host matrices; nothing is consumed. */
export const HOST_NEWTON_SCHULZ_OPS: NewtonSchulzOps<Matrix> = {
  shape: (X) => [X.rows, X.cols],
  keep: (X) => X,
  adjoint: conjTranspose,
  matmul,
  axpby,
  scale,
  normalize: (X, normScale, eps) => {
    const d = frobeniusNorm(X) * normScale + eps;
    return d === 0 ? zeros(X.rows, X.cols, X.im !== null) : scale(X, 1 / d);
  },
};

/**
 * Newton–Schulz polar iteration on an f64 host matrix (see `newtonSchulzIterate`). `schedule` picks
 * the coefficients (default: the convergent cubic, 30 steps); `coefficients` (legacy) fixes one
 * triple for every step. Matmul-only. See MATH.md §8. The zero matrix maps to the zero matrix, an
 * empty one to itself; singular values below ~1/cond of the largest are not lifted to 1 within the
 * cubic's 30 steps (at cond 1e16 they stay near 0: the result is then the polar factor of the
 * numerically nonzero part).
 * @throws NonFiniteError naming G's first NaN/±Inf entry.
 * @example newtonSchulzPolar(G, { schedule: 'polar-express' }) // ≈ polar(G), five steps
 */
export function newtonSchulzPolar(
  G: Matrix,
  options: { steps?: number; coefficients?: NewtonSchulzCoefficients; schedule?: NewtonSchulzSpec } = {},
): Matrix {
  assertFinite(G, 'newtonSchulzPolar: G');
  // The polar factor is scale-invariant: bring entries near the ends of the f64 range (where the
  // schedule's ε would swamp ‖G‖_F, or XXᴴ overflow) to about 1, by an exact power of two.
  const c = rangeScale(G);
  if (c !== 1) {
    const H = scale(G, c); // subnormal G may still be ~2^-60 after the capped power of two
    G = scale(H, 1 / frobeniusNorm(H));
  }
  const schedule = resolveSchedule(options.coefficients ?? options.schedule ?? CUBIC_NEWTON_SCHULZ);
  return newtonSchulzIterate(G, HOST_NEWTON_SCHULZ_OPS, schedule, options.steps);
}

/**
 * A^{−1/p} of a Hermitian positive definite A by the coupled Newton iteration (matmul-only):
 * X₀ = I/c, M₀ = A/cᵖ with cᵖ = 2‖A‖_F/(1+p) (so M₀'s spectrum lies in (0, (1+p)/2]); then
 * T = ((p+1)I − M)/p, X ← X T, M ← Tᵖ M, until M ≈ I, when X ≈ A^{−1/p}. See MATH.md §8 (Shampoo).
 * Accuracy: the iteration is run until ‖M − I‖_F ≤ tol·√n; the result's relative error then grows
 * like cond(A)^{1/p}·tol. Ill-conditioned A (cond ≳ 1e12) needs more steps than the default 100 and
 * raises ConvergenceError rather than returning a poor answer.
 * @example inverseRoot(diag([16, 81]), 4) // diag(1/2, 1/3)
 * @throws NonFiniteError (NaN/±Inf entry of A); NotPositiveDefiniteError (singular, zero or indefinite
 * A, with the Cholesky pivot); UsageError for p not a positive integer; ConvergenceError when M does
 * not reach I within maxIterations.
 */
export function inverseRoot(
  A: Matrix,
  p: number,
  options: { tol?: number; maxIterations?: number } = {},
): Matrix {
  if (A.rows !== A.cols) throw new ShapeError(`inverseRoot: matrix is ${shapeOf(A)}, not square`);
  if (!(Number.isInteger(p) && p >= 1))
    throw new UsageError(`inverseRoot: p must be a positive integer, got ${p}`);
  const n = A.rows;
  if (n === 0) return zeros(0, 0, A.im !== null);
  // HPD check (n³/3, small next to the iteration's matmuls): a singular, zero or indefinite A would
  // make the iteration diverge to NaN.
  cholesky(A, 'inverseRoot: matrix A');
  const tol = options.tol ?? 1e-13;
  const maxIt = options.maxIterations ?? 100;
  const complex = A.im !== null;
  const I = identity(n, complex);
  // Scaling: with z = (1+p)/(2‖A‖_F), M₀ = zA has spectrum in (0, (1+p)/2], inside the region where
  // the iteration converges; then A^{−1/p} = z^{1/p} X.
  const z = (1 + p) / (2 * frobeniusNorm(A));
  let M = scale(A, z);
  let X = scale(I, z ** (1 / p));
  for (let it = 0; it < maxIt; it++) {
    const T = scale(axpby(p + 1, I, -1, M), 1 / p);
    X = matmul(X, T);
    let Tp = T;
    for (let k = 1; k < p; k++) Tp = matmul(Tp, T);
    M = matmul(Tp, M);
    if (frobeniusNorm(axpby(1, M, -1, I)) <= tol * Math.sqrt(n)) return X;
  }
  throw new ConvergenceError(
    `inverseRoot: coupled Newton iteration for p=${p} did not converge in ${maxIt} steps`,
  );
}
