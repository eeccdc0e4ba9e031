/**
 * End to end: the built lab page (dist/web, from `npm run build`) in Debian's chromium, driven by
 * playwright-core. Skips, saying why, when /usr/bin/chromium is absent (.ci/run installs it).
 * Screenshots go to $RIESZ_LAB_SHOTS (e.g. docs/lab) or a temporary folder.
 */
import { existsSync, mkdirSync, mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { chromium } from 'playwright-core';
import { PNG } from 'pngjs';
import { expect, it } from 'vitest';
import { startLab } from '../../src/cli/lab.js';

const CHROMIUM = process.env.RIESZ_CHROMIUM ?? '/usr/bin/chromium';
const haveChromium = existsSync(CHROMIUM);
if (!haveChromium) console.warn(`lab e2e: skipped, no chromium at ${CHROMIUM} (apt-get install chromium)`);

// As root on a closed network: no sandbox, no GPU, nothing fetched in the background.
const FLAGS = [
  '--no-sandbox',
  '--disable-gpu',
  '--disable-quic',
  '--no-first-run',
  '--disable-background-networking',
  '--disable-component-update',
  '--disable-sync',
];

/** Distinct colours in a PNG: a blank or single-colour capture has very few. */
function distinctColours(png: Buffer): number {
  const { data } = PNG.sync.read(png);
  const seen = new Set<number>();
  for (let i = 0; i < data.length; i += 4) seen.add((data[i] << 16) | (data[i + 1] << 8) | data[i + 2]);
  return seen.size;
}

it.skipIf(!haveChromium)(
  'the lab page starts jax-js, computes with riesz in the browser, raises no errors',
  async () => {
    const root = join(import.meta.dirname, '../../dist/web');
    expect(existsSync(join(root, 'index.html')), 'dist/web is missing: run npm run build').toBe(true);
    const lab = await startLab({ port: 0, root });
    const context = await chromium.launchPersistentContext(mkdtempSync(join(tmpdir(), 'riesz-chromium-')), {
      executablePath: CHROMIUM,
      headless: true,
      args: FLAGS,
    });
    try {
      const page = await context.newPage();
      const errors: string[] = [];
      page.on('pageerror', (e) => errors.push(e.message));
      page.on('console', (m) => {
        if (m.type() === 'error') errors.push(m.text());
      });
      await page.goto(lab.url);
      await page.waitForSelector('body[data-ready="true"]', { timeout: 60_000 });
      expect(await page.evaluate(() => crossOriginIsolated)).toBe(true);
      expect(await page.textContent('#status')).toMatch(/device (wasm|webgpu).*linreg-aniso/);
      const shots = process.env.RIESZ_LAB_SHOTS ?? mkdtempSync(join(tmpdir(), 'riesz-lab-shots-'));
      mkdirSync(shots, { recursive: true });
      const png = await page.screenshot();
      writeFileSync(join(shots, 'page.png'), png);
      expect(distinctColours(png)).toBeGreaterThan(10);
      expect(errors).toEqual([]);
    } finally {
      await context.close();
      await lab.close();
    }
  },
  120_000,
);
