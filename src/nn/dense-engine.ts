/**
 * The MLP's training step on riesz's own WebAssembly kernels (the CPU engine): one forward/backward
 * of a dense network with every buffer in the shared Wasm memory for the whole step — the GEMMs
 * write into the layer buffers (the bias is their starting value), the activations, their
 * derivatives, the bias gradients and the loss are single SIMD passes over those buffers
 * (asm/dense.ts), and nothing goes through jax-js but the parameters in, the results out and the
 * Fisher's sampled targets (jax-js's random streams, so both paths sample the same targets).
 *
 * It computes what `mlpLossAndGrads` computes (tested against it to f32 tolerance in
 * dense-engine.test.ts) and stands in for it on the wasm and cpu devices; WebGPU and traced calls
 * keep the jax-js path.
 */
import { numpy as np, random } from '@jax-js/jax';
import { phase } from '../backend/profile.js';
import type { CurvatureTap, ParamDict, Tensor } from '../backend/taps.js';
import { type F32Workspace, f32Workspace } from '../linalg/wasm/runtime.js';
import type { FisherKind, KeptForward, LossAndGrads } from './fisher.js';
import type { Activation } from './layers.js';
import type { Loss } from './losses.js';

/** What the engine needs of an MLP: widths and each layer's activation (`fc{i}` naming). */
export interface DenseNet {
  sizes: number[];
  activations: Activation[];
}

const ACTIVATION_CODE: Record<Activation, number> = { identity: 0, relu: 1, tanh: 2, sigmoid: 3 };

let engineOn = true;
/** Engine calls so far: a step's kept buffers are valid until the next call lays new data over them. */
let engineCalls = 0;

/** Turns the engine off (the jax-js path then runs everywhere), e.g. to compare the two. */
export function setDenseEngine(on: boolean): void {
  engineOn = on;
}

/** Whether the engine is switched on (see {@link setDenseEngine}). */
export function denseEngineEnabled(): boolean {
  return engineOn;
}

/** A bump allocator over the workspace: f32 offsets (elements) of 16-element-aligned buffers. */
class Layout {
  private next = 0;
  take(n: number): number {
    const at = this.next;
    this.next += Math.ceil(n / 16) * 16;
    return at;
  }
  get elements(): number {
    return this.next;
  }
}

interface Buffers {
  /** Element offsets: weights and biases per layer, layer inputs (h[0] = x) and outputs (h[i+1]). */
  w: number[];
  b: number[];
  h: number[];
  dw: number[];
  db: number[];
  /** Two B×maxWidth buffers for ∂L/∂s, and the targets. */
  d: [number, number];
  t: number;
  /** One direction's parameters for the tangents, and f64 scratch for the kernels' sums. */
  dirW: number[];
  dirB: number[];
  sums: number;
  /** Scratch for one layer's factor statistics (the widest square). */
  gram: number;
}

function layoutFor(net: DenseNet, batch: number): { buffers: Buffers; elements: number } {
  const L = net.sizes.length - 1;
  const lay = new Layout();
  const per = (f: (i: number) => number) => Array.from({ length: L }, (_, i) => lay.take(f(i)));
  const s = net.sizes;
  const w = per((i) => s[i + 1] * s[i]);
  const b = per((i) => s[i + 1]);
  const h = Array.from({ length: L + 1 }, (_, i) => lay.take(batch * s[i]));
  const dw = per((i) => s[i + 1] * s[i]);
  const db = per((i) => s[i + 1]);
  const widest = Math.max(...s);
  const d: [number, number] = [lay.take(batch * widest), lay.take(batch * widest)];
  const t = lay.take(batch * s[L]);
  const dirW = per((i) => s[i + 1] * s[i]);
  const dirB = per((i) => s[i + 1]);
  const sums = lay.take(16);
  const gram = lay.take(widest * widest);
  return { buffers: { w, b, h, dw, db, d, t, dirW, dirB, sums, gram }, elements: lay.elements };
}

/** A step's engine: the workspace, its layout and the network, with the passes as methods. */
class DenseStep {
  readonly generation: number;
  readonly call = ++engineCalls;
  constructor(
    readonly ws: F32Workspace,
    readonly net: DenseNet,
    readonly batch: number,
    readonly buf: Buffers,
  ) {
    this.generation = ws.generation;
  }

  /** The kernels, each call a profiler phase (bench/train --profile). */
  private gemm(...args: Parameters<F32Workspace['sgemm']>): void {
    phase('gemm', () => this.ws.sgemm(...args));
  }
  private readonly k: F32Workspace['kernels'] = new Proxy({} as F32Workspace['kernels'], {
    get:
      (_, name: keyof F32Workspace['kernels']) =>
      (...args: number[]) =>
        phase('elementwise', () => (this.ws.kernels[name] as (...a: number[]) => void)(...args)),
  });

