/**
 * K-FAC's curvature blocks (MATH.md §7), as kfac-jax arranges them: each block owns the statistics
 * of one parameter group, their factorisation, and the preconditioning of its gradient.
 *
 * - Kronecker blocks (dense layers; conv2d kernels through their patches; embedding tables through
 *   one-hot inputs): F ≈ Ā ⊗ Γ with Ā = E[a aᵀ] (a bias folded in as a trailing 1) and Γ = E[g gᵀ].
 *   The step is the Frobenius-type Riesz gradient with V = Ā⁻¹, W = Γ, in factored Tikhonov form
 *   u = (Γ + γ/π I)⁻¹ G (Ā + πγ I)⁻¹ with γ² = λ + η, or for the polar step the operator-norm dual map
 *   in the same metrics. On the host (the CPU default) factors are f64 and factorised by
 *   eigendecomposition (a new λ then needs no new factorisation) or Cholesky; the large products
 *   (statistics, preconditioning) run in f32. On the device they stay jax-js arrays.
 * - Diagonal blocks (vector parameters with per-example gradients, e.g. layer-norm gains):
 *   u = G / (F + γ²), F the average of E[gᵢ²].
 * A layout maps a stored parameter to the out×in matrix the block sees, and back.
 */
import { numpy as np } from '@jax-js/jax';
import { readF32, readScalars } from '../backend/read.js';
import { fusedWgslReady, gramWgsl } from '../backend/wgsl/kernels.js';
import { inverseCholeskyFactor } from '../linalg/cholesky-inverse.js';
import { eigh } from '../linalg/eigh.js';
import { matmul } from '../linalg/gemm.js';
import { newtonSchulzPolar } from '../linalg/matfun.js';
import { type Matrix, transpose, zeros } from '../linalg/matrix.js';
import { sgemm } from '../linalg/sgemm.js';
import {
  inverseNewtonSchulz,
  inverseRootNewton,
  NumericalError,
  polarNewtonSchulz,
} from './matrix-functions.js';
import type { CurvatureTap, DiagonalTap, ParamDict, Tensor } from './types.js';

/** How a Kronecker block's damped factors are inverted. */
export type InverseMethod = 'eigh' | 'cholesky' | 'newton-schulz' | 'exact';

export interface BlockSettings {
  inverse: InverseMethod;
  /** 'natural' (Riesz gradient) or 'polar' (operator-norm dual map: muon-kfac). */
  step: 'natural' | 'polar';
  polarSteps: number;
}

/** π and the damped factors' diagonal shifts πγ and γ/π for γ² = `damping` (MATH.md §12.12). */
export function factoredDamping(traceA: number, dimA: number, traceG: number, dimG: number, damping: number) {
  const pi = traceA > 0 && traceG > 0 ? Math.sqrt(traceA / dimA / (traceG / dimG)) : 1;
  return { pi, inputShift: pi * Math.sqrt(damping), outputShift: Math.sqrt(damping) / pi };
}

// ---------------------------------------------------------------------------------------------
// Layouts: stored parameter ↔ the out×in matrix of the map.

/** The parameter group of a Kronecker block: a weight, its bias, and how the weight is stored. */
export interface KroneckerLayout {
  weight: string;
  bias?: string;
  /** 'dense' out×in; 'conv2d' out×C×kh×kw; 'embedding' stored in×out (a table used as x @ T). */
  kind: 'dense' | 'conv2d' | 'embedding';
  /** The stored shape of the weight. */
  shape: number[];
}

function asMatrix(layout: KroneckerLayout, w: Tensor): Tensor {
  if (layout.kind === 'embedding') return w.transpose();
  if (layout.kind === 'conv2d') return w.reshape([w.shape[0], w.shape[1] * w.shape[2] * w.shape[3]]);
  return w;
}

function fromMatrix(layout: KroneckerLayout, U: Tensor): Tensor {
  return layout.kind === 'embedding' ? U.transpose() : U.reshape(layout.shape);
}

