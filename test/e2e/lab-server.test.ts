/** The lab's static server: serves files with the cross-origin-isolation headers, refuses escapes. */
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { expect, it } from 'vitest';
import { startLab } from '../../src/cli/lab.js';

it('serves index.html with COOP/COEP, 404 for missing files, never a file outside the root', async () => {
  const root = mkdtempSync(join(tmpdir(), 'riesz-lab-'));
  writeFileSync(join(root, 'index.html'), '<!doctype html><title>lab</title>');
  const lab = await startLab({ port: 0, root });
  try {
    expect(lab.url).toBe(`http://localhost:${lab.port}/`);
    const home = await fetch(`http://127.0.0.1:${lab.port}/`);
    expect(home.status).toBe(200);
    expect(home.headers.get('content-type')).toContain('text/html');
    expect(home.headers.get('cross-origin-opener-policy')).toBe('same-origin');
    expect(home.headers.get('cross-origin-embedder-policy')).toBe('require-corp');
    expect(await home.text()).toContain('<title>lab</title>');
    expect((await fetch(`http://127.0.0.1:${lab.port}/missing.js`)).status).toBe(404);
    expect((await fetch(`http://127.0.0.1:${lab.port}/%2e%2e/%2e%2e/etc/passwd`)).status).not.toBe(200);
  } finally {
    await lab.close();
  }
});

it('refuses to start when the page is not built', async () => {
  const root = mkdtempSync(join(tmpdir(), 'riesz-lab-empty-'));
  await expect(startLab({ port: 0, root })).rejects.toThrow(/not built/);
});
