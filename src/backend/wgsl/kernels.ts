/**
 * Fused dense-layer and factor-statistics kernels on jax-js's WebGPU device, each one command buffer
 * of riesz's own WGSL (shaders.ts) in place of a chain of jax-js operations, reading and writing
 * jax-js arrays in place on the device (interop.ts says how). Shapes: X is B×in, W out×in (a map
 * ℝⁱⁿ → ℝᵒᵘᵗ), b out, Y and dY B×out.
 *
 * Every function borrows its arguments (the caller disposes them) and returns new arrays. They need
 * concrete float32 arrays on WebGPU (see {@link fusedWgslReady}); reference.ts computes the same with
 * plain jax-js operations, and the tests hold the two together.
 */
import { ShapeError } from '../../errors.js';
import type { Tensor } from '../taps.js';
import {
  bufferOf,
  encodePass,
  type GpuBinding,
  type GpuBufferLike,
  gpuDevice,
  isGpuArray,
  linearGrid,
  outputArrays,
  pipeline,
  scratchBuffer,
  uniformU32,
  wgslSupport,
} from './interop.js';
import {
  activationBackwardSource,
  columnSumSource,
  LINEAR_WORKGROUP,
  type MatmulVariant,
  matmulSource,
  TILE,
  type WgslActivation,
} from './shaders.js';

export type { WgslActivation } from './shaders.js';

/**
 * Off unless the environment sets RIESZ_WGSL=1 (read once, where there is a `process`): on
 * SwiftShader they are slower than jax-js's operations, and on a GPU they are not yet measured
 * (docs/gpu.md); on by default only once `bench/wgsl.ts` shows them winning there.
 */
let fusedOn = typeof process !== 'undefined' && process.env?.RIESZ_WGSL === '1';

/** Turns the fused WGSL kernels on or off (off: the jax-js operations run on WebGPU, e.g. to compare).
 * They start off, unless the environment variable RIESZ_WGSL is `1`. */
export function setFusedWgsl(on: boolean): void {
  fusedOn = on;
}

/** Whether the fused WGSL kernels are switched on (see {@link setFusedWgsl}). */
export function fusedWgslEnabled(): boolean {
  return fusedOn;
}

/**
 * Whether the fused kernels can take these arrays: switched on, jax-js's WebGPU entry points present
 * (interop.ts), and every array a concrete float32 array on WebGPU (tracers under jit or grad are
 * not: their callers use the jax-js operations).
 */
export function fusedWgslReady(arrays: unknown[]): boolean {
  return fusedOn && wgslSupport() === null && arrays.every(isGpuArray);
}

/** WGSL sources by variant, generated once (the pipeline cache is keyed by the source text). */
const sources = new Map<string, string>();
function source(key: string, build: () => string): string {
  let s = sources.get(key);
  if (s === undefined) sources.set(key, (s = build()));
  return s;
}

function matrixShape(name: string, x: Tensor): [number, number] {
  if (x.ndim !== 2) throw new ShapeError(`${name} must be a matrix, got shape [${x.shape.join(', ')}]`);
  return [x.shape[0], x.shape[1]];
}

function requireReady(what: string, arrays: Tensor[]): void {
  const why = wgslSupport();
  if (why) throw new Error(`${what}: the fused WGSL kernels cannot run: ${why}`);
  const bad = arrays.findIndex((a) => !isGpuArray(a));
  if (bad >= 0) throw new Error(`${what}: argument ${bad} is not a concrete float32 array on webgpu`);
}

/** Records a tiled product into the encoder; returns the uniform buffer to free after submission. */
function encodeMatmul(
  encoder: ReturnType<ReturnType<typeof gpuDevice>['createCommandEncoder']>,
  v: MatmulVariant,
  buffers: (GpuBufferLike | GpuBinding)[],
  [M, N, K]: [number, number, number],
): GpuBufferLike {
  const device = gpuDevice();
  const dims = uniformU32(device, [M, N, K, 0]);
  const grid: [number, number] = [Math.ceil(N / TILE), Math.ceil(M / TILE)];
  encodePass(
    device,
    encoder,
    pipeline(
      device,
      source(`mm:${v.transA}:${v.transB}:${v.bias}:${v.act}:${v.symmetric}`, () => matmulSource(v)),
    ),
    [...buffers, dims],
    grid,
  );
  return dims;
}