/** The block's gradient as one out×(in [+1]) matrix, the bias as the last column (consumes grads). */
function gradientMatrix(layout: KroneckerLayout, grads: ParamDict): Tensor {
  const g = asMatrix(layout, grads[layout.weight]);
  if (!layout.bias) return g;
  return np.concatenate([g, grads[layout.bias].reshape([g.shape[0], 1])], 1);
}

/**
 * The block's gradient as one out×(in [+1]) host matrix (consumes grads): the weight's and the
 * bias's entries read and laid side by side on the host (no jax-js concatenation).
 */
async function hostGradientMatrix(
  layout: KroneckerLayout,
  grads: ParamDict,
): Promise<{ data: Float32Array; out: number; cols: number }> {
  const w = asMatrix(layout, grads[layout.weight]);
  const [out, n] = w.shape;
  const wd = await readF32(w);
  if (!layout.bias) return { data: wd, out, cols: n };
  const bd = await readF32(grads[layout.bias]);
  const cols = n + 1;
  const data = new Float32Array(out * cols);
  for (let r = 0; r < out; r++) {
    data.set(wd.subarray(r * n, (r + 1) * n), r * cols);
    data[r * cols + n] = bd[r];
  }
  return { data, out, cols };
}

/** {@link splitUpdate} for a host out×(in [+1]) matrix: the columns cut on the host. */
function splitHostUpdate(layout: KroneckerLayout, U: Float32Array, out: number, cols: number): ParamDict {
  if (!layout.bias) return { [layout.weight]: fromMatrix(layout, np.array(U).reshape([out, cols])) };
  const n = cols - 1;
  const W = new Float32Array(out * n);
  const b = new Float32Array(out);
  for (let r = 0; r < out; r++) {
    W.set(U.subarray(r * cols, r * cols + n), r * n);
    b[r] = U[r * cols + n];
  }
  return { [layout.weight]: fromMatrix(layout, np.array(W).reshape([out, n])), [layout.bias]: np.array(b) };
}

/** Splits a preconditioned out×(in [+1]) matrix back into the stored parameters (consumes U). */
function splitUpdate(layout: KroneckerLayout, U: Tensor): ParamDict {
  if (!layout.bias) return { [layout.weight]: fromMatrix(layout, U) };
  const [out, cols] = U.shape;
  return {
    [layout.weight]: fromMatrix(layout, U.ref.slice([], [0, cols - 1])),
    [layout.bias]: U.slice([], [cols - 1, cols]).reshape([out]),
  };
}

// ---------------------------------------------------------------------------------------------
// Host Kronecker block (f64 factors, f32 products).

interface Eig {
  values: Matrix; // 1×n
  vectors: Matrix; // n×n, eigenvectors as columns
}

export interface HostKroneckerState {
  kind: 'host';
  A: Matrix;
  G: Matrix;
  /** Updates folded into the averages so far (for the debiased weight). */
  updates: number;
  /** π at the last refresh. */
  pi: number;
  eigA: Eig | null;
  eigG: Eig | null;
  /** The preconditioning matrices for `shifts` (inverses, or inverse roots for the polar step). */
  Ainv: Matrix | null;
  Ginv: Matrix | null;
  /** [input shift, output shift] that Ainv and Ginv were built for. */
  shifts: number[];
}

/** f32 copies of host matrices for the f32 products (derived data: rebuilt after a resume). */
const f32Copies = new WeakMap<Matrix, Float32Array>();
function f32(M: Matrix): Float32Array {
  let c = f32Copies.get(M);
  if (!c) f32Copies.set(M, (c = Float32Array.from(M.re)));
  return c;
}

/** (scale)·XᵀX in f64 for X rows×cols in f32 (one f32 product). */
function gramF32(X: Float32Array, rows: number, cols: number, scale: number): Matrix {
  const P = sgemm(cols, cols, rows, X, X, true, true);
  const M = zeros(cols, cols);
  for (let k = 0; k < P.length; k++) M.re[k] = P[k] * scale;
  return M;
}

