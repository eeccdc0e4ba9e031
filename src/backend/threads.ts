/**
 * Helper threads for the WebAssembly kernels in Node: worker_threads that share the kernels' linear
 * memory and wait on a control word (Atomics), so that the calling thread can hand over half a matrix
 * product and block until it is done — keeping riesz's linear algebra synchronous. Node only; the
 * browser lab keeps one thread (its main thread may not block).
 */
import { availableParallelism } from 'node:os';
import { Worker } from 'node:worker_threads';
import {
  type GemmJob,
  installParallelRunner,
  type ParallelRunner,
  wasmKernels,
} from '../linalg/wasm/runtime.js';

// Control words per helper (Int32): 0 sequence number of the posted job, 1 sequence number finished,
// 2 error flag; then 13 f64 arguments at byte 16 (the 13th picks the f64 or the f32 kernel).
const SLOT_BYTES = 128;

const WORKER_SOURCE = `
const { workerData } = require('node:worker_threads');
const { module, memory, control, slot } = workerData;
const instance = new WebAssembly.Instance(module, { env: { memory, abort() {} } });
const ctrl = new Int32Array(control, slot, 4);
const args = new Float64Array(control, slot + 16, 13);
let seen = 0;
for (;;) {
  Atomics.wait(ctrl, 0, seen);
  seen = Atomics.load(ctrl, 0);
  try {
    const kernel = args[12] === 1 ? instance.exports.sgemm : instance.exports.gemm;
    kernel(args[0], args[1], args[2], args[3], args[4], args[5], args[6], args[7], args[8], args[9], args[10], args[11]);
  } catch (e) {
    Atomics.store(ctrl, 2, 1);
  }
  Atomics.store(ctrl, 1, seen);
  Atomics.notify(ctrl, 1);
}
`;

let active: { runner: ParallelRunner; workers: Worker[] } | null = null;

/**
 * Starts `threads − 1` helper threads (default: the machine's parallelism) for large products.
 * Returns the number of threads now used (1 when WebAssembly kernels are unavailable).
 * @example enableThreads(2) // 2 on a machine with WebAssembly SIMD
 */
export function enableThreads(threads = availableParallelism()): number {
  disableThreads();
  const kern = wasmKernels();
  const helpers = Math.max(0, Math.floor(threads) - 1);
  if (!kern || helpers === 0) return 1;
  const control = new SharedArrayBuffer(SLOT_BYTES * helpers);
  const workers = Array.from({ length: helpers }, (_, h) => {
    const w = new Worker(WORKER_SOURCE, {
      eval: true,
      workerData: { module: kern.module, memory: kern.memory, control, slot: h * SLOT_BYTES },
    });
    w.unref(); // never keeps the process alive
    return w;
  });
  const ctrls = workers.map((_, h) => new Int32Array(control, h * SLOT_BYTES, 4));
  const args = workers.map((_, h) => new Float64Array(control, h * SLOT_BYTES + 16, 13));
  let posted = 0;
  const runner: ParallelRunner = {
    helpers,
    dispatch(jobs: GemmJob[]) {
      posted = jobs.length;
      jobs.forEach((job, h) => {
        args[h].set(job);
        Atomics.add(ctrls[h], 0, 1);
        Atomics.notify(ctrls[h], 0);
      });
    },
    wait() {
      let failed = false;
      for (let h = 0; h < posted; h++) {
        const target = Atomics.load(ctrls[h], 0);
        for (let done = Atomics.load(ctrls[h], 1); done !== target; done = Atomics.load(ctrls[h], 1)) {
          Atomics.wait(ctrls[h], 1, done, 1000);
        }
        if (Atomics.exchange(ctrls[h], 2, 0) !== 0) failed = true;
      }
      posted = 0;
      if (failed) throw new Error('a helper thread failed inside the WebAssembly matrix product');
    },
  };
  installParallelRunner(runner);
  active = { runner, workers };
  return 1 + helpers;
}

/** Stops the helper threads; products run on the calling thread again. */
export function disableThreads(): void {
  if (!active) return;
  installParallelRunner(null);
  for (const w of active.workers) void w.terminate();
  active = null;
}
