/**
 * Groups the phases of a `bench/train --profile` run (src/backend/profile.ts: nested phases are named
 * parent/child) into what issue 9 asks a step's time to be split into: GEMM, elementwise kernels,
 * copies between jax-js and the kernels' memory, jax-js operations and their dispatch, and K-FAC's
 * factors, inverses, preconditioning and Fisher products. Each phase counts its self time (its time
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

/** The group of a phase, by its last name segment; any other phase's self time is jax-js work. */
const GROUP_OF: Record<string, string> = {
  gemm: 'GEMM (CPU engine)',
  elementwise: 'elementwise kernels (CPU engine)',
  copies: 'copies (engine memory)',
  'from-jax': 'copies (jax-js ↔ engine)',
  'to-jax': 'copies (jax-js ↔ engine)',
  factors: 'K-FAC factors (AᵀA, GᵀG)',
  inverses: 'K-FAC inverses (eigh)',
  precondition: 'K-FAC preconditioning',
  'fisher-products': 'K-FAC Fisher products (JVPs)',
  'trial-loss': 'K-FAC trial loss (forward)',
  dots: 'K-FAC dots',
  'read-loss': 'waits for the device (read-loss)',
};
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
    const leaf = r.name.split('/').pop() as string;
    add(GROUP_OF[leaf] ?? JAX_GROUP, wall, cpu);
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