/** The layer inputs with a column of ones appended when the layer has a bias (consumes a). */
async function augmentedInputs(
  a: Tensor,
  withBias: boolean,
): Promise<{ data: Float32Array; rows: number; cols: number }> {
  const [rows, cols] = a.shape;
  const raw = await readF32(a);
  if (!withBias) return { data: raw, rows, cols };
  const data = new Float32Array(rows * (cols + 1));
  for (let r = 0; r < rows; r++) {
    data.set(raw.subarray(r * cols, (r + 1) * cols), r * (cols + 1));
    data[r * (cols + 1) + cols] = 1;
  }
  return { data, rows, cols: cols + 1 };
}

/** This step's Ā and Γ from the tap's arrays (consumes them). */
async function factorsFromTap(tap: CurvatureTap, withBias: boolean): Promise<{ A: Matrix; G: Matrix }> {
  const [rowsG, dimG] = tap.g.shape;
  const [a, g] = await Promise.all([augmentedInputs(tap.a, withBias), readF32(tap.g)]);
  const A = gramF32(a.data, a.rows, a.cols, (tap.positions ?? 1) / a.rows);
  const G = gramF32(g, rowsG, dimG, 1 / rowsG);
  return { A, G };
}

/**
 * The same from the producer's sums (aᵀa, Σa, gᵀg), folded straight into the averages:
 * e·prev + (1 − e)·this step's factor, in one pass per factor (the rounding is the two-pass form's).
 * The bias column of ones contributes Σa and the row count. The tap's arrays are not read (consumes
 * them).
 */
function foldSums(
  tap: CurvatureTap,
  withBias: boolean,
  prev: { A: Matrix; G: Matrix } | undefined,
  e: number,
): { A: Matrix; G: Matrix } {
  const { aa, a, gg } = tap.sums!;
  const [rows, n] = tap.a.shape;
  const dimG = tap.g.shape[1];
  tap.a.dispose();
  tap.g.dispose();
  const scale = (tap.positions ?? 1) / rows;
  const cols = withBias ? n + 1 : n;
  const A = zeros(cols, cols);
  const G = zeros(dimG, dimG);
  const ar = A.re;
  const gr = G.re;
  const f = 1 - e;
  if (prev) {
    const pa = prev.A.re;
    const pg = prev.G.re;
    for (let i = 0; i < n; i++) {
      const row = i * cols;
      const src = i * n;
      for (let j = 0; j < n; j++) ar[row + j] = e * pa[row + j] + f * (aa[src + j] * scale);
    }
    if (withBias) {
      for (let i = 0; i < n; i++) {
        ar[i * cols + n] = e * pa[i * cols + n] + f * (a[i] * scale);
        ar[n * cols + i] = e * pa[n * cols + i] + f * (a[i] * scale);
      }
      ar[n * cols + n] = e * pa[n * cols + n] + f * (rows * scale);
    }
    for (let k = 0; k < gr.length; k++) gr[k] = e * pg[k] + f * (gg[k] / rows);
    return { A, G };
  }
  for (let i = 0; i < n; i++) {
    const row = i * cols;
    const src = i * n;
    for (let j = 0; j < n; j++) ar[row + j] = aa[src + j] * scale;
  }
  if (withBias) {
    for (let i = 0; i < n; i++) ar[i * cols + n] = ar[n * cols + i] = a[i] * scale;
    ar[n * cols + n] = rows * scale;
  }
  for (let k = 0; k < gr.length; k++) gr[k] = gg[k] / rows;
  return { A, G };
}

function assertFiniteFactor(F: Matrix, what: string): void {
  for (let k = 0; k < F.re.length; k++)
    if (!Number.isFinite(F.re[k]))
      throw new NumericalError(`${what} has NaN or Inf entries (check the loss and the learning rate)`);
}

function traceOf(M: Matrix): number {
  let s = 0;
  for (let i = 0; i < M.rows; i++) s += M.re[i * M.cols + i];
  return s;
}

