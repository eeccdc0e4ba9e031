/**
 * End to end: the built lab page (dist/web, from `npm run build`) in Debian's chromium, driven by
 * playwright-core. Skips, saying why, when /usr/bin/chromium is absent (.ci/run installs it).
 * It loads the page, edits V and checks the norms shown (against riesz in Node), provokes a non-SPD
 * V and checks the error is shown in the page, races four optimizers and checks every curve has
 * points, stops and resets a longer race, checks the page raised no errors, and screenshots each
 * panel (not blank). Screenshots go to $RIESZ_LAB_SHOTS (e.g. docs/lab) or a temporary folder.
 */
import { existsSync, mkdirSync, mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { type BrowserContext, chromium, type Page } from 'playwright-core';
import { PNG } from 'pngjs';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { type LabServer, startLab } from '../../src/cli/lab.js';
import { defaultMap, geometryView, presetGrams } from '../../web/src/geometry-model.js';
import { fmt } from '../../web/src/ui.js';

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

let lab: LabServer;
let context: BrowserContext;
let page: Page;
const errors: string[] = [];
const shots = process.env.RIESZ_LAB_SHOTS ?? mkdtempSync(join(tmpdir(), 'riesz-lab-shots-'));
// Steps of the MNIST race (docs/lab's screenshot was taken with 150).
const RACE_STEPS = Number(process.env.RIESZ_LAB_RACE_STEPS ?? 12);

beforeAll(async () => {
  if (!haveChromium) return;
  const root = join(import.meta.dirname, '../../dist/web');
  expect(existsSync(join(root, 'index.html')), 'dist/web is missing: run npm run build').toBe(true);
  lab = await startLab({ port: 0, root });
  context = await chromium.launchPersistentContext(mkdtempSync(join(tmpdir(), 'riesz-chromium-')), {
    executablePath: CHROMIUM,
    headless: true,
    args: FLAGS,
    viewport: { width: 1280, height: 900 },
  });
  page = await context.newPage();
  page.on('pageerror', (e) => errors.push(`pageerror: ${e.message}`));
  page.on('console', (m) => {
    if (m.type() === 'error') errors.push(`console: ${m.text()}`);
  });
  await page.goto(lab.url);
  await page.waitForSelector('body[data-ready="true"]', { timeout: 90_000 });
}, 120_000);

afterAll(async () => {
  await context?.close();
  await lab?.close();
});

/** Waits until the geometry panel has redrawn after generation `before`. */
async function geometryAfter(before: string): Promise<void> {
  await page.waitForFunction((b) => document.body.dataset.geometry !== b, before, { timeout: 20_000 });
}

const text = async (sel: string) => ((await page.textContent(sel)) ?? '').trim();

async function shoot(panel: string): Promise<void> {
  const png = await page.locator(`#${panel}`).screenshot();
  mkdirSync(shots, { recursive: true });
  writeFileSync(join(shots, `${panel}.png`), png);
  expect(distinctColours(png), `${panel} screenshot looks blank`).toBeGreaterThan(50);
}

it.skipIf(!haveChromium)('the page starts jax-js, cross-origin isolated, and says which device', async () => {
  expect(await page.evaluate(() => crossOriginIsolated)).toBe(true);
  expect(await text('#status')).toMatch(/^device (wasm|webgpu) /);
  expect(await text('#race-info')).toMatch(/device: (wasm|webgpu)/);
});

it.skipIf(!haveChromium)(
  'geometry: editing V changes the norms shown, to the values riesz computes; a non-SPD V is an error in the page',
  async () => {
    const A = [
      [1.2, 0.6],
      [-0.3, 0.9],
    ];
    const { V, W } = presetGrams('anisotropic', 2);
    const shown = async () => [
      await text('#geo-value-0'),
      await text('#geo-value-1'),
      await text('#geo-value-4'),
    ];
    const expected = (v: number[][]) => {
      const g = geometryView({ A, V: v, W });
      return [fmt(g.frobenius), fmt(g.averageResponse), fmt(g.sigma1)];
    };
    expect(await shown()).toEqual(expected(V));
    // The live Monte Carlo estimate is running or done.
    await page.waitForFunction(() =>
      /samples/.test(document.getElementById('geo-mc-value')?.textContent ?? ''),
    );

    // 3×3 with the K-FAC-like preset, then back to 2×2 (which restores the default A and preset).
    let before = (await page.evaluate(() => document.body.dataset.geometry))!;
    await page.selectOption('#geo-n', '3');
    await geometryAfter(before);
    before = (await page.evaluate(() => document.body.dataset.geometry))!;
    await page.selectOption('#geo-preset', 'kfac');
    await geometryAfter(before);
    const kfac = presetGrams('kfac', 3);
    const g3 = geometryView({ A: defaultMap(3), ...kfac });
    expect(await page.inputValue('#geo-V-2-2')).toBe(String(kfac.V[2][2]));
    expect(await text('#geo-value-0')).toBe(fmt(g3.frobenius));
    expect(await page.isHidden('#geo-error')).toBe(true);
    before = (await page.evaluate(() => document.body.dataset.geometry))!;
    await page.selectOption('#geo-preset', 'anisotropic');
    await geometryAfter(before);
    before = (await page.evaluate(() => document.body.dataset.geometry))!;
    await page.selectOption('#geo-n', '2');
    await geometryAfter(before);
    expect(await shown()).toEqual(expected(V));

    before = (await page.evaluate(() => document.body.dataset.geometry))!;
    await page.fill('#geo-V-1-1', '2.5');
    await geometryAfter(before);
    const V2 = [
      [3, 1],
      [1, 2.5],
    ];
    const after = await shown();
    expect(after).toEqual(expected(V2));
    expect(after).not.toEqual(expected(V));
    // An off-diagonal edit sets its mirror: V stays symmetric.
    before = (await page.evaluate(() => document.body.dataset.geometry))!;
    await page.fill('#geo-V-0-1', '0.5');
    await geometryAfter(before);
    expect(await page.inputValue('#geo-V-1-0')).toBe('0.5');

    // V = [[−1, ·], [·, ·]] is not positive definite: riesz's error, in the page.
    await page.fill('#geo-V-0-0', '-1');
    await page.waitForSelector('#geo-error:not([hidden])');
    expect(await text('#geo-error')).toMatch(/positive definite/);
    before = (await page.evaluate(() => document.body.dataset.geometry))!;
    await page.fill('#geo-V-0-0', '3');
    await geometryAfter(before);
    expect(await page.isHidden('#geo-error')).toBe(true);
    await page.fill('#geo-V-0-1', '1');
    await page.waitForTimeout(1500); // the Monte Carlo chart fills in before the screenshot
    await shoot('geometry');
  },
  60_000,
);

it.skipIf(!haveChromium)(
  'race: four optimizers on the MNIST subset, every curve has points; stop and reset work',
  async () => {
    await page.fill('#race-steps', String(RACE_STEPS));
    await page.click('#race-start');
    await page.waitForFunction(() => document.body.dataset.raceDone === '1', null, { timeout: 150_000 });
    expect(await page.isHidden('#race-error')).toBe(true);
    const counts = await page.evaluate(() =>
      (
        window as unknown as { rieszLab: { curvePoints(): Record<string, [number, number]> } }
      ).rieszLab.curvePoints(),
    );
    expect(Object.keys(counts).sort()).toEqual(['adam', 'kfac', 'muon', 'sgd']);
    for (const [name, [steps, wall]] of Object.entries(counts)) {
      expect(steps, name).toBe(RACE_STEPS);
      expect(wall, name).toBe(RACE_STEPS);
    }
    expect(await text('#race-table tbody')).toMatch(/test accuracy/);
    await shoot('race');

    // A long linreg-aniso race, stopped after a moment, then reset.
    await page.selectOption('#race-task', 'linreg-aniso');
    await page.fill('#race-steps', '5000');
    await page.click('#race-start');
    await page.waitForFunction(() => document.body.dataset.race === 'running');
    await page.waitForTimeout(1000);
    await page.click('#race-stop');
    await page.waitForFunction(() => document.body.dataset.raceDone === '2', null, { timeout: 30_000 });
    expect(await text('#race-info')).toMatch(/stopped/);
    await page.click('#race-reset');
    await page.waitForFunction(() => /Reset/.test(document.getElementById('race-info')?.textContent ?? ''));
    expect(await page.$$eval('#race-table tbody tr', (rows) => rows.length)).toBe(0);
    // Fewer than 2 optimizers is refused in the page.
    for (const name of ['adam', 'kfac', 'muon']) await page.uncheck(`#race-opt-${name}`);
    await page.click('#race-start');
    await page.waitForSelector('#race-error:not([hidden])');
    expect(await text('#race-error')).toMatch(/two to four/);
  },
  240_000,
);

it.skipIf(!haveChromium)('spectra: both charts drawn, and the page raised no errors', async () => {
  await page.waitForSelector('body[data-spectra="ready"]');
  expect(await page.isHidden('#spectra-error')).toBe(true);
  expect(await text('#spectra-info')).toMatch(/Pion rotates/);
  expect(await page.$$eval('#spectra svg', (s) => s.length)).toBeGreaterThanOrEqual(2);
  await shoot('spectra');
  expect(await page.isHidden('#page-error')).toBe(true);
  expect(errors).toEqual([]);
});
