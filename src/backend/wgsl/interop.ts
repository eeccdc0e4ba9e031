/**
 * The bridge between jax-js's WebGPU device and riesz's own WGSL kernels. jax-js (0.1.25) has no
 * custom-kernel API, but its public surface is enough to share buffers without a host round trip:
 *
 * - `getWebGPUDevice()` returns the `GPUDevice` jax-js runs on, so riesz's pipelines and jax-js's
 *   kernels share one device and one queue;
 * - `Array.gpuBufferSync()` submits the array's pending kernels (jax-js is lazy: work is queued when
 *   an array is realised) and returns the `GPUBuffer` behind it, contiguous from offset 0. It
 *   consumes one reference, so riesz calls it on `x.ref` and keeps x alive until its own dispatch is
 *   submitted; jax-js may recycle the buffer once x is disposed, but any later writer is submitted
 *   after riesz's dispatch on the same queue, which runs submissions in order;
 * - outputs are views of a fresh array from `np.zeros` (committed to `webgpu`), realised by the same
 *   call (one zero-filling kernel, or a small upload below 128 entries) and then overwritten by
 *   riesz's kernel, which jax-js's later kernels again follow in queue order. jax-js documents the
 *   buffer as not to be mutated: that holds for shared arrays; these are new and riesz's alone until
 *   returned. Intermediates no jax-js array needs (the backward's dZ) live in a riesz-owned scratch
 *   buffer.
 *
 * `wgslSupport()` checks that these entry points exist, so a jax-js upgrade that drops or renames them
 * turns the fused kernels off (the jax-js ops run instead) with a reason, rather than failing.
 */
import { defaultDevice, getWebGPUDevice, numpy as np } from '@jax-js/jax';
import type { Tensor } from '../taps.js';

/** The few WebGPU objects riesz touches, typed structurally (the project carries no WebGPU types). */
export interface GpuBufferLike {
  /** Bytes. */
  readonly size: number;
  /** Frees the buffer once queued work that uses it has finished. */
  destroy(): void;
  /** Mapped bytes of a buffer created `mappedAtCreation`. */
  getMappedRange(): ArrayBuffer;
  /** Ends the mapping. */
  unmap(): void;
}

/** A compute pipeline (opaque here beyond its bind-group layout). */
export interface GpuPipelineLike {
  /** The layout of bind group `index` ('auto' layouts). */
  getBindGroupLayout(index: number): unknown;
}

/** A compute pass encoder. */
interface GpuPassLike {
  setPipeline(p: GpuPipelineLike): void;
  setBindGroup(index: number, group: unknown): void;
  dispatchWorkgroups(x: number, y?: number, z?: number): void;
  end(): void;
}

/** A command encoder. */
export interface GpuEncoderLike {
  /** Begins a compute pass. */
  beginComputePass(): GpuPassLike;
  /** Finishes the commands. */
  finish(): unknown;
}

/** The part of `GPUDevice` riesz uses. */
export interface GpuDeviceLike {
  /** The device's limits (workgroups per dimension). */
  readonly limits: { maxComputeWorkgroupsPerDimension: number };
  /** The device's queue. */
  readonly queue: { submit(commands: unknown[]): void };
  /** Compiles WGSL. */
  createShaderModule(d: { code: string; label?: string }): unknown;
  /** Builds a compute pipeline. */
  createComputePipeline(d: {
    layout: 'auto';
    compute: { module: unknown; entryPoint: string };
  }): GpuPipelineLike;
  /** Creates a buffer. */
  createBuffer(d: { size: number; usage: number; mappedAtCreation?: boolean }): GpuBufferLike;
  /** Binds buffers to a pipeline's layout. */
  createBindGroup(d: {
    layout: unknown;
    entries: { binding: number; resource: { buffer: unknown } }[];
  }): unknown;
  /** Records commands. */
  createCommandEncoder(): GpuEncoderLike;
  /** Starts capturing errors. */
  pushErrorScope(filter: 'validation'): void;
  /** Ends capturing errors; resolves to the first error, or null. */
  popErrorScope(): Promise<{ message: string } | null>;
}

