/**
 * A phase profiler for the training step (`bench/train --profile`): wall and CPU time (all threads
 * of the process) per named phase, accumulated while profiling is on and free when it is off. CPU
 * time is the figure to read on a loaded machine, where wall time also counts other processes.
 * jax-js's wasm device runs operations as they are issued, so a phase holds the work it issued.
 */
interface PhaseTotals {
  wallMs: number;
  cpuMs: number;
  calls: number;
}

let enabled = false;
// Browsers have no process CPU clock: there only wall time is kept (CPU reads as 0).
const cpuClock = (): number => {
  if (typeof process === 'undefined' || !process.cpuUsage) return 0;
  const c = process.cpuUsage();
  return (c.user + c.system) / 1000;
};
const totals = new Map<string, PhaseTotals>();
const stack: string[] = [];

/** Turns profiling on or off and clears the totals. */
export function setProfiling(on: boolean): void {
  enabled = on;
  totals.clear();
}

/**
 * Runs fn as the phase `name` (nested phases are named parent/child). When fn returns a promise, the
 * phase ends when it settles (phases of one step run one at a time, so the nesting stays right).
 */
export function phase<T>(name: string, fn: () => T): T {
  if (!enabled) return fn();
  const full = [...stack, name].join('/');
  stack.push(name);
  const w0 = performance.now();
  const c0 = cpuClock();
  const end = () => {
    const t = totals.get(full) ?? { wallMs: 0, cpuMs: 0, calls: 0 };
    t.wallMs += performance.now() - w0;
    t.cpuMs += cpuClock() - c0;
    t.calls++;
    totals.set(full, t);
    stack.pop();
  };
  let r: T;
  try {
    r = fn();
  } catch (e) {
    end();
    throw e;
  }
  if (r instanceof Promise) return r.finally(end) as T;
  end();
  return r;
}

/** The totals so far, by phase name. */
export function profileTotals(): Record<string, PhaseTotals> {
  return Object.fromEntries([...totals.entries()].map(([k, v]) => [k, { ...v }]));
}
