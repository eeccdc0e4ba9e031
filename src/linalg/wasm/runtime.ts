/**
 * The WebAssembly SIMD kernels (asm/kernels.ts) behind `gemmKernel`: instantiated once over a shared
 * linear memory, fed by copying operands in and results out (O(n²) against O(n³) work). Pure
 * WebAssembly and no host APIs, so it runs in Node and in browsers; when WebAssembly SIMD or shared
 * memory is missing, `wasmGemm` returns false and callers use the plain TypeScript kernel.
 *
 * Parallelism is injected: a host that can block on helper threads (Node's worker_threads, see
 * backend/threads.ts) installs a `ParallelRunner`, and large products are split by rows across it.
 */
import {
  DENSE_WASM_BASE64,
  EIGH_WASM_BASE64,
  KERNELS_FMA_WASM_BASE64,
  KERNELS_WASM_BASE64,
} from './kernels-binary.js';

interface KernelExports {
  gemm(
    m: number,
    n: number,
    k: number,
    a: number,
    lda: number,
    b: number,
    ldb: number,
    c: number,
    ldc: number,
    work: number,
    alpha: number,
    transA: number,
  ): void;
  sgemm: KernelExports['gemm'];
  gemmWorkBytes(): number;
  heapBase(): number;
  /** 1 for the relaxed-SIMD (fused multiply-add) build, 0 for the plain SIMD one. */
  fusedMultiplyAdd(): number;
}

/**
 * Arguments of one `gemm` call: [m, n, k, a, lda, b, ldb, c, ldc, work, alpha, transA], then 0 for
 * the f64 kernel or 1 for the f32 one.
 */
export type GemmJob = [
  number,
  number,
  number,
  number,
  number,
  number,
  number,
  number,
  number,
  number,
  number,
  number,
  number,
];

export interface ParallelRunner {
  /** Helper threads besides the calling one. */
  readonly helpers: number;
  /** Starts job i on helper i (jobs.length ≤ helpers). */
  dispatch(jobs: GemmJob[]): void;
  /** Blocks until every dispatched job has finished; throws if a helper failed. */
  wait(): void;
}

export interface WasmKernels {
  module: WebAssembly.Module;
  memory: WebAssembly.Memory;
  exports: KernelExports;
}

const PAGE = 65536;
/** Products smaller than this many multiply-adds stay in TypeScript (copying would dominate). */
const MIN_WORK = 32 * 32 * 32;
/** Products at least this large are split across helper threads. */
const MIN_PARALLEL_WORK = 128 * 128 * 128;

let kernels: WasmKernels | null | undefined;
let runner: ParallelRunner | null = null;
let enabled = true;

function decodeBase64(s: string): Uint8Array {
  const bin = atob(s);
  const out = new Uint8Array(bin.length);
  for (let i = 0; i < bin.length; i++) out[i] = bin.charCodeAt(i);
  return out;
}

// The smallest module that uses relaxed SIMD: () → v128, f32x4.relaxed_madd of three zero constants.
const V128_ZERO = [0xfd, 0x0c, ...new Array<number>(16).fill(0)];
const RELAXED_SIMD_PROBE = new Uint8Array(
  [
    [0x00, 0x61, 0x73, 0x6d, 0x01, 0x00, 0x00, 0x00], // magic, version
    [0x01, 0x05, 0x01, 0x60, 0x00, 0x01, 0x7b], // types: () → v128
    [0x03, 0x02, 0x01, 0x00], // one function of type 0
    [0x0a, 0x3d, 0x01, 0x3b, 0x00], // code: one body of 59 bytes, no locals
    V128_ZERO,
    V128_ZERO,
    V128_ZERO,
    [0xfd, 0x85, 0x02, 0x0b], // f32x4.relaxed_madd, end
  ].flat(),
);

let relaxedSimd: boolean | undefined;

