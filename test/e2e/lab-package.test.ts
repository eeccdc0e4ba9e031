/**
 * The lab from the packed package: `npm pack` (of the built tree) holds dist/web, and the unpacked
 * package's own `riesz lab` serves the page, its script and the MNIST subset with the isolation
 * headers, prints its URL, and stops on SIGTERM. The package's dependencies come from this checkout's
 * node_modules (a symlink), so no registry is needed; docs/lab.md records the full check with
 * `npm install riesz-0.1.0.tgz` and `npx riesz lab` in a scratch folder.
 */
import { execFileSync, spawn } from 'node:child_process';
import { existsSync, mkdtempSync, symlinkSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createInterface } from 'node:readline';
import { expect, it } from 'vitest';

const repo = join(import.meta.dirname, '../..');

it('the packed package serves the lab with `riesz lab`', async () => {
  expect(existsSync(join(repo, 'dist/web/index.html')), 'dist/web is missing: run npm run build').toBe(true);
  const dir = mkdtempSync(join(tmpdir(), 'riesz-pack-'));
  const out = execFileSync('npm', ['pack', '--ignore-scripts', '--json', '--pack-destination', dir], {
    cwd: repo,
    encoding: 'utf8',
    stdio: ['ignore', 'pipe', 'ignore'],
  });
  const [{ filename, files }] = JSON.parse(out) as { filename: string; files: { path: string }[] }[];
  const paths = files.map((f) => f.path);
  expect(paths).toContain('dist/web/index.html');
  expect(paths).toContain('dist/web/mnist-subset.bin');
  expect(paths.some((p) => /^dist\/web\/assets\/index-.*\.js$/.test(p))).toBe(true);
  expect(paths).toContain('dist/cli/lab.js');

  execFileSync('tar', ['xzf', join(dir, filename), '-C', dir]);
  const pkg = join(dir, 'package');
  symlinkSync(join(repo, 'node_modules'), join(pkg, 'node_modules'), 'dir');
  const child = spawn(process.execPath, [join(pkg, 'dist/cli/bin.js'), 'lab', '--port', '0'], {
    stdio: ['ignore', 'pipe', 'inherit'],
  });
  try {
    const url = await new Promise<string>((ok, fail) => {
      createInterface({ input: child.stdout! }).once('line', ok);
      child.once('exit', (code) => fail(new Error(`riesz lab exited with ${code}`)));
    });
    expect(url).toMatch(/^http:\/\/localhost:\d+\/$/);
    const home = await fetch(url);
    expect(home.status).toBe(200);
    expect(home.headers.get('cross-origin-embedder-policy')).toBe('require-corp');
    expect(home.headers.get('cross-origin-opener-policy')).toBe('same-origin');
    const html = await home.text();
    const script = /src="\.\/(assets\/index-[^"]+\.js)"/.exec(html)?.[1];
    expect(script, 'index.html names its script').toBeDefined();
    const js = await fetch(url + script);
    expect(js.status).toBe(200);
    expect(js.headers.get('content-type')).toContain('javascript');
    const bin = await fetch(`${url}mnist-subset.bin`);
    expect(bin.status).toBe(200);
    expect((await bin.arrayBuffer()).byteLength).toBe(12 + 2500 * 785);
  } finally {
    if (child.exitCode === null) {
      const exited = new Promise<number | null>((ok) => child.once('exit', ok));
      child.kill('SIGTERM');
      expect(await exited, 'riesz lab stops cleanly on SIGTERM').toBe(0);
    }
  }
}, 60_000);