  private get L() {
    return this.net.sizes.length - 1;
  }
  private ptr(offset: number): number {
    return this.ws.base + offset * 4;
  }
  private heap(): Float32Array {
    return this.ws.heap();
  }
  /** Copies a host array into the buffer at `offset`. */
  write(offset: number, data: Float32Array): void {
    phase('copies', () => this.heap().set(data, this.ws.base / 4 + offset));
  }
  /** A copy of n values at `offset`. */
  read(offset: number, n: number): Float32Array {
    const at = this.ws.base / 4 + offset;
    return phase('copies', () => this.heap().slice(at, at + n));
  }
  assertCurrent(): void {
    if (this.ws.generation !== this.generation)
      throw new Error('dense engine: the workspace was laid out again while a step still held it');
    if (engineCalls !== this.call)
      throw new Error('dense engine: another engine call overwrote the buffers a step still held');
  }

  /** h[i+1] = f(h[i]·Wᵢᵀ + bᵢ) for every layer: the bias rows first, the GEMM adds onto them. */
  forward(): void {
    const { sizes, activations } = this.net;
    const B = this.batch;
    const { w, b, h } = this.buf;
    for (let i = 0; i < this.L; i++) {
      const [nin, nout] = [sizes[i], sizes[i + 1]];
      const heap = this.heap();
      const base = this.ws.base / 4;
      const bias = heap.subarray(base + b[i], base + b[i] + nout);
      for (let r = 0; r < B; r++) heap.set(bias, base + h[i + 1] + r * nout);
      this.gemm(B, nout, nin, this.ptr(h[i]), nin, this.ptr(w[i]), nin, this.ptr(h[i + 1]), nout, {
        transB: true,
      });
      this.k.activate(ACTIVATION_CODE[activations[i]], this.ptr(h[i + 1]), B * nout);
    }
  }

  /**
   * Backward from ∂L/∂out, which is in d[0]: per layer ds = f'(s) ⊙ dy in place, then ∂W = dsᵀh,
   * ∂b = Σ ds and ∂h = ds·W into the other d buffer. `onLayer(i, ds)` sees each layer's ds (the
   * taps' g) before the buffers swap. With `tapsOnly` the weight gradients are skipped. `rows`
   * (default the batch) runs it on the batch's leading rows only (the curvature subset).
   */
  backward(tapsOnly: boolean, onLayer?: (i: number, dsOffset: number) => void, rows = this.batch): void {
    const { sizes, activations } = this.net;
    const B = rows;
    const { w, h, dw, db, d } = this.buf;
    let cur = 0;
    for (let i = this.L - 1; i >= 0; i--) {
      const [nin, nout] = [sizes[i], sizes[i + 1]];
      const ds = d[cur];
      this.k.activationBackward(ACTIVATION_CODE[activations[i]], this.ptr(ds), this.ptr(h[i + 1]), B * nout);
      onLayer?.(i, ds);
      if (!tapsOnly) {
        this.heap().fill(0, this.ws.base / 4 + dw[i], this.ws.base / 4 + dw[i] + nout * nin);
        this.gemm(nout, nin, B, this.ptr(ds), nout, this.ptr(h[i]), nin, this.ptr(dw[i]), nin, {
          transA: true,
        });
        this.k.columnSums(this.ptr(ds), B, nout, this.ptr(db[i]));
      }
      if (i > 0) {
        const dx = d[1 - cur];
        this.heap().fill(0, this.ws.base / 4 + dx, this.ws.base / 4 + dx + B * nin);
        this.gemm(B, nin, nout, this.ptr(ds), nout, this.ptr(w[i]), nin, this.ptr(dx), nin);
        cur = 1 - cur;
      }
    }
  }

  /**
   * Output tangent J·d for one direction (its weights and biases in dirW/dirB): forward mode
   * through the kept layer outputs, ds = dh·Wᵀ + h·dWᵀ + db, dh' = f'(s) ⊙ ds. Returns the offset of
   * the B×out result (one of the d buffers). `rows` (default the batch): the leading rows only.
   */
  tangent(rows = this.batch): number {
    const { sizes, activations } = this.net;
    const B = rows;
    const { w, h, d, dirW, dirB } = this.buf;
    let prev = -1;
    let cur = 0;
    for (let i = 0; i < this.L; i++) {
      const [nin, nout] = [sizes[i], sizes[i + 1]];
      const out = d[cur];
      const heap = this.heap();
      const base = this.ws.base / 4;
      const bias = heap.subarray(base + dirB[i], base + dirB[i] + nout);
      for (let r = 0; r < B; r++) heap.set(bias, base + out + r * nout);
      this.gemm(B, nout, nin, this.ptr(h[i]), nin, this.ptr(dirW[i]), nin, this.ptr(out), nout, {
        transB: true,
      });
      if (prev >= 0)
        this.gemm(B, nout, nin, this.ptr(prev), nin, this.ptr(w[i]), nin, this.ptr(out), nout, {
          transB: true,
        });
      this.k.activationBackward(ACTIVATION_CODE[activations[i]], this.ptr(out), this.ptr(h[i + 1]), B * nout);
      prev = out;
      cur = 1 - cur;
    }
    return prev;
  }