/**
 * Whether this runtime runs relaxed-SIMD WebAssembly (the fused multiply-add GEMM). Node 20's V8 has
 * it behind `--experimental-wasm-relaxed-simd`: where the probe fails and `node:v8` is at hand, the
 * flag is turned on (process-wide; it only widens what WebAssembly validates, and helper threads see
 * it too) and the probe is tried again. `RIESZ_WASM_FMA=0` in the environment keeps the plain build.
 */
export function relaxedSimdAvailable(): boolean {
  if (relaxedSimd !== undefined) return relaxedSimd;
  const proc = (
    globalThis as {
      process?: { env?: Record<string, string | undefined>; getBuiltinModule?: (id: string) => unknown };
    }
  ).process;
  if (proc?.env?.RIESZ_WASM_FMA === '0') return (relaxedSimd = false);
  const probe = () => {
    try {
      return WebAssembly.validate(RELAXED_SIMD_PROBE as BufferSource);
    } catch {
      return false;
    }
  };
  relaxedSimd = probe();
  if (!relaxedSimd) {
    const v8 = proc?.getBuiltinModule?.('node:v8') as
      | { setFlagsFromString?(flags: string): void }
      | undefined;
    if (v8?.setFlagsFromString) {
      try {
        v8.setFlagsFromString('--experimental-wasm-relaxed-simd');
        relaxedSimd = probe();
      } catch {
        relaxedSimd = false;
      }
    }
  }
  return relaxedSimd;
}

/**
 * One build of the GEMM module on a fresh shared memory: `fma` picks the relaxed-SIMD build (null
 * where the runtime rejects it), otherwise the plain SIMD one (null without SIMD or shared memory).
 * The library runs on {@link wasmKernels}; this is for tests and benchmarks that compare the builds.
 */
export function instantiateGemmKernels(fma: boolean): WasmKernels | null {
  if (fma && !relaxedSimdAvailable()) return null;
  try {
    const module = new WebAssembly.Module(
      decodeBase64(fma ? KERNELS_FMA_WASM_BASE64 : KERNELS_WASM_BASE64) as BufferSource,
    );
    const memory = new WebAssembly.Memory({ initial: 16, maximum: 65536, shared: true });
    const instance = new WebAssembly.Instance(module, { env: { memory, abort: () => {} } });
    return { module, memory, exports: instance.exports as unknown as KernelExports };
  } catch {
    return null;
  }
}

/**
 * The instantiated kernels, or null where WebAssembly SIMD / shared memory is unavailable: the
 * relaxed-SIMD build where the runtime has relaxed SIMD, the plain SIMD build otherwise.
 */
export function wasmKernels(): WasmKernels | null {
  if (kernels !== undefined) return kernels;
  kernels = (relaxedSimdAvailable() ? instantiateGemmKernels(true) : null) ?? instantiateGemmKernels(false);
  return kernels;
}

/** Routes large products through the parallel runner (or back to one thread with null). */
export function installParallelRunner(r: ParallelRunner | null): void {
  runner = r;
}

/** Turns the WebAssembly path on or off (off: the TypeScript kernels, e.g. to compare them). */
export function setWasmEnabled(on: boolean): void {
  enabled = on;
}

/** The Wasm path's state: available, enabled, threads, and whether the GEMM uses fused multiply-adds. */
export function wasmStatus(): { available: boolean; enabled: boolean; threads: number; fma: boolean } {
  const kern = wasmKernels();
  return {
    available: kern !== null,
    enabled,
    threads: 1 + (runner?.helpers ?? 0),
    fma: kern !== null && kern.exports.fusedMultiplyAdd() === 1,
  };
}

function ensureBytes(memory: WebAssembly.Memory, end: number): void {
  const have = memory.buffer.byteLength;
  if (end > have) memory.grow(Math.ceil((end - have) / PAGE));
}

type Real = Float64Array | Float32Array;

/**
 * C[cOff…] += α·op(A)·B[bOff…] (op(A) m×k, B k×n, row-major with leading dimensions; op(A) = A, or
 * the transpose of the stored A when transA) in WebAssembly, in f64. Returns false, doing nothing,
 * when the product is small or the kernels are unavailable.
 */
