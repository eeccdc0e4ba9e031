/**
 * The scalar rules of K-FAC (Martens & Grosse 2015, §6–7), as pure functions on numbers so that each
 * stage can be tested by hand: debiased factor averages, the damped quadratic model over one or two
 * directions (step size α and momentum μ), the reduction ratio ρ and the Levenberg–Marquardt
 * damping adaptation.
 */

/**
 * The weight on the old average at the k-th update of a factor (k ≥ 1): ε = min(1 − 1/k, decay).
 * The first update takes the new statistic whole, the k-th a plain mean of the first k, and from
 * k = 1/(1 − decay) on the exponential average — so the average of a constant is that constant.
 * @example [1, 2, 3].map((k) => debiasedDecay(k, 0.95)) // [0, 0.5, 0.666…]
 */
export function debiasedDecay(k: number, decay: number): number {
  return Math.min(1 - 1 / Math.max(k, 1), decay);
}

export interface QuadraticModelInput {
  /** Cᵢⱼ = dᵢᵀ F dⱼ on the batch (F the Fisher or Gauss–Newton matrix, without damping). */
  curvature: number[][];
  /** Nᵢⱼ = dᵢᵀ dⱼ (for the damping and the L2 terms). */
  gram: number[][];
  /** bᵢ = ∇Lᵀ dᵢ. */
  grad: number[];
  /** λ, the Levenberg–Marquardt damping. */
  damping: number;
  /** η, the L2 coefficient of the objective (part of its curvature). */
  l2?: number;
}

export interface QuadraticModelStep {
  /**
   * xᵢ of the step s = −Σ xᵢ dᵢ that minimises ½ sᵀ(F + (λ + η)I)s + ∇Lᵀs; all zero when the model
   * has no descent direction (non-positive or non-finite curvature).
   */
  coefficients: number[];
  /** The undamped model's predicted change ½ sᵀ(F + ηI)s + ∇Lᵀs (for the reduction ratio). */
  predicted: number;
  /** Directions the solve used: 2, or 1 when the 2×2 system was singular (or had one direction). */
  used: number;
}

/**
 * The undamped model's change ½ sᵀ(F + ηI)s + ∇Lᵀs for the step s = −Σ xᵢ dᵢ, from the same
 * matrices as `solveQuadraticModel`.
 */
export function modelChange(x: number[], C: number[][], N: number[][], b: number[], l2 = 0): number {
  let quad = 0;
  let lin = 0;
  for (let i = 0; i < x.length; i++) {
    lin += x[i] * b[i];
    for (let j = 0; j < x.length; j++) quad += x[i] * x[j] * (C[i][j] + l2 * N[i][j]);
  }
  return 0.5 * quad - lin;
}

/**
 * Minimises the damped quadratic model over the span of one or two directions (the preconditioned
 * gradient Δ and the previous step δ₋): a 1×1 or 2×2 solve. A singular or indefinite 2×2 system
 * falls back to Δ alone, as on the first step where there is no δ₋.
 * @example
 * // F = 2, ∇L = 4 along one unit direction: x = 4/2 = 2 (step −2), predicted change −4.
 * solveQuadraticModel({ curvature: [[2]], gram: [[1]], grad: [4], damping: 0 }) // { coefficients: [2], predicted: -4, used: 1 }
 */
export function solveQuadraticModel({
  curvature: C,
  gram: N,
  grad: b,
  damping,
  l2 = 0,
}: QuadraticModelInput): QuadraticModelStep {
  const shift = damping + l2;
  const m = (i: number, j: number) => C[i][j] + shift * N[i][j];
  if (b.length >= 2) {
    const [a, c, d] = [m(0, 0), m(0, 1), m(1, 1)];
    const det = a * d - c * c;
    // Positive definite and not nearly singular (relative to the diagonal): the 2-D solve.
    if (a > 0 && d > 0 && det > 1e-10 * a * d && Number.isFinite(det)) {
      const x = [(d * b[0] - c * b[1]) / det, (a * b[1] - c * b[0]) / det];
      if (x.every(Number.isFinite))
        return { coefficients: x, predicted: modelChange(x, C, N, b, l2), used: 2 };
    }
  }
  const denom = m(0, 0);
  const x0 = b[0] / denom;
  if (!(denom > 0) || !Number.isFinite(x0)) return { coefficients: b.map(() => 0), predicted: 0, used: 1 };
  const x = b.map((_, i) => (i === 0 ? x0 : 0));
  return { coefficients: x, predicted: modelChange([x0], C, N, b, l2), used: 1 };
}

/**
 * ρ = (L(θ + s) − L(θ)) / q(s): the actual change of the objective over the one the model predicted.
 * NaN when the prediction is not a decrease or either value is not finite (a failure for the
 * damping rule).
 */
export function reductionRatio(before: number, after: number, predicted: number): number {
  if (!(predicted < 0) || !Number.isFinite(before) || !Number.isFinite(after)) return Number.NaN;
  return (after - before) / predicted;
}

export interface DampingRule {
  /** ω < 1: λ ← ωλ after a good step, λ/ω after a bad one (Martens & Grosse: 0.95^T₁). */
  omega: number;
  min: number;
  max: number;
  /** ρ below this is a bad step (default 0.25). */
  lower?: number;
  /** ρ above this is a good step (default 0.75). */
  upper?: number;
}

/**
 * The Levenberg–Marquardt rule: trust the model more (λ ← ωλ) when ρ > upper, less (λ ← λ/ω) when
 * ρ < lower or ρ is not finite; λ stays inside [min, max].
 * @example adaptDamping(150, 0.9, { omega: 0.5, min: 1e-6, max: 1000 }) // 75
 */
export function adaptDamping(lambda: number, rho: number, rule: DampingRule): number {
  const { omega, min, max, lower = 0.25, upper = 0.75 } = rule;
  let next = lambda;
  if (!Number.isFinite(rho) || rho < lower) next = lambda / omega;
  else if (rho > upper) next = lambda * omega;
  return Math.min(max, Math.max(min, next));
}
