/**
 * End-to-end tests of the `riesz` command (the built dist/cli/bin.js, as users run it), and the
 * cross-check against NumPy/SciPy on random weighted real and complex cases.
 */
import { execFile, execFileSync, spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { beforeAll, describe, expect, it } from 'vitest';
import { serializeNpy } from '../src/io/npy.js';
import { diag, matrix, vector } from '../src/linalg/matrix.js';
import { Rng, randomHpd, randomNormal } from '../src/linalg/random.js';

const root = join(import.meta.dirname, '..');
const cli = join(root, 'dist/cli/bin.js');
const dir = mkdtempSync(join(tmpdir(), 'riesz-cli-'));

function riesz(...args: string[]) {
  const r = spawnSync(process.execPath, [cli, ...args], { encoding: 'utf8' });
  return { code: r.status, stdout: r.stdout, stderr: r.stderr };
}

// The cross-check's 120 runs go through the async API, so that the test worker's event loop (and
// vitest's own messages) are not blocked for minutes.
const run = promisify(execFile);

function save(name: string, M: Parameters<typeof serializeNpy>[0], ndim: 1 | 2 = 2): string {
  const p = join(dir, name);
  writeFileSync(p, serializeNpy(M, ndim));
  return p;
}

beforeAll(() => {
  if (!existsSync(cli)) execFileSync('npm', ['run', 'build'], { cwd: root, stdio: 'ignore' });
});

describe('riesz norm', () => {
  it('prints the golden value with average and maximal response (MATH.md §12.2)', () => {
    const A = save('a.npy', matrix([[1, 1]]));
    const V = save('v.npy', vector([1, 4]), 1);
    const W = save('w.npy', matrix([[9]]));
    const r = riesz('norm', A, '--domain', V, '--codomain', W);
    expect(r.code).toBe(0);
    expect(r.stdout.split('\n')[0]).toBe('3.354101966');
    expect(r.stdout).toMatch(/average response ‖A‖²\/n on the V-sphere\s+5\.625 /);
    const j = JSON.parse(riesz('norm', A, '--domain', V, '--codomain', W, '--json').stdout.trim());
    expect(j.kind).toBe('frobenius');
    expect(j.shape).toEqual([1, 2]);
    expect(Math.abs(j.value - Math.sqrt(11.25))).toBeLessThan(1e-14);
    expect(Math.abs(j.operator_norm - Math.sqrt(11.25))).toBeLessThan(1e-12);
  });
  it('supports every kind in --json, two-to-q with lower and upper', () => {
    const A = save('d.npy', diag([3, 4]));
    const val = (k: string) => JSON.parse(riesz('norm', A, '--kind', k, '--json').stdout);
    expect(val('operator').value).toBeCloseTo(4, 12);
    expect(val('nuclear').value).toBeCloseTo(7, 12);
    expect(val('schatten:3').value).toBeCloseTo(91 ** (1 / 3), 12);
    const q = val('two-to-q:4');
    expect(q.lower).toBeCloseTo(4, 12);
    expect(q.upper).toBeCloseTo(4, 12);
  });
  it('fails with one line and a clear message on bad input', () => {
    const A = save(
      'a2.npy',
      matrix([
        [1, 2],
        [3, 4],
      ]),
    );
    const bad = save(
      'bad.npy',
      matrix([
        [1, 2],
        [2, 1],
      ]),
    );
    const small = save('small.npy', matrix([[1]]));
    const nan = save(
      'nan.npy',
      matrix([
        [1, Number.NaN],
        [0, 1],
      ]),
    );
    const cases: [string[], RegExp, number][] = [
      [
        ['norm', A, '--domain', bad],
        /domain Gram matrix V \(.*bad\.npy\) is not Hermitian positive definite: Cholesky broke at row\/column 1/,
        1,
      ],
      [['norm', A, '--codomain', small], /codomain Gram matrix W .* is 1×1 but A needs 2×2/, 2],
      [['norm', nan], /has a non-finite entry NaN at row 0, column 1/, 1],
      [
        ['norm', A, '--kind', 'spectral'],
        /unknown --kind 'spectral'; valid kinds: frobenius, operator, nuclear, schatten:P, two-to-q:Q/,
        2,
      ],
      [
        ['norm', A, '--frobnicate'],
        /unknown option '--frobnicate' for 'riesz norm'; valid options: --domain, --codomain, --kind, --json/,
        2,
      ],
      [['norm', join(dir, 'nope.npy')], /nope\.npy: no such file/, 1],
      [['frobnicate'], /unknown command 'frobnicate'; valid commands: train, compare, norm, demo/, 2],
    ];
    for (const [args, msg, code] of cases) {
      const r = riesz(...args);
      expect(r.code, args.join(' ')).toBe(code);
      expect(r.stderr).toMatch(msg);
      expect(r.stderr.trim().split('\n')).toHaveLength(1);
      expect(r.stderr).not.toMatch(/\n\s+at /);
    }
    expect(riesz('norm', A, '--domain', bad, '--debug').stderr).toMatch(/\n\s+at /);
  });
});

describe('riesz demo', () => {
  it('runs both experiments and every check agrees', () => {
    const r = riesz('demo', '--samples', '4000', '--json');
    expect(r.code).toBe(0);
    const j = JSON.parse(r.stdout);
    expect(j.three_ways.length).toBeGreaterThan(3);
    for (const row of j.three_ways) expect(row.agree).toBe(true);
    for (const row of j.average_vs_maximal)
      expect(row.average).toBeLessThanOrEqual(row.maximal * (1 + 1e-12));
  });
});

const python = '/usr/bin/python3';
const hasNumpy =
  existsSync(python) && spawnSync(python, ['-c', 'import numpy, scipy'], { encoding: 'utf8' }).status === 0;
if (!hasNumpy)
  console.warn(
    'skipping the NumPy cross-check: /usr/bin/python3 with numpy and scipy is not installed (apt-get install python3-numpy python3-scipy)',
  );

describe.skipIf(!hasNumpy)('riesz norm agrees with NumPy/SciPy to 1e-9', () => {
  it('on random weighted real and complex cases', async () => {
    const rng = new Rng(2024);
    const peer = join(root, 'bench/peers/norm_numpy.py');
    let compared = 0;
    for (const complex of [false, true]) {
      for (const [m, n] of [
        [5, 5],
        [7, 3],
        [4, 9],
        [30, 20],
      ]) {
        const A = save(`A${m}${n}${complex}.npy`, randomNormal(rng, m, n, complex));
        const V = save(`V${m}${n}${complex}.npy`, randomHpd(rng, n, complex));
        const Wd = save(
          `W${m}${n}${complex}.npy`,
          vector(Array.from({ length: m }, () => 0.5 + rng.uniform())),
          1,
        );
        const kinds = ['frobenius', 'operator', 'nuclear', 'schatten:3'];
        for (const geo of [['--domain', V, '--codomain', Wd], ['--domain', V], []]) {
          const numpy = JSON.parse((await run(python, [peer, A, ...geo, '--kind', kinds.join(',')])).stdout);
          for (const kind of kinds) {
            const ours = JSON.parse(
              (await run(process.execPath, [cli, 'norm', A, ...geo, '--kind', kind, '--json'])).stdout,
            ).value;
            const theirs = numpy[kind];
            expect(
              Math.abs(ours - theirs) / theirs,
              `${kind} ${m}×${n} complex=${complex} ${geo.length}`,
            ).toBeLessThan(1e-9);
            compared++;
          }
        }
      }
    }
    expect(compared).toBe(96);
  }, 400_000);
});