export function wasmGemm(
  m: number,
  n: number,
  k: number,
  a: Float64Array,
  aOff: number,
  lda: number,
  b: Float64Array,
  bOff: number,
  ldb: number,
  c: Float64Array,
  cOff: number,
  ldc: number,
  alpha = 1,
  transA = false,
): boolean {
  return runGemm(8, m, n, k, a, aOff, lda, b, bOff, ldb, c, cOff, ldc, alpha, transA);
}

/**
 * `wasmGemm` for float32 arrays (float32 products and sums: for training, not for the geometry core).
 * With `lower`, C is taken to be symmetric and only (at least) its lower triangle is computed.
 */
export function wasmSgemm(
  m: number,
  n: number,
  k: number,
  a: Float32Array,
  aOff: number,
  lda: number,
  b: Float32Array,
  bOff: number,
  ldb: number,
  c: Float32Array,
  cOff: number,
  ldc: number,
  alpha = 1,
  transA = false,
  lower = false,
): boolean {
  return runGemm(4, m, n, k, a, aOff, lda, b, bOff, ldb, c, cOff, ldc, alpha, transA, lower);
}

function runGemm(
  bytes: 8 | 4,
  m: number,
  n: number,
  k: number,
  a: Real,
  aOff: number,
  lda: number,
  b: Real,
  bOff: number,
  ldb: number,
  c: Real,
  cOff: number,
  ldc: number,
  alpha: number,
  transA: boolean,
  lower = false,
): boolean {
  if (!enabled || m * n * k < MIN_WORK || Math.min(m, n, k) < 8) return false;
  const kern = wasmKernels();
  if (!kern) return false;
  const { memory, exports: x } = kern;
  const threads = runner && m * n * k >= MIN_PARALLEL_WORK && m >= 16 ? 1 + runner.helpers : 1;
  const align = (v: number) => Math.ceil(v / 64) * 64;
  const pa = align(scratchBase());
  const pb = align(pa + m * k * bytes);
  const pc = align(pb + k * n * bytes);
  const pw = align(pc + m * n * bytes);
  const workBytes = align(x.gemmWorkBytes());
  ensureBytes(memory, pw + threads * workBytes);
  const view = (): Real => (bytes === 8 ? new Float64Array(memory.buffer) : new Float32Array(memory.buffer));
  const heap = view();
  // A is copied as stored: m×k, or k×m when transposed.
  if (transA) copyIn(heap, pa / bytes, a, aOff, lda, k, m);
  else copyIn(heap, pa / bytes, a, aOff, lda, m, k);
  const ldaW = transA ? m : k;
  copyIn(heap, pb / bytes, b, bOff, ldb, k, n);
  copyIn(heap, pc / bytes, c, cOff, ldc, m, n);
  gemmOnPointers(bytes, m, n, k, pa, ldaW, pb, n, pc, n, { alpha, transA, lower }, pw);
  const out = view();
  for (let i = 0; i < m; i++) c.set(out.subarray(pc / bytes + i * n, pc / bytes + i * n + n), cOff + i * ldc);
  return true;
}

function copyIn(
  heap: Real,
  dst: number,
  src: Real,
  off: number,
  ld: number,
  rows: number,
  cols: number,
): void {
  if (ld === cols) {
    heap.set(src.subarray(off, off + rows * cols), dst);
    return;
  }
  for (let i = 0; i < rows; i++) heap.set(src.subarray(off + i * ld, off + i * ld + cols), dst + i * cols);
}

interface EighExports {
  sytrd(n: number, a: number, d: number, e: number, tau: number, work: number): void;
  secular(k: number, dd: number, zz: number, rho: number, sh: number, org: number, off: number): void;
  secularVectors(
    k: number,
    dd: number,
    zz: number,
    rho: number,
    org: number,
    off: number,
    pos: number,
    u: number,
    zhat: number,
    norms: number,
  ): void;
  eighHeapBase(): number;
}

