/**
 * Optimizer updates as one fused WebAssembly SIMD pass over f32 parameters in the shared Wasm memory
 * (asm/dense.ts: `adamUpdate`, `momentumUpdate`): parameters, gradient and moments are read once and
 * written in place, where the jax-js transformations (optim/base.ts) issue about ten elementwise
 * operations per parameter. They round as those transformations do, operation for operation; the
 * naive scalar references stay beside them (`adamReference`, `momentumReference`) and the tests hold
 * all three together. Pointers are byte addresses in an {@link F32Workspace}.
 */
import type { F32Workspace } from '../linalg/wasm/runtime.js';

/** Adam's hyperparameters (the defaults of optim/base.ts `scaleByAdam`). */
export interface FusedAdamOptions {
  lr: number;
  b1?: number;
  b2?: number;
  eps?: number;
}

/** Byte pointers of n f32 values each: parameters, gradient, first and second moments. */
export interface AdamBuffers {
  p: number;
  g: number;
  m: number;
  v: number;
}

/** Adam's step t (1, 2, …) on n parameters in place: moments, then p ← p − lr·m̂/(√v̂ + ε). */
export function fusedAdamStep(
  ws: F32Workspace,
  { p, g, m, v }: AdamBuffers,
  n: number,
  t: number,
  { lr, b1 = 0.9, b2 = 0.999, eps = 1e-8 }: FusedAdamOptions,
): void {
  ws.kernels.adamUpdate(p, g, m, v, n, lr, b1, b2, eps, 1 - b1 ** t, 1 - b2 ** t);
}

/** Heavy-ball momentum on n parameters in place: m ← decay·m + g, p ← p − lr·m. */
export function fusedMomentumStep(
  ws: F32Workspace,
  { p, g, m }: Omit<AdamBuffers, 'v'>,
  n: number,
  { lr, decay = 0.9 }: { lr: number; decay?: number },
): void {
  ws.kernels.momentumUpdate(p, g, m, n, lr, decay);
}

const f = Math.fround;

/** The scalar reference of {@link fusedAdamStep} on host arrays (f32 rounding after every operation). */
export function adamReference(
  p: Float32Array,
  g: Float32Array,
  m: Float32Array,
  v: Float32Array,
  t: number,
  { lr, b1 = 0.9, b2 = 0.999, eps = 1e-8 }: FusedAdamOptions,
): void {
  const [fb1, fb2, a1, a2] = [f(b1), f(b2), f(1 - f(b1)), f(1 - f(b2))];
  const [c1, c2, fe, nl] = [f(1 - b1 ** t), f(1 - b2 ** t), f(eps), f(-lr)];
  for (let i = 0; i < p.length; i++) {
    m[i] = f(f(m[i] * fb1) + f(g[i] * a1));
    v[i] = f(f(v[i] * fb2) + f(f(g[i] * g[i]) * a2));
    const u = f(f(m[i] / c1) / f(f(Math.sqrt(f(v[i] / c2))) + fe));
    p[i] = f(p[i] + f(u * nl));
  }
}

/** The scalar reference of {@link fusedMomentumStep}. */
export function momentumReference(
  p: Float32Array,
  g: Float32Array,
  m: Float32Array,
  { lr, decay = 0.9 }: { lr: number; decay?: number },
): void {
  const [d, nl] = [f(decay), f(-lr)];
  for (let i = 0; i < p.length; i++) {
    m[i] = f(f(m[i] * d) + g[i]);
    p[i] = f(p[i] + f(m[i] * nl));
  }
}