/**
 * Q f(Λ) Qᵀ for an eigendecomposition, as one f32 product (the result only feeds f32 products; a new
 * λ then costs one product per factor, no factorisation).
 */
function fromEig(e: Eig, f: (v: number) => number): Matrix {
  const n = e.vectors.rows;
  const scaled = new Float32Array(n * n);
  const Qt = new Float32Array(n * n);
  const fv = Array.from(e.values.re, f);
  for (let i = 0; i < n; i++)
    for (let j = 0; j < n; j++) {
      const q = e.vectors.re[i * n + j];
      scaled[i * n + j] = q * fv[j];
      Qt[j * n + i] = q;
    }
  const M = { rows: n, cols: n, re: Float64Array.from(sgemm(n, n, n, scaled, Qt, false, true)), im: null };
  return M;
}

function eigOf(F: Matrix, what: string): Eig {
  assertFiniteFactor(F, what);
  const { values, vectors } = eigh(F);
  // A factor is PSD; rounding can leave tiny negative eigenvalues, which the shift must not meet.
  const v = zeros(1, values.length);
  for (let i = 0; i < values.length; i++) v.re[i] = Math.max(values[i], 0);
  return { values: v, vectors: vectors! };
}

/** Where a factor's Cholesky failed and its eigendecomposition stood in (reported once per layer). */
const choleskyFallbacks = new Set<string>();

/**
 * (F + shift·I)⁻¹, or for the polar step L⁻¹ with F + shift·I = LLᵀ, by Cholesky. A factor is PSD,
 * but its f32-accumulated statistics can leave eigenvalues slightly below zero that a small shift
 * does not cover: then the eigendecomposition, with those eigenvalues set to 0, stands in, and a
 * warning says so once per factor.
 */
function choleskyInverse(F: Matrix, shift: number, polar: boolean, what: string): Matrix {
  assertFiniteFactor(F, what);
  const n = F.rows;
  const M = zeros(n, n);
  M.re.set(F.re);
  for (let i = 0; i < n; i++) M.re[i * n + i] += shift;
  let Linv: Matrix;
  try {
    Linv = inverseCholeskyFactor(M, what);
  } catch (e) {
    const { values, vectors } = eigh(F);
    if (!choleskyFallbacks.has(what)) {
      choleskyFallbacks.add(what);
      console.warn(
        `riesz: ${(e as Error).message} with shift ${shift.toPrecision(3)} (eigenvalues from ${values[0].toPrecision(3)} to ${values[n - 1].toPrecision(3)}); using its eigendecomposition with negative eigenvalues set to 0 instead`,
      );
    }
    const clamped = zeros(1, n);
    for (let i = 0; i < n; i++) clamped.re[i] = Math.max(values[i], 0);
    const f = polar ? (v: number) => 1 / Math.sqrt(v + shift) : (v: number) => 1 / (v + shift);
    return fromEig({ values: clamped, vectors: vectors! }, f);
  }
  if (polar) return Linv;
  // L⁻ᵀL⁻¹ only feeds f32 products: form it as one (the factorisation and the solve stay f64).
  const L32 = Float32Array.from(Linv.re);
  return { rows: n, cols: n, re: Float64Array.from(sgemm(n, n, n, L32, L32, true, true)), im: null };
}

/** The Cholesky path of the damped inverse, for tests. */
export const dampedInverseByCholesky = choleskyInverse;