/** `GPUBufferUsage.UNIFORM | COPY_DST` (WebGPU's fixed flag values). */
const UNIFORM_USAGE = 0x0040 | 0x0008;

/**
 * Whether riesz's WGSL kernels can share jax-js's WebGPU device here: the default device is
 * `webgpu`, and jax-js exposes `getWebGPUDevice` and `Array.prototype.gpuBufferSync`. Returns null
 * when they can, else the reason. (Checked on every call: a few property look-ups.)
 */
export function wgslSupport(): string | null {
  if (defaultDevice() !== 'webgpu') return `the default device is ${defaultDevice()}, not webgpu`;
  const proto = (np.Array as unknown as { prototype: Record<string, unknown> }).prototype;
  if (typeof getWebGPUDevice !== 'function') return 'this jax-js has no getWebGPUDevice()';
  if (typeof proto.gpuBufferSync !== 'function') return 'this jax-js has no Array.gpuBufferSync()';
  try {
    getWebGPUDevice();
    return null;
  } catch (e) {
    return `jax-js's WebGPU device is not available: ${(e as Error).message}`;
  }
}

/** jax-js's GPUDevice (call after {@link wgslSupport} returned null). */
export function gpuDevice(): GpuDeviceLike {
  return getWebGPUDevice() as unknown as GpuDeviceLike;
}

/** Whether x is a concrete float32 jax-js array on WebGPU (not a tracer under jit or grad). */
export function isGpuArray(x: unknown): x is Tensor {
  return x instanceof np.Array && x.device === 'webgpu' && x.dtype === 'float32';
}

/**
 * The GPUBuffer behind x, after x's pending kernels are submitted. Borrows x: the caller keeps x
 * alive (undisposed) until the dispatch that reads the buffer has been submitted.
 */
export function bufferOf(x: Tensor): GpuBufferLike {
  return x.ref.gpuBufferSync() as unknown as GpuBufferLike;
}

/** A buffer bound at a byte offset and length (the whole buffer when neither is given). */
export interface GpuBinding {
  /** The buffer. */
  buffer: GpuBufferLike;
  /** Bytes from its start (a multiple of 256, WebGPU's largest storage-offset alignment). */
  offset?: number;
  /** Bytes bound. */
  size?: number;
}

/** Entries per segment are padded to this many (256 bytes, the largest storage-offset alignment). */
const SEGMENT_ALIGN = 64;

/**
 * New float32 arrays of these shapes on WebGPU, for one kernel call to write, and their bindings.
 * They share one allocation: a single `np.zeros` (one jax-js fill instead of one per output), each
 * array a view of its own 256-byte-aligned segment, the first at offset 0 (so that array is
 * contiguous and feeds the next fused call without a copy; later ones are offset views, which jax-js
 * operations read in place and a fused call would first copy). The allocation is freed when the
 * last view is. It is committed to `webgpu`, as jax-js's own results are when their inputs are
 * (training data and parameters on WebGPU are): an uncommitted result would let a later jax-js call
 * with an uncommitted argument on another device (a PRNG key on the CPU, say) move it off the GPU
 * through a synchronous read, which Node cannot do.
 */
export function outputArrays(shapes: number[][]): { arrays: Tensor[]; bindings: GpuBinding[] } {
  const sizes = shapes.map((s) => s.reduce((a, b) => a * b, 1));
  const offsets: number[] = [];
  let total = 0;
  for (const n of sizes) {
    offsets.push(total);
    total += Math.ceil(Math.max(1, n) / SEGMENT_ALIGN) * SEGMENT_ALIGN;
  }
  const whole = np.zeros([total], { dtype: np.float32, device: 'webgpu' });
  const buffer = bufferOf(whole);
  const arrays = shapes.map((shape, i) =>
    whole.ref.slice([offsets[i], offsets[i] + sizes[i]]).reshape(shape),
  );
  whole.dispose();
  const bindings = sizes.map((n, i) => ({ buffer, offset: offsets[i] * 4, size: Math.max(1, n) * 4 }));
  return { arrays, bindings };
}

/** A uniform buffer holding these u32 values (padded to 16 bytes); `floats` names the indices
 * written as f32 instead. */
