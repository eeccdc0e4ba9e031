/** Imports point down (DESIGN.md): linalg/ and geometry/ stay pure (no Node APIs, jax-js, io or CLI);
 * optim/ and nn/ import nothing above them, and nn/ nothing from optim/ (the tap types are shared). */
import { readdirSync, readFileSync } from 'node:fs';
import { join, relative } from 'node:path';
import { expect, it } from 'vitest';

const src = join(import.meta.dirname, '../src');

function files(dir: string): string[] {
  return readdirSync(dir, { withFileTypes: true }).flatMap((e) =>
    e.isDirectory()
      ? files(join(dir, e.name))
      : e.name.endsWith('.ts') && !e.name.endsWith('.test.ts')
        ? [join(dir, e.name)]
        : [],
  );
}

const forbidden: Record<string, RegExp> = {
  linalg: /from '(node:|@jax-js|.*\/(geometry|io|cli|backend)\/)/,
  geometry: /from '(node:|@jax-js|.*\/(io|cli|backend)\/)/,
  optim: /from '(node:|.*\/(nn|train|cli|data|io)\/)/,
  // The tap types live in backend/taps.ts, so layers need nothing from the optimizers.
  nn: /from '(node:|.*\/(optim|train|cli|data|io)\/)/,
};

it.each(Object.keys(forbidden))('%s/ imports only from below', (layer) => {
  const offenders = files(join(src, layer)).flatMap((f) =>
    readFileSync(f, 'utf8')
      .split('\n')
      .filter((line) => line.startsWith('import') && forbidden[layer].test(line))
      .map((line) => `${relative(src, f)}: ${line}`),
  );
  expect(offenders).toEqual([]);
});