/**
 * Y = f(X Wᵀ + b): the dense layer's product with the bias and the activation in its epilogue.
 * Borrows x (B×in), w (out×in) and b (out, or null for none).
 */
export function denseForwardWgsl(x: Tensor, w: Tensor, b: Tensor | null, act: WgslActivation): Tensor {
  requireReady('denseForwardWgsl', b ? [x, w, b] : [x, w]);
  const [B, nIn] = matrixShape('x', x);
  const [nOut, wIn] = matrixShape('w', w);
  if (wIn !== nIn) throw new ShapeError(`x is ${B}×${nIn} but w is ${nOut}×${wIn}: w needs ${nIn} columns`);
  if (b && (b.ndim !== 1 || b.shape[0] !== nOut))
    throw new ShapeError(`b has shape [${b.shape.join(', ')}], expected [${nOut}]`);
  const device = gpuDevice();
  const inputs = [bufferOf(x), bufferOf(w), ...(b ? [bufferOf(b)] : [])];
  const {
    arrays: [y],
    bindings: [yb],
  } = outputArrays([[B, nOut]]);
  const encoder = device.createCommandEncoder();
  const variant: MatmulVariant = { transA: false, transB: true, bias: b !== null, act, symmetric: false };
  const dims = encodeMatmul(encoder, variant, [...inputs, yb], [B, nOut, nIn]);
  device.queue.submit([encoder.finish()]);
  dims.destroy();
  return y;
}

/** What {@link denseBackwardWgsl} returns; null where not asked for. */
export interface DenseBackwardWgsl {
  /** tapScale · ∂L/∂s = tapScale · dY ⊙ f'(s), B×out: K-FAC's tap g with tapScale = B (dZ itself
   * with the default tapScale 1). */
  g: Tensor;
  /** ∂L/∂X = dZ W, B×in. */
  dx: Tensor | null;
  /** ∂L/∂W = dZᵀ X, out×in. */
  dw: Tensor | null;
  /** ∂L/∂b = Σ_rows dZ, out. */
  db: Tensor | null;
}

/**
 * The dense layer's backward with the activation's derivative fused: dZ = dY ⊙ f'(Y) (f' written
 * through the layer's output Y = f(s), which is all the derivative needs), then dX = dZ W, dW = dZᵀ X
 * and db = Σ_rows dZ, all in one command buffer, dZ itself in a device-only scratch buffer; the
 * curvature tap g = tapScale·dZ is written beside it. Borrows x (B×in), w (out×in), y and dy
 * (B×out). `needInput` / `needWeightGrad` / `needBias` skip dX (the first layer), dW and db (K-FAC's
 * sampled-target pass) and db (no bias).
 */
