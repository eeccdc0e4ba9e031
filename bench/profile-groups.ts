/**
 * Groups the phases of a `bench/train --profile` run (src/backend/profile.ts: nested phases are named
 * parent/child) into what issue 9 asks a step's time to be split into: GEMM, elementwise kernels,
 * copies between jax-js and the kernels' memory, jax-js operations and their dispatch, and K-FAC's
 * factors, inverses, preconditioning and Fisher products (with the GEMMs inside them). Each phase
 * counts its self time (its time
 * less its child phases'), so that the groups add up to the profiled time; the time outside every
 * phase (batch gathering, the bench's own wait) is its own group.
 */

/** One phase's totals per step. */
export interface PhaseRow {
  name: string;
  wallMs: number;
  cpuMs: number;
  calls: number;
}

/** One group's self time per step. */
export interface GroupRow {
  group: string;
  wallMs: number;
  cpuMs: number;
}

/** K-FAC's parts: a phase under one of them counts for it, whatever it is (a GEMM of the Fisher
 * products is Fisher-product time). */
const KFAC_GROUP: Record<string, string> = {
  factors: 'K-FAC factors (AᵀA, GᵀG)',
  inverses: 'K-FAC inverses (refreshes)',
  precondition: 'K-FAC preconditioning',
  'fisher-products': 'K-FAC Fisher products (JVPs)',
  'trial-loss': 'K-FAC trial loss (forward)',
  dots: 'K-FAC dots',
};
/** Other phases by their last name segment; any other phase's self time is jax-js work. */
const GROUP_OF: Record<string, string> = {
  gemm: 'GEMM (CPU engine)',
  elementwise: 'elementwise kernels (CPU engine)',
  copies: 'copies (engine memory)',
  'from-jax': 'copies (jax-js ↔ engine)',
  'to-jax': 'copies (jax-js ↔ engine)',
  // jax-js queues its operations: a read waits for what was queued (under jit, the whole
  // forward/backward; in eager steps, the update's elementwise work).
  'read-loss': 'queued jax-js work (waited for at the loss read)',
  'wait-step': 'queued jax-js work (waited for at the step end)',
};

/** The group of a phase named by its path. */
export function groupOf(name: string): string {
  const path = name.split('/');
  const kfac = path.find((p) => KFAC_GROUP[p] !== undefined);
  if (kfac) return KFAC_GROUP[kfac];
  return GROUP_OF[path[path.length - 1]] ?? JAX_GROUP;
}
export const JAX_GROUP = 'jax-js ops and dispatch';
export const OUTSIDE_GROUP = 'outside any phase';

/**
 * Self time per group, largest first. `stepWallMs`/`stepCpuMs`: the whole step's times, whose part
 * outside the top-level phases becomes OUTSIDE_GROUP (omitted when not given).
 */
export function groupProfile(rows: PhaseRow[], stepWallMs?: number, stepCpuMs?: number): GroupRow[] {
  const groups = new Map<string, GroupRow>();
  const add = (group: string, wallMs: number, cpuMs: number) => {
    const g = groups.get(group) ?? { group, wallMs: 0, cpuMs: 0 };
    g.wallMs += wallMs;
    g.cpuMs += cpuMs;
    groups.set(group, g);
  };
  for (const r of rows) {
    const children = rows.filter(
      (c) => c.name.startsWith(`${r.name}/`) && !c.name.slice(r.name.length + 1).includes('/'),
    );
    const wall = r.wallMs - children.reduce((s, c) => s + c.wallMs, 0);
    const cpu = r.cpuMs - children.reduce((s, c) => s + c.cpuMs, 0);
    add(groupOf(r.name), wall, cpu);
  }
  if (stepWallMs !== undefined) {
    const top = rows.filter((r) => !r.name.includes('/'));
    add(
      OUTSIDE_GROUP,
      stepWallMs - top.reduce((s, r) => s + r.wallMs, 0),
      stepCpuMs === undefined ? 0 : stepCpuMs - top.reduce((s, r) => s + r.cpuMs, 0),
    );
  }
  return [...groups.values()].sort((a, b) => b.wallMs - a.wallMs);
}

/** The GEMM time of every phase, K-FAC's included (wall, CPU). */
export function gemmTotal(rows: PhaseRow[]): { wallMs: number; cpuMs: number } {
  const gemm = rows.filter((r) => r.name.split('/').pop() === 'gemm');
  return { wallMs: gemm.reduce((s, r) => s + r.wallMs, 0), cpuMs: gemm.reduce((s, r) => s + r.cpuMs, 0) };
}
