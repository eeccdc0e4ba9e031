/**
 * linreg-aniso: linear regression whose inputs have an anisotropic covariance (condition number
 * 10⁴ by default) — the case where K-FAC's V = C⁻¹ (MATH.md §7) fixes what plain gradient descent
 * cannot. x = z·diag(√λ) Qᵀ with z ~ N(0, I), λ log-spaced from 1 to κ, Q a random rotation; y = A*x + ε.
 */
import { matmul } from '../linalg/gemm.js';
import { transpose } from '../linalg/matrix.js';
import { Rng, randomNormal, randomUnitary } from '../linalg/random.js';
import type { Dataset } from './dataset.js';

export interface LinregOptions {
  d?: number;
  out?: number;
  nTrain?: number;
  nTest?: number;
  condition?: number;
  noise?: number;
  seed?: number;
}

export function linregAniso({
  d = 16,
  out = 4,
  nTrain = 4096,
  nTest = 1024,
  condition = 1e4,
  noise = 0.01,
  seed = 7,
}: LinregOptions = {}): {
  train: Dataset;
  test: Dataset;
} {
  const rng = new Rng(seed);
  const Q = randomUnitary(rng, d);
  const scales = Array.from({ length: d }, (_, i) => Math.sqrt(condition ** (i / Math.max(1, d - 1))));
  const Astar = randomNormal(rng, out, d);
  const make = (n: number): Dataset => {
    const Z = randomNormal(rng, n, d);
    for (let i = 0; i < n; i++) for (let j = 0; j < d; j++) Z.re[i * d + j] *= scales[j];
    const X = matmul(Z, Q); // rows of Z diag(√λ) Q: covariance Qᵀ diag(λ) Q
    const Y = matmul(X, transpose(Astar));
    for (let k = 0; k < Y.re.length; k++) Y.re[k] += noise * rng.normal();
    return { n, x: Float32Array.from(X.re), xDim: d, y: Float32Array.from(Y.re), yDim: out };
  };
  return { train: make(nTrain), test: make(nTest) };
}