let eighExports: EighExports | null | undefined;

/** asm/eigh.ts instantiated over the GEMM module's memory, or null where that is unavailable. */
function eighKernels(): EighExports | null {
  if (eighExports === undefined) eighExports = companion<EighExports>(EIGH_WASM_BASE64);
  return eighExports;
}

/** Another kernel module instantiated over the GEMM module's shared memory (null where it cannot be). */
function companion<T>(base64: string): T | null {
  const kern = wasmKernels();
  if (!kern) return null;
  try {
    const module = new WebAssembly.Module(decodeBase64(base64) as BufferSource);
    const instance = new WebAssembly.Instance(module, { env: { memory: kern.memory, abort: () => {} } });
    return instance.exports as unknown as T;
  } catch {
    return null;
  }
}

/**
 * Scratch in the shared Wasm memory for an algorithm that keeps its operands there and calls the
 * kernels on them directly (the symmetric eigensolver): `f64` views the whole memory, `base` is the
 * first byte the caller owns (64-aligned, `bytes` long). Valid until the next call of any Wasm kernel
 * entry in this module (they reuse the same bytes).
 */
export interface WasmArena {
  f64: Float64Array;
  base: number;
  /** C ← C + α·op(A)·B on byte pointers into the arena (`gemm`'s contract), split across threads when large. */
  gemm(
    m: number,
    n: number,
    k: number,
    pa: number,
    lda: number,
    pb: number,
    ldb: number,
    pc: number,
    ldc: number,
    alpha?: number,
    transA?: boolean,
  ): void;
  /** The eigensolver's kernels (asm/eigh.ts: `sytrd`, `secular`, `secularVectors`); pointers are bytes. */
  eigh: Pick<EighExports, 'sytrd' | 'secular' | 'secularVectors'>;
}

/** An arena of `bytes` bytes, or null when the Wasm path is off or unavailable (or too small a memory). */
export function wasmArena(bytes: number): WasmArena | null {
  if (!enabled) return null;
  const kern = wasmKernels();
  const eig = eighKernels();
  if (!kern || !eig) return null;
  const { memory, exports: x } = kern;
  const align = (v: number) => Math.ceil(v / 64) * 64;
  const threads = 1 + (runner?.helpers ?? 0);
  const workBytes = align(x.gemmWorkBytes());
  const pw = align(Math.max(scratchBase(), eig.eighHeapBase()));
  const base = align(pw + threads * workBytes);
  if (base + bytes > 65536 * PAGE) return null;
  try {
    ensureBytes(memory, base + bytes);
  } catch {
    return null; // the host refused to grow the memory: callers take their TypeScript path
  }
  const gemm: WasmArena['gemm'] = (m, n, k, pa, lda, pb, ldb, pc, ldc, alpha = 1, transA = false) =>
    gemmOnPointers(8, m, n, k, pa, lda, pb, ldb, pc, ldc, { alpha, transA }, pw);
  return { f64: new Float64Array(memory.buffer), base, gemm, eigh: eig };
}

// ---------------------------------------------------------------------------------------------
// The dense-layer engine's workspace: f32 buffers that stay in the shared memory for a whole
// training step, below the scratch that the copying entries above reuse on every call.

interface DenseExports {
  activate(kind: number, y: number, n: number): void;
  activationBackward(kind: number, d: number, y: number, n: number): void;
  columnSums(x: number, rows: number, cols: number, out: number): void;
  sigmoidCrossEntropy(
    z: number,
    t: number,
    rows: number,
    cols: number,
    g: number,
    scale: number,
    out: number,
  ): void;
  sigmoid(z: number, n: number): void;
  sigmoidFisherQuadratic(z: number, d: number, n: number, out: number): void;
  adamUpdate(
    p: number,
    g: number,
    m: number,
    v: number,
    u: number,
    n: number,
    b1: number,
    a1: number,
    b2: number,
    a2: number,
    eps: number,
    r1: number,
    r2: number,
    wd: number,
    nlr: number,
  ): void;
  momentumUpdate(
    g: number,
    m: number,
    u: number,
    n: number,
    decay: number,
    nlr: number,
    nesterov: number,
  ): void;
  denseHeapBase(): number;
}