  /**
   * XᵀX (cols×cols) of the rows×cols buffer at `offset`, scaled by α: the lower triangle by the
   * GEMM's half-work mode, mirrored. K-FAC's factor statistics without leaving the workspace.
   */
  gramOf(offset: number, rows: number, cols: number, alpha = 1): Float32Array {
    const out = this.buf.gram;
    this.heap().fill(0, this.ws.base / 4 + out, this.ws.base / 4 + out + cols * cols);
    this.gemm(cols, cols, rows, this.ptr(offset), cols, this.ptr(offset), cols, this.ptr(out), cols, {
      transA: true,
      lower: true,
      alpha,
    });
    const G = this.read(out, cols * cols);
    for (let i = 0; i < cols; i++) for (let j = i + 1; j < cols; j++) G[i * cols + j] = G[j * cols + i];
    return G;
  }

  /** Column sums of the rows×cols buffer at `offset`. */
  columnSums(offset: number, rows: number, cols: number): Float32Array {
    this.k.columnSums(this.ptr(offset), rows, cols, this.ptr(this.buf.gram));
    return this.read(this.buf.gram, cols);
  }

  /**
   * The loss's value and ∂(mean loss)/∂out into d[0] (and the squared error, where defined), over
   * the batch's leading `rows` (default all of it; the mean is over those rows).
   */
  lossAndGradient(
    loss: Loss,
    targets: Float32Array | Int32Array,
    rows = this.batch,
  ): { value: number; sse?: number } {
    const B = rows;
    const C = this.net.sizes[this.L];
    const out = this.buf.h[this.L];
    const g = this.buf.d[0];
    if (loss.name === 'sigmoid-cross-entropy') {
      this.write(this.buf.t, targets as Float32Array);
      this.k.sigmoidCrossEntropy(
        this.ptr(out),
        this.ptr(this.buf.t),
        B,
        C,
        this.ptr(g),
        1 / B,
        this.ptr(this.buf.sums),
      );
      const sums = new Float64Array(this.heap().buffer, this.ptr(this.buf.sums), 2);
      return { value: sums[0] / B, sse: sums[1] / B };
    }
    const heap = this.heap();
    const base = this.ws.base / 4;
    let total = 0;
    if (loss.name === 'squared-error') {
      for (let k = 0; k < B * C; k++) {
        const r = heap[base + out + k] - targets[k];
        total += r * r;
        heap[base + g + k] = r / B;
      }
      return { value: (0.5 * total) / B };
    }
    // Softmax cross-entropy against integer labels, row by row with the max subtracted.
    for (let r = 0; r < B; r++) {
      const z = base + out + r * C;
      let max = Number.NEGATIVE_INFINITY;
      for (let j = 0; j < C; j++) max = Math.max(max, heap[z + j]);
      let sum = 0;
      for (let j = 0; j < C; j++) sum += Math.exp(heap[z + j] - max);
      const label = targets[r];
      total += Math.log(sum) + max - heap[z + label];
      for (let j = 0; j < C; j++)
        heap[base + g + r * C + j] = (Math.exp(heap[z + j] - max) / sum - (j === label ? 1 : 0)) / B;
    }
    return { value: total / B };
  }
}

/**
 * The network's outputs for x on the engine: one forward pass in the workspace (borrows params,
 * consumes x), or null — x untouched — where the engine cannot run (the caller takes the jax-js
 * path). It reuses the buffers of the last step, so a step's kept forward pass (its tangents) is
 * over after it.
 */
export function densePredict(params: ParamDict, x: Tensor, net: DenseNet): Tensor | null {
  if (!engineOn) return null;
  const B = x.shape[0];
  const { buffers, elements } = layoutFor(net, B);
  const ws = f32Workspace(elements * 4);
  if (!ws) return null;
  const e = new DenseStep(ws, net, B, buffers);
  const L = net.sizes.length - 1;
  for (let i = 0; i < L; i++) {
    e.write(buffers.w[i], params[`fc${i}.w`].ref.dataSync() as Float32Array);
    e.write(buffers.b[i], params[`fc${i}.b`].ref.dataSync() as Float32Array);
  }
  e.write(buffers.h[0], x.dataSync() as Float32Array);
  e.forward();
  const C = net.sizes[L];
  return np.array(e.read(buffers.h[L], B * C)).reshape([B, C]);
}

