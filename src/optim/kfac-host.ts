/**
 * K-FAC's per-layer linear algebra on the host, in f64, with riesz's own kernels (WebAssembly SIMD
 * GEMM, Cholesky, triangular solves). On factor sizes like an MNIST layer's 785×785, jax-js's Wasm
 * matmul is far slower (bench/kernels: 0.7 vs 18.8 GFLOP/s), so `scaleByKfac` keeps factors on the
 * host unless asked to stay on the device.
 */
import { numpy as np } from '@jax-js/jax';
import { cholesky } from '../linalg/cholesky.js';
import { matmul } from '../linalg/gemm.js';
import { NEWTON_SCHULZ_MUON, newtonSchulzPolar } from '../linalg/matfun.js';
import { identity, type Matrix, transpose, zeros } from '../linalg/matrix.js';
import { solveLower } from '../linalg/triangular.js';
import { NumericalError } from './matrix-functions.js';
import type { Tensor } from './types.js';

export interface HostLayer {
  A: Matrix;
  G: Matrix;
  /** (Ā + π√λI)⁻¹ for the natural step, or L_Ā⁻¹ (Cholesky factor's inverse) for the polar step. */
  Ainv: Matrix | null;
  Ginv: Matrix | null;
}

/** A 2-D jax-js array as an f64 host matrix (consumes it). */
export function toHost(x: Tensor): Matrix {
  const [rows, cols] = x.shape;
  return { rows, cols, re: Float64Array.from(x.dataSync() as Float32Array), im: null };
}

/** An f64 host matrix as a float32 jax-js array. */
export function toDevice(M: Matrix): Tensor {
  return np.array(Float32Array.from(M.re)).reshape([M.rows, M.cols]);
}

function scaleInPlace(M: Matrix, c: number): Matrix {
  for (let k = 0; k < M.re.length; k++) M.re[k] *= c;
  return M;
}

/** EMA of Ā = (positions/rows)·aᵀa and Γ = gᵀg/rows (a: rows×in, g: rows×out). */
export function accumulateFactors(
  prev: HostLayer | undefined,
  a: Matrix,
  g: Matrix,
  positions: number,
  decay: number,
): HostLayer {
  const rows = a.rows;
  const Anew = scaleInPlace(matmul(transpose(a), a), positions / rows);
  const Gnew = scaleInPlace(matmul(transpose(g), g), 1 / rows);
  if (!prev) return { A: Anew, G: Gnew, Ainv: null, Ginv: null };
  for (let k = 0; k < Anew.re.length; k++) Anew.re[k] = decay * prev.A.re[k] + (1 - decay) * Anew.re[k];
  for (let k = 0; k < Gnew.re.length; k++) Gnew.re[k] = decay * prev.G.re[k] + (1 - decay) * Gnew.re[k];
  return { ...prev, A: Anew, G: Gnew };
}

function traceOf(M: Matrix): number {
  let s = 0;
  for (let i = 0; i < M.rows; i++) s += M.re[i * M.cols + i];
  return s;
}

function dampedInverse(F: Matrix, shift: number, factorOnly: boolean, what: string): Matrix {
  const n = F.rows;
  const M = zeros(n, n);
  for (let k = 0; k < n * n; k++) {
    const v = F.re[k];
    if (!Number.isFinite(v))
      throw new NumericalError(`${what} has NaN or Inf entries (check the loss and the learning rate)`);
    M.re[k] = v;
  }
  for (let i = 0; i < n; i++) M.re[i * n + i] += shift;
  let L: Matrix;
  try {
    L = cholesky(M, what);
  } catch (e) {
    throw new NumericalError(`${(e as Error).message} (increase the damping)`);
  }
  const Linv = solveLower(L, identity(n));
  return factorOnly ? Linv : matmul(transpose(Linv), Linv);
}

/** Refreshes the layer's inverses with the factored damping shifts (MATH.md §7). */
export function refreshHost(
  name: string,
  layer: HostLayer,
  shifts: { inputShift: number; outputShift: number },
  polar: boolean,
): HostLayer {
  return {
    ...layer,
    Ainv: dampedInverse(layer.A, shifts.inputShift, polar, `K-FAC layer ${name}: damped input factor Ā`),
    Ginv: dampedInverse(layer.G, shifts.outputShift, polar, `K-FAC layer ${name}: damped output factor Γ`),
  };
}

/**
 * The preconditioned gradient: Γd⁻¹ G Ād⁻¹ (natural), or with Cholesky factors Ād = L_A L_Aᵀ,
 * Γd = L_G L_Gᵀ the operator-norm dual map L_G⁻ᵀ polar(L_G⁻¹ G L_A⁻ᵀ) L_A⁻¹ (polar).
 */
export function preconditionHost(layer: HostLayer, G: Matrix, polar: boolean, polarSteps: number): Matrix {
  if (!polar) return matmul(matmul(layer.Ginv!, G), layer.Ainv!);
  const Gt = matmul(matmul(layer.Ginv!, G), transpose(layer.Ainv!));
  const P = newtonSchulzPolar(Gt, { steps: polarSteps, coefficients: NEWTON_SCHULZ_MUON });
  return matmul(matmul(transpose(layer.Ginv!), P), layer.Ainv!);
}

export { traceOf };