export const hostKronecker = {
  /** Folds this step's statistics into the averages with weight ε on the old ones (consumes tap). */
  async accumulate(
    prev: HostKroneckerState | undefined,
    layout: KroneckerLayout,
    tap: CurvatureTap,
    decay: (updates: number) => number,
  ): Promise<HostKroneckerState> {
    const updates = (prev?.updates ?? 0) + 1;
    const e = prev ? decay(updates) : 0;
    let A: Matrix;
    let G: Matrix;
    if (tap.sums) ({ A, G } = foldSums(tap, layout.bias !== undefined, prev, e));
    else {
      ({ A, G } = await factorsFromTap(tap, layout.bias !== undefined));
      if (prev) {
        const [ar, gr, pa, pg] = [A.re, G.re, prev.A.re, prev.G.re];
        for (let k = 0; k < ar.length; k++) ar[k] = e * pa[k] + (1 - e) * ar[k];
        for (let k = 0; k < gr.length; k++) gr[k] = e * pg[k] + (1 - e) * gr[k];
      }
    }
    return prev
      ? { ...prev, A, G, updates }
      : { kind: 'host', A, G, updates, pi: 1, eigA: null, eigG: null, Ainv: null, Ginv: null, shifts: [] };
  },

  /** New factorisations of the current averages (π from their traces). */
  refresh(s: HostKroneckerState, name: string, settings: BlockSettings, damping: number): HostKroneckerState {
    const { pi } = factoredDamping(traceOf(s.A), s.A.rows, traceOf(s.G), s.G.rows, 1);
    const next: HostKroneckerState = { ...s, pi, Ainv: null, Ginv: null, shifts: [] };
    if (settings.inverse === 'eigh') {
      next.eigA = eigOf(s.A, `K-FAC layer ${name}: input factor Ā`);
      next.eigG = eigOf(s.G, `K-FAC layer ${name}: output factor Γ`);
    }
    return hostKronecker.damp(next, name, settings, damping);
  },

  /** The preconditioning matrices for γ² = damping, rebuilt only when the shifts changed. */
  damp(s: HostKroneckerState, name: string, settings: BlockSettings, damping: number): HostKroneckerState {
    const sA = s.pi * Math.sqrt(damping);
    const sG = Math.sqrt(damping) / s.pi;
    if (s.Ainv && s.Ginv && s.shifts[0] === sA && s.shifts[1] === sG) return s;
    const polar = settings.step === 'polar';
    if (s.eigA && s.eigG) {
      const f = (shift: number) =>
        polar ? (v: number) => 1 / Math.sqrt(v + shift) : (v: number) => 1 / (v + shift);
      return { ...s, Ainv: fromEig(s.eigA, f(sA)), Ginv: fromEig(s.eigG, f(sG)), shifts: [sA, sG] };
    }
    return {
      ...s,
      Ainv: choleskyInverse(s.A, sA, polar, `K-FAC layer ${name}: damped input factor Ā`),
      Ginv: choleskyInverse(s.G, sG, polar, `K-FAC layer ${name}: damped output factor Γ`),
      shifts: [sA, sG],
    };
  },

  /** The preconditioned gradient of the block's parameters (consumes their gradients). */
  async precondition(
    s: HostKroneckerState,
    layout: KroneckerLayout,
    grads: ParamDict,
    settings: BlockSettings,
  ): Promise<ParamDict> {
    const { data: g, out, cols } = await hostGradientMatrix(layout, grads);
    let U: Float32Array;
    if (settings.step === 'natural') {
      U = sgemm(out, cols, cols, sgemm(out, cols, out, f32(s.Ginv!), g), f32(s.Ainv!));
    } else {
      // Symmetric roots S (eigh) or Cholesky inverses L⁻¹: D = S_Γᵀ polar(S_Γ G S_Āᵀ) S_Ā.
      const G64: Matrix = { rows: out, cols, re: Float64Array.from(g), im: null };
      const Gt = matmul(matmul(s.Ginv!, G64), transpose(s.Ainv!));
      // The same schedule as Muon's (Polar Express), on the host in f64.
      const P = newtonSchulzPolar(Gt, { steps: settings.polarSteps, schedule: 'polar-express' });
      U = Float32Array.from(matmul(matmul(transpose(s.Ginv!), P), s.Ainv!).re);
    }
    return splitHostUpdate(layout, U, out, cols);
  },
};

// ---------------------------------------------------------------------------------------------
// Device Kronecker block (jax-js arrays; for WebGPU).