let denseExports: DenseExports | null | undefined;
let workspaceBytes = 0;
let workspaceGeneration = 0;

function workspaceStart(): number {
  const x = wasmKernels()!.exports;
  return Math.ceil(Math.max(x.heapBase(), denseExports?.denseHeapBase() ?? 0) / 64) * 64;
}

/** The first byte the copying entries (`wasmGemm`, arenas) may use: after the engine's workspace. */
function scratchBase(): number {
  const x = wasmKernels()!.exports;
  return workspaceBytes > 0 ? workspaceStart() + workspaceBytes : x.heapBase();
}

function denseKernels(): DenseExports | null {
  if (denseExports === undefined) denseExports = companion<DenseExports>(DENSE_WASM_BASE64);
  return denseExports;
}

/** The dense kernels (asm/dense.ts) on byte pointers into the shared memory. */
export type DenseKernels = Omit<DenseExports, 'denseHeapBase'>;

/**
 * f32 scratch in the shared memory for a pass that copies its operands in, runs the dense kernels on
 * them in place and copies the results out (the fused optimizer updates). It lies after the engine's
 * workspace, so a step's buffers stay put, and is valid until the next call of a copying entry
 * (`wasmGemm`, `wasmSgemm`, {@link wasmArena}, this).
 */
export interface F32Scratch {
  /** First byte (64-aligned) of at least the bytes asked for. */
  base: number;
  /** A fresh f32 view of the whole memory (views go stale when the memory grows). */
  heap(): Float32Array;
  kernels: DenseKernels;
}

/** Scratch of `bytes` bytes, or null when the Wasm path is off or unavailable (or the memory too small). */
export function f32Scratch(bytes: number): F32Scratch | null {
  if (!enabled) return null;
  const kern = wasmKernels();
  const dense = denseKernels();
  if (!kern || !dense) return null;
  const { memory } = kern;
  const base = Math.ceil(scratchBase() / 64) * 64;
  if (base + bytes > 65536 * PAGE) return null;
  try {
    ensureBytes(memory, base + bytes);
  } catch {
    return null; // the host refused to grow the memory: callers take their jax-js path
  }
  return { base, heap: () => new Float32Array(memory.buffer), kernels: dense };
}

/** Options of {@link F32Workspace.sgemm}. */
export interface SgemmFlags {
  alpha?: number;
  /** op(A) = Aᵀ of the stored A (k×m). */
  transA?: boolean;
  /** op(B) = Bᵀ of the stored B (n×k). */
  transB?: boolean;
  /** C is symmetric: only its lower triangle is computed (mirror it yourself). */
  lower?: boolean;
}

/**
 * C += α·op(A)·op(B) on byte pointers into the shared memory, f64 (`bytes` 8) or f32 (4), with the
 * kernels' scratch from `pw` on. Large products are split by rows across the helper threads, in
 * multiples of 4 rows; a lower triangle's work grows with the row, so its bounds follow √(i/t).
 * Only the f32 kernel has transB and lower (its flags carry the chunk's first row for lower).
 */