export function uniformU32(device: GpuDeviceLike, values: number[], floats: number[] = []): GpuBufferLike {
  const words = Math.max(4, Math.ceil(values.length / 4) * 4);
  const buffer = device.createBuffer({ size: words * 4, usage: UNIFORM_USAGE, mappedAtCreation: true });
  const range = buffer.getMappedRange();
  const asU32 = new Uint32Array(range);
  const asF32 = new Float32Array(range);
  values.forEach((v, i) => {
    if (floats.includes(i)) asF32[i] = v;
    else asU32[i] = v;
  });
  buffer.unmap();
  return buffer;
}

/** `GPUBufferUsage.STORAGE`. */
const STORAGE_USAGE = 0x0080;
/** Each device's scratch buffer (riesz's own, never a jax-js array), grown to the largest request. */
const scratches = new WeakMap<object, GpuBufferLike>();

/**
 * A device-only buffer of at least `bytes` for intermediate results within one command buffer
 * (the backward's dZ). One per device, reused by every call: each call's reads and writes of it
 * lie in its own submission, and the queue runs submissions in order, so calls never overlap. A
 * larger request replaces it (the old one is freed once the work queued on it is done).
 */
export function scratchBuffer(device: GpuDeviceLike, bytes: number): GpuBufferLike {
  const size = Math.max(256, Math.ceil(bytes / 256) * 256);
  const have = scratches.get(device);
  if (have && have.size >= size) return have;
  have?.destroy();
  const fresh = device.createBuffer({ size: Math.max(size, (have?.size ?? 0) * 2), usage: STORAGE_USAGE });
  scratches.set(device, fresh);
  return fresh;
}

/** Compiled pipelines by WGSL source, per device. */
const pipelines = new WeakMap<object, Map<string, GpuPipelineLike>>();
/** Compilation or validation errors seen by the error scopes, by WGSL source. */
const pipelineErrors = new Map<string, string>();

/**
 * The compute pipeline of this WGSL source (entry point `main`), compiled once per device. A
 * compilation error reported by the device is remembered and thrown by the next request.
 */
export function pipeline(device: GpuDeviceLike, source: string): GpuPipelineLike {
  const failed = pipelineErrors.get(source);
  if (failed) throw new Error(`riesz WGSL kernel failed to compile: ${failed}`);
  let byDevice = pipelines.get(device);
  if (!byDevice) pipelines.set(device, (byDevice = new Map()));
  let p = byDevice.get(source);
  if (!p) {
    device.pushErrorScope('validation');
    const module = device.createShaderModule({ code: source, label: 'riesz-wgsl' });
    p = device.createComputePipeline({ layout: 'auto', compute: { module, entryPoint: 'main' } });
    device
      .popErrorScope()
      .then((e) => {
        if (e) pipelineErrors.set(source, e.message);
      })
      .catch(() => {});
    byDevice.set(source, p);
  }
  return p;
}

/** Records one compute pass: the pipeline, its buffers (or buffer ranges) bound in order (0, 1, …), the grid. */
export function encodePass(
  device: GpuDeviceLike,
  encoder: GpuEncoderLike,
  p: GpuPipelineLike,
  buffers: (GpuBufferLike | GpuBinding)[],
  grid: [number, number],
): void {
  const group = device.createBindGroup({
    layout: p.getBindGroupLayout(0),
    entries: buffers.map((b, binding) => ({ binding, resource: 'buffer' in b ? b : { buffer: b } })),
  });
  const pass = encoder.beginComputePass();
  pass.setPipeline(p);
  pass.setBindGroup(0, group);
  pass.dispatchWorkgroups(grid[0], grid[1]);
  pass.end();
}

/** A 1-D count of workgroups as a 2-D grid within the device's per-dimension limit: [x, y] with
 * x·y ≥ groups; the kernel's linear index is gid.y·(x·workgroup) + gid.x. */
export function linearGrid(device: GpuDeviceLike, groups: number): [number, number] {
  const max = device.limits.maxComputeWorkgroupsPerDimension;
  if (groups <= max) return [Math.max(1, groups), 1];
  const y = Math.ceil(groups / max);
  return [Math.ceil(groups / y), y];
}