export interface DeviceKroneckerState {
  kind: 'device';
  A: Tensor;
  G: Tensor;
  updates: number;
  Ainv: Tensor | null;
  Ginv: Tensor | null;
  /** The damping the inverses were built for. */
  damping: number;
}

/** Where a device inverse fell back (reported once per factor). */
const deviceFallbacks = new Set<string>();
function warnOnce(key: string, message: string): void {
  if (deviceFallbacks.has(key)) return;
  deviceFallbacks.add(key);
  console.warn(`riesz: ${message}`);
}

/**
 * (F + shift·I)⁻¹ (or its inverse square root for the polar step) on the device, in f32, with
 * safeguards: Newton–Schulz (warm-started from the previous inverse) or jax-js's inverse; when the
 * result is not finite or its residual ‖I − M·X‖_F is not small, the f64 host factorisation
 * (Cholesky, else the eigendecomposition) stands in, and a warning says so once per factor.
 */
async function deviceDampedInverse(
  F: Tensor,
  shift: number,
  prev: Tensor | null,
  settings: BlockSettings,
  what: string,
): Promise<Tensor> {
  const n = F.shape[0];
  const M = F.ref.add(np.eye(n).mul(shift));
  const polar = settings.step === 'polar';
  let X: Tensor | null = null;
  let why = '';
  try {
    if (polar) {
      prev?.dispose();
      X = await inverseRootNewton(M.ref, 2, { name: what });
    } else if (settings.inverse === 'newton-schulz') {
      // It checks its own residual (RMS ≤ 1e-3) and throws rather than run jax-js's slow device LU.
      X = await inverseNewtonSchulz(M.ref, { start: prev ?? undefined, exactFallback: false });
      M.dispose();
      return X;
    } else {
      prev?.dispose();
      X = np.linalg.inv(M.ref);
    }
    // The residual of the inverse (X² for the root), one read: f32 round-off stays far below 1e-2.
    const check = polar ? np.matmul(M.ref, np.matmul(X.ref, X.ref)) : np.matmul(M.ref, X.ref);
    const [res] = await readScalars([np.sqrt(np.sum(np.square(np.eye(n).sub(check)))).div(Math.sqrt(n))]);
    if (Number.isFinite(res) && res < 1e-2) {
      M.dispose();
      return X;
    }
    why = `its f32 residual is ${res.toPrecision(3)}`;
  } catch (e) {
    why = (e as Error).message;
  }
  X?.dispose();
  M.dispose();
  warnOnce(
    what,
    `${what}: the f32 device inverse failed (${why}) with shift ${shift.toPrecision(3)}; using the f64 host factorisation instead`,
  );
  // The factor itself, the shift added in f64 (in f32 a small shift can vanish into the diagonal).
  const F64: Matrix = { rows: n, cols: n, re: Float64Array.from(await readF32(F.ref)), im: null };
  // The polar step needs the symmetric root (the device precondition has no transposes).
  const inv = polar
    ? fromEig(eigOf(F64, what), (v) => 1 / Math.sqrt(v + shift))
    : choleskyInverse(F64, shift, false, what);
  return np.array(Float32Array.from(inv.re)).reshape([n, n]);
}

/**
 * aᵀa on the device (consumes a): riesz's symmetric WGSL product where the fused kernels are
 * switched on (`RIESZ_WGSL=1`), else jax-js's.
 */
function gram(a: Tensor): Tensor {
  if (!fusedWgslReady([a])) return np.matmul(a.ref.transpose(), a);
  const g = gramWgsl(a);
  a.dispose();
  return g;
}