function gemmOnPointers(
  bytes: 8 | 4,
  m: number,
  n: number,
  k: number,
  pa: number,
  lda: number,
  pb: number,
  ldb: number,
  pc: number,
  ldc: number,
  { alpha = 1, transA = false, transB = false, lower = false }: SgemmFlags,
  pw: number,
): void {
  if (m <= 0 || n <= 0 || k <= 0) return;
  const { memory, exports: x } = wasmKernels()!;
  const kernel = bytes === 8 ? x.gemm : x.sgemm;
  const bits = (transA ? 1 : 0) | (transB ? 2 : 0) | (lower ? 4 : 0);
  const flagsAt = (r0: number) => (bytes === 8 ? bits & 1 : bits + r0 * 8);
  const workBytes = Math.ceil(x.gemmWorkBytes() / 64) * 64;
  const r = runner;
  const t = r && m * n * k >= MIN_PARALLEL_WORK && m >= 16 ? 1 + r.helpers : 1;
  ensureBytes(memory, pw + t * workBytes);
  const bounds = Array.from({ length: t + 1 }, (_, i) =>
    i === t ? m : Math.min(m, Math.ceil((m * (lower ? Math.sqrt(i / t) : i / t)) / 4) * 4),
  );
  const job = (h: number): GemmJob => {
    const r0 = bounds[h];
    const aStart = pa + (transA ? r0 : r0 * lda) * bytes;
    const cStart = pc + r0 * ldc * bytes;
    return [
      bounds[h + 1] - r0,
      n,
      k,
      aStart,
      lda,
      pb,
      ldb,
      cStart,
      ldc,
      pw + h * workBytes,
      alpha,
      flagsAt(r0),
      bytes === 8 ? 0 : 1,
    ];
  };
  const jobs = Array.from({ length: t - 1 }, (_, h) => job(h + 1)).filter((j) => j[0] > 0);
  if (jobs.length > 0) r!.dispatch(jobs);
  let failure: unknown = null;
  try {
    const [rows, , , a0, , , , c0, , w0, , fl] = job(0);
    if (rows > 0) kernel(rows, n, k, a0, lda, pb, ldb, c0, ldc, w0, alpha, fl);
  } catch (e) {
    failure = e;
  }
  if (jobs.length > 0) r!.wait();
  if (failure) throw failure;
}

/**
 * f32 buffers in the shared Wasm memory, by byte pointer, and the kernels that work on them in
 * place: the GEMM (threaded when large) and the dense engine's elementwise passes (asm/dense.ts).
 * Valid until the next {@link f32Workspace} call asks for more bytes (`generation` then changes).
 */
export interface F32Workspace {
  /** First byte (64-aligned) and size of the caller's region. */
  base: number;
  bytes: number;
  /** Changes whenever the region is laid out again; buffers of an older generation are gone. */
  generation: number;
  /** A fresh f32 view of the whole memory (views go stale when the memory grows). */
  heap(): Float32Array;
  /** C += α·op(A)·op(B) on byte pointers (leading dimensions in elements). */
  sgemm(
    m: number,
    n: number,
    k: number,
    pa: number,
    lda: number,
    pb: number,
    ldb: number,
    pc: number,
    ldc: number,
    flags?: SgemmFlags,
  ): void;
  kernels: DenseKernels;
}

/**
 * The engine's workspace of at least `bytes` bytes, or null without the Wasm kernels (callers take
 * their jax-js path). Growing it lays it out again (a new generation); asking for no more keeps it.
 */
export function f32Workspace(bytes: number): F32Workspace | null {
  if (!enabled) return null;
  const kern = wasmKernels();
  const dense = denseKernels();
  if (!kern || !dense) return null;
  const need = Math.ceil(bytes / 64) * 64;
  if (need > workspaceBytes) {
    const threads = 1 + (runner?.helpers ?? 0);
    const end = workspaceStart() + need;
    if (end + threads * kern.exports.gemmWorkBytes() + 1024 > 65536 * PAGE) return null;
    try {
      ensureBytes(kern.memory, end);
    } catch {
      return null;
    }
    workspaceBytes = need;
    workspaceGeneration++;
  }
  const { memory } = kern;
  const sgemm: F32Workspace['sgemm'] = (m, n, k, pa, lda, pb, ldb, pc, ldc, flags = {}) =>
    gemmOnPointers(4, m, n, k, pa, lda, pb, ldb, pc, ldc, flags, Math.ceil(scratchBase() / 64) * 64);
  return {
    base: workspaceStart(),
    bytes: workspaceBytes,
    generation: workspaceGeneration,
    heap: () => new Float32Array(memory.buffer),
    sgemm,
    kernels: dense,
  };
}