export function denseBackwardWgsl(
  x: Tensor,
  w: Tensor,
  y: Tensor,
  dy: Tensor,
  act: WgslActivation,
  { needInput = true, needWeightGrad = true, needBias = true, tapScale = 1 } = {},
): DenseBackwardWgsl {
  requireReady('denseBackwardWgsl', [x, w, y, dy]);
  const [B, nIn] = matrixShape('x', x);
  const [nOut, wIn] = matrixShape('w', w);
  if (wIn !== nIn) throw new ShapeError(`x is ${B}×${nIn} but w is ${nOut}×${wIn}: w needs ${nIn} columns`);
  for (const [name, t] of [
    ['y', y],
    ['dy', dy],
  ] as const) {
    const [r, c] = matrixShape(name, t);
    if (r !== B || c !== nOut) throw new ShapeError(`${name} is ${r}×${c}, expected ${B}×${nOut}`);
  }
  const device = gpuDevice();
  const [xb, wb, yb, dyb] = [bufferOf(x), bufferOf(w), bufferOf(y), bufferOf(dy)];
  // dZ lives in riesz's scratch buffer (the products read it, and WebGPU forbids reading and
  // writing one buffer in the same pass, whatever the ranges); the outputs share one allocation,
  // dX first at offset 0 (the next layer's fused backward reads it).
  const dzBuffer: GpuBinding = {
    buffer: scratchBuffer(device, B * nOut * 4),
    offset: 0,
    size: Math.max(1, B * nOut) * 4,
  };
  const wanted: [string, number[]][] = [];
  if (needInput) wanted.push(['dx', [B, nIn]]);
  wanted.push(['g', [B, nOut]]);
  if (needWeightGrad) wanted.push(['dw', [nOut, nIn]]);
  if (needWeightGrad && needBias) wanted.push(['db', [nOut]]);
  const out = outputArrays(wanted.map(([, shape]) => shape));
  const slot = (name: string) => {
    const i = wanted.findIndex(([n]) => n === name);
    return i < 0 ? null : { array: out.arrays[i], buffer: out.bindings[i] };
  };
  const [g, dx, dw, db] = [slot('g')!, slot('dx'), slot('dw'), slot('db')];
  const uniforms: GpuBufferLike[] = [];
  const encoder = device.createCommandEncoder();
  // dZ = dY ⊙ f'(Y) and g: compute passes in one encoder run in order, so the products see dZ.
  const count = B * nOut;
  const grid = linearGrid(device, Math.ceil(count / LINEAR_WORKGROUP));
  const len = uniformU32(device, [count, grid[0] * LINEAR_WORKGROUP, tapScale, 0], [2]);
  uniforms.push(len);
  encodePass(
    device,
    encoder,
    pipeline(
      device,
      source(`act:${act}`, () => activationBackwardSource(act)),
    ),
    [yb, dyb, dzBuffer, g.buffer, len],
    grid,
  );
  const plain = { bias: false, act: 'identity', symmetric: false } as const;
  if (dx) {
    // dX (B×in) = dZ (B×out) · W (out×in).
    const v: MatmulVariant = { ...plain, transA: false, transB: false };
    uniforms.push(encodeMatmul(encoder, v, [dzBuffer, wb, dx.buffer], [B, nIn, nOut]));
  }
  if (dw) {
    // dW (out×in) = dZᵀ (dZ stored B×out) · X (B×in).
    const v: MatmulVariant = { ...plain, transA: true, transB: false };
    uniforms.push(encodeMatmul(encoder, v, [dzBuffer, xb, dw.buffer], [nOut, nIn, B]));
  }
  if (db) {
    const shape = uniformU32(device, [B, nOut, 0, 0]);
    uniforms.push(shape);
    const groups: [number, number] = [Math.ceil(nOut / LINEAR_WORKGROUP), 1];
    encodePass(
      device,
      encoder,
      pipeline(device, source('colsum', columnSumSource)),
      [dzBuffer, db.buffer, shape],
      groups,
    );
  }
  device.queue.submit([encoder.finish()]);
  for (const u of uniforms) u.destroy();
  return { g: g.array, dx: dx?.array ?? null, dw: dw?.array ?? null, db: db?.array ?? null };
}

/**
 * aᵀa for a (rows×n), n×n and symmetric: K-FAC's factor statistics (a = the layer inputs, or g =
 * the output gradients), unscaled. Only the tiles on and above the diagonal are computed; each is
 * mirrored, so the result is exactly symmetric. Borrows a.
 */
export function gramWgsl(a: Tensor): Tensor {
  requireReady('gramWgsl', [a]);
  const [rows, n] = matrixShape('a', a);
  const device = gpuDevice();
  const ab = bufferOf(a);
  const {
    arrays: [out],
    bindings: [ob],
  } = outputArrays([[n, n]]);
  const encoder = device.createCommandEncoder();
  const v: MatmulVariant = { transA: true, transB: false, bias: false, act: 'identity', symmetric: true };
  const dims = encodeMatmul(encoder, v, [ab, ob], [n, n, rows]);
  device.queue.submit([encoder.finish()]);
  dims.destroy();
  return out;
}
