/**
 * Optimizer updates as one fused WebAssembly SIMD pass over f32 buffers in the shared Wasm memory
 * (asm/dense.ts: `adamUpdate`, `momentumUpdate`): gradient and moments are read once, the moments
 * written in place and the update u written beside them, where the jax-js chains (optim/base.ts)
 * issue about ten elementwise operations per parameter. They round as those chains do on the CPU
 * devices, operation for operation and with the same f32 coefficients (jax-js divides as x·(1/y),
 * the reciprocal rounded to f32 — from f64 when y is a number — and so do they), so that both give the same bits; the naive scalar
 * references stay beside them
 * (`adamReference`, `momentumReference`) and the tests hold all three together. Pointers are byte
 * addresses in an {@link F32Scratch} (or the engine's workspace).
 */
import type { DenseKernels } from '../linalg/wasm/runtime.js';

/** Adam's coefficients for one step (the defaults of optim/base.ts `scaleByAdam`). */
export interface FusedAdamOptions {
  /** The learning rate of this step (the update is −lr times the direction). */
  lr: number;
  b1?: number;
  b2?: number;
  eps?: number;
  /** Decoupled weight decay λ: u = −lr·(d + λp) (AdamW); 0 (the default) leaves p unread. */
  weightDecay?: number;
}

/** Byte pointers of n f32 values each: parameters, gradient, first and second moments, update. */
export interface AdamBuffers {
  p: number;
  g: number;
  m: number;
  v: number;
  u: number;
}

/** Adam's step t (1, 2, …) on n values: moments in place, u = −lr·(m̂/(√v̂ + ε) + λp). */
export function fusedAdamStep(
  kernels: DenseKernels,
  { p, g, m, v, u }: AdamBuffers,
  n: number,
  t: number,
  { lr, b1 = 0.9, b2 = 0.999, eps = 1e-8, weightDecay = 0 }: FusedAdamOptions,
): void {
  // The coefficients are computed in f64 and rounded to f32 at the call, as jax-js rounds the
  // scalars of `mul(1 - b1)` and `mul(-lr)`; its `div(c)` by a number multiplies by 1/c so rounded.
  const [r1, r2] = [1 / (1 - b1 ** t), 1 / (1 - b2 ** t)];
  kernels.adamUpdate(p, g, m, v, u, n, b1, 1 - b1, b2, 1 - b2, eps, r1, r2, weightDecay, -lr);
}

/** Momentum's coefficients: the rate of this step, β (default 0.9), Nesterov (default false). */
export interface FusedMomentumOptions {
  lr: number;
  decay?: number;
  nesterov?: boolean;
}

/** Heavy-ball momentum on n values: m ← β·m + g in place, u = −lr·m (or −lr·(g + β·m), Nesterov). */
export function fusedMomentumStep(
  kernels: DenseKernels,
  { g, m, u }: Pick<AdamBuffers, 'g' | 'm' | 'u'>,
  n: number,
  { lr, decay = 0.9, nesterov = false }: FusedMomentumOptions,
): void {
  kernels.momentumUpdate(g, m, u, n, decay, -lr, nesterov ? 1 : 0);
}

const f = Math.fround;

/** The scalar reference of {@link fusedAdamStep} on host arrays (f32 rounding after every operation). */
export function adamReference(
  p: Float32Array,
  g: Float32Array,
  m: Float32Array,
  v: Float32Array,
  u: Float32Array,
  t: number,
  { lr, b1 = 0.9, b2 = 0.999, eps = 1e-8, weightDecay = 0 }: FusedAdamOptions,
): void {
  const [fb1, fb2, a1, a2] = [f(b1), f(b2), f(1 - b1), f(1 - b2)];
  const [r1, r2] = [f(1 / (1 - b1 ** t)), f(1 / (1 - b2 ** t))];
  const [fe, wd, nl] = [f(eps), f(weightDecay), f(-lr)];
  for (let i = 0; i < g.length; i++) {
    m[i] = f(f(m[i] * fb1) + f(g[i] * a1));
    v[i] = f(f(v[i] * fb2) + f(f(g[i] * g[i]) * a2));
    let d = f(f(m[i] * r1) * f(1 / f(f(Math.sqrt(f(v[i] * r2))) + fe)));
    if (wd !== 0) d = f(d + f(p[i] * wd));
    u[i] = f(d * nl);
  }
}

/** The scalar reference of {@link fusedMomentumStep}. */
export function momentumReference(
  g: Float32Array,
  m: Float32Array,
  u: Float32Array,
  { lr, decay = 0.9, nesterov = false }: FusedMomentumOptions,
): void {
  const [d, nl] = [f(decay), f(-lr)];
  for (let i = 0; i < g.length; i++) {
    m[i] = f(f(m[i] * d) + g[i]);
    u[i] = f((nesterov ? f(g[i] + f(m[i] * d)) : m[i]) * nl);
  }
}