export const deviceKronecker = {
  accumulate(
    prev: DeviceKroneckerState | undefined,
    layout: KroneckerLayout,
    tap: CurvatureTap,
    decay: (updates: number) => number,
  ): DeviceKroneckerState {
    const a = layout.bias ? np.concatenate([tap.a, np.ones([tap.a.shape[0], 1])], 1) : tap.a;
    const rows = a.shape[0];
    // Convolutions: Ā = E_examples[Σ_positions a aᵀ] (KFC), i.e. rows·T / rows.
    const Anew = gram(a).mul((tap.positions ?? 1) / rows);
    const Gnew = gram(tap.g).div(rows);
    const updates = (prev?.updates ?? 0) + 1;
    if (!prev)
      return { kind: 'device', A: Anew, G: Gnew, updates, Ainv: null, Ginv: null, damping: Number.NaN };
    const e = decay(updates);
    return { ...prev, A: prev.A.mul(e).add(Anew.mul(1 - e)), G: prev.G.mul(e).add(Gnew.mul(1 - e)), updates };
  },

  async refresh(
    s: DeviceKroneckerState,
    name: string,
    settings: BlockSettings,
    damping: number,
  ): Promise<DeviceKroneckerState> {
    // Traces and finiteness of both factors in one read.
    const [trA, trG, finA, finG] = await readScalars([
      np.trace(s.A.ref),
      np.trace(s.G.ref),
      np.all(np.isfinite(s.A.ref)),
      np.all(np.isfinite(s.G.ref)),
    ]);
    for (const [ok, what] of [
      [finA, `layer ${name}: input factor Ā`],
      [finG, `layer ${name}: output-gradient factor Γ`],
    ] as const) {
      if (!ok)
        throw new NumericalError(`${what} has NaN or Inf entries (check the loss and the learning rate)`);
    }
    const { inputShift, outputShift } = factoredDamping(trA, s.A.shape[0], trG, s.G.shape[0], damping);
    const Ainv = await deviceDampedInverse(
      s.A,
      inputShift,
      s.Ainv,
      settings,
      `K-FAC layer ${name}: damped input factor Ā`,
    );
    const Ginv = await deviceDampedInverse(
      s.G,
      outputShift,
      s.Ginv,
      settings,
      `K-FAC layer ${name}: damped output factor Γ`,
    );
    return { ...s, Ainv, Ginv, damping };
  },

  /** A new damping needs new inverses on the device (no eigendecomposition there). */
  async damp(
    s: DeviceKroneckerState,
    name: string,
    settings: BlockSettings,
    damping: number,
  ): Promise<DeviceKroneckerState> {
    return s.Ainv && s.Ginv && s.damping === damping
      ? s
      : deviceKronecker.refresh(s, name, settings, damping);
  },

  precondition(
    s: DeviceKroneckerState,
    layout: KroneckerLayout,
    grads: ParamDict,
    settings: BlockSettings,
  ): ParamDict {
    const Gm = gradientMatrix(layout, grads);
    let U = np.matmul(np.matmul(s.Ginv!.ref, Gm.ref), s.Ainv!.ref);
    if (settings.step === 'polar') {
      // Ginv, Ainv are symmetric S = (damped factor)^{−1/2}: D = S_Γ polar(S_Γ G S_Ā) S_Ā.
      U = np.matmul(
        np.matmul(s.Ginv!.ref, polarNewtonSchulz(U, settings.polarSteps, 'polar-express')),
        s.Ainv!.ref,
      );
    }
    Gm.dispose();
    return splitUpdate(layout, U);
  },
};

// ---------------------------------------------------------------------------------------------
// Diagonal block.

export interface DiagonalState {
  kind: 'diagonal';
  F: Tensor;
  updates: number;
}

export const diagonalBlock = {
  accumulate(
    prev: DiagonalState | undefined,
    tap: DiagonalTap,
    decay: (updates: number) => number,
  ): DiagonalState {
    const Fnew = np.mean(np.square(tap.perExample), 0);
    const updates = (prev?.updates ?? 0) + 1;
    if (!prev) return { kind: 'diagonal', F: Fnew, updates };
    const e = decay(updates);
    return { kind: 'diagonal', F: prev.F.mul(e).add(Fnew.mul(1 - e)), updates };
  },
  /** u = G/(F + γ²) (consumes the gradient, borrows the state). */
  precondition(s: DiagonalState, g: Tensor, damping: number): Tensor {
    return g.div(s.F.ref.add(damping));
  },
};