/**
 * The engine's stand-in for `mlpLossAndGrads` (same contract: borrows params, consumes x, targets
 * and key), or null when it cannot run here (no Wasm kernels, or the engine is off): the caller then
 * takes the jax-js path.
 */
export function denseLossAndGrads(
  params: ParamDict,
  x: Tensor,
  targets: Tensor,
  net: DenseNet,
  loss: Loss,
  {
    fisher = 'none',
    key,
    keepForward = false,
    curvatureRows,
  }: { fisher?: FisherKind; key?: Tensor; keepForward?: boolean; curvatureRows?: number } = {},
): LossAndGrads | null {
  if (!engineOn) return null;
  const fromJax = (t: Tensor) => phase('from-jax', () => t.dataSync());
  const B = x.shape[0];
  // The curvature subset: the sampled-target pass (the 'true' Fisher's taps) and the kept forward
  // pass's outputs and tangents use the batch's first S rows; the loss and gradients use all B.
  const S = curvatureRows === undefined ? B : Math.max(1, Math.min(B, Math.floor(curvatureRows)));
  const { buffers, elements } = layoutFor(net, B);
  const ws = f32Workspace(elements * 4);
  if (!ws) return null;
  const e = new DenseStep(ws, net, B, buffers);
  const L = net.sizes.length - 1;
  const name = (i: number) => `fc${i}`;
  for (let i = 0; i < L; i++) {
    e.write(buffers.w[i], fromJax(params[`${name(i)}.w`].ref) as Float32Array);
    e.write(buffers.b[i], fromJax(params[`${name(i)}.b`].ref) as Float32Array);
  }
  const xs = fromJax(x) as Float32Array;
  e.write(buffers.h[0], xs);
  const labels = fromJax(targets) as Float32Array | Int32Array;
  e.forward();
  const sizes = net.sizes;
  const upload = (offset: number, rows: number, cols: number) =>
    phase('to-jax', () => np.array(e.read(offset, rows * cols)).reshape([rows, cols]));

  let taps: Record<string, CurvatureTap> | undefined;
  const tapsFromPass = (sampledGradient: boolean, R: number) => {
    const collected: Record<string, CurvatureTap> = {};
    e.backward(
      sampledGradient,
      (i, ds) => {
        const g = e.read(ds, R * sizes[i + 1]);
        for (let k = 0; k < g.length; k++) g[k] *= R;
        // g = R·ds, so gᵀg = R²·dsᵀds.
        const sums = {
          aa: e.gramOf(buffers.h[i], R, sizes[i]),
          a: e.columnSums(buffers.h[i], R, sizes[i]),
          gg: e.gramOf(ds, R, sizes[i + 1], R * R),
        };
        collected[`${name(i)}.w`] = {
          a: upload(buffers.h[i], R, sizes[i]),
          g: np.array(g).reshape([R, sizes[i + 1]]),
          sums,
        };
      },
      sampledGradient ? R : B,
    );
    return collected;
  };
  if (fisher === 'true') {
    const sampled = loss.sample(key ?? random.key(0), upload(buffers.h[L], S, sizes[L]));
    e.lossAndGradient(loss, fromJax(sampled) as Float32Array | Int32Array, S);
    taps = tapsFromPass(true, S);
  } else key?.dispose();
  const { value, sse } = e.lossAndGradient(loss, labels);
  if (fisher === 'empirical') taps = tapsFromPass(false, B);
  else e.backward(false);
  const grads: ParamDict = {};
  for (let i = 0; i < L; i++) {
    grads[`${name(i)}.w`] = upload(buffers.dw[i], sizes[i + 1], sizes[i]);
    grads[`${name(i)}.b`] = np.array(e.read(buffers.db[i], sizes[i + 1]));
  }
  let forward: KeptForward | undefined;
  if (keepForward) {
    const out = upload(buffers.h[L], S, sizes[L]);
    forward = {
      out,
      tangents: (dirs) =>
        dirs.map((d) => {
          e.assertCurrent();
          for (let i = 0; i < L; i++) {
            e.write(buffers.dirW[i], fromJax(d[`${name(i)}.w`].ref) as Float32Array);
            e.write(buffers.dirB[i], fromJax(d[`${name(i)}.b`].ref) as Float32Array);
          }
          return upload(e.tangent(S), S, sizes[L]);
        }),
      dispose: () => out.dispose(),
    };
  }
  return {
    loss: np.array([value]).reshape([]),
    grads,
    taps,
    sse: sse === undefined ? undefined : np.array([sse]).reshape([]),
    forward,
  };
}
