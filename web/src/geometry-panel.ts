/**
 * The geometry panel: editors for A, V and W (or presets), the drawing of S_V, A(S_V) and S_W with the
 * maximiser and the two gradients, the norms, and a live Monte Carlo estimate of the average response.
 */
import type { TopLevelSpec } from 'vega-lite';
import { type Chart, PALETTE, renderChart, setData } from './charts.js';
import {
  defaultMap,
  type GeometryInput,
  type GeometryView,
  geometryView,
  type Preset,
  presetGrams,
  responseEstimate,
  SERIES,
} from './geometry-model.js';
import { byId, el, fmt, guard, nextFrame } from './ui.js';

const NAMES = ['A', 'V', 'W'] as const;
type Name = (typeof NAMES)[number];

/** The drawing: the curves as lines, the gradients as arrows, the maximiser and its image as points. */
function drawingSpec(view: GeometryView): TopLevelSpec {
  const domain = [-view.extent, view.extent];
  const x = { field: 'x', type: 'quantitative', scale: { domain, nice: false }, title: 'x₁' } as const;
  const y = { field: 'y', type: 'quantitative', scale: { domain, nice: false }, title: 'x₂' } as const;
  const color = {
    type: 'nominal',
    scale: { domain: [...SERIES], range: PALETTE.slice(0, SERIES.length) },
    legend: { title: null, columns: 2 },
  } as const;
  return {
    $schema: 'https://vega.github.io/schema/vega-lite/v6.json',
    title: view.n === 2 ? 'unit circles, image and gradients' : 'projection onto (x₁, x₂)',
    width: 330,
    height: 330,
    layer: [
      {
        data: { name: 'curves', values: view.curves },
        mark: { type: 'line', strokeWidth: 2, clip: true },
        encoding: {
          x,
          y,
          order: { field: 'i' },
          detail: { field: 'part' },
          color: { ...color, field: 'curve' },
          strokeDash: {
            field: 'curve',
            type: 'nominal',
            scale: {
              domain: [...SERIES.slice(0, 3)],
              range: [
                [1, 0],
                [1, 0],
                [6, 3],
              ],
            },
            legend: null,
          },
        },
      },
      {
        data: { name: 'arrows', values: view.arrows },
        mark: { type: 'rule', strokeWidth: 2.5 },
        encoding: { x, y, x2: { field: 'x2' }, y2: { field: 'y2' }, color: { ...color, field: 'arrow' } },
      },
      {
        data: { name: 'heads', values: view.arrows },
        mark: { type: 'point', shape: 'triangle', filled: true, size: 110, opacity: 1 },
        encoding: {
          x: { ...x, field: 'x2' },
          y: { ...y, field: 'y2' },
          angle: { field: 'angle', type: 'quantitative', scale: null },
          color: { ...color, field: 'arrow' },
        },
      },
      {
        data: { name: 'markers', values: view.markers },
        mark: { type: 'point', filled: true, size: 70, color: '#000' },
        encoding: {
          x,
          y,
          shape: {
            field: 'marker',
            type: 'nominal',
            scale: { range: ['circle', 'square', 'diamond'] },
            legend: { title: null, orient: 'top' },
          },
          tooltip: [{ field: 'marker' }, { field: 'x', format: '.4f' }, { field: 'y', format: '.4f' }],
        },
      },
    ],
    resolve: { scale: { color: 'shared' } },
  } as TopLevelSpec;
}

/** The Monte Carlo chart: the running estimate with its 95% band, and the exact value as a rule. */
function monteCarloSpec(exact: number): TopLevelSpec {
  const x = { field: 'samples', type: 'quantitative', title: 'samples' } as const;
  return {
    $schema: 'https://vega.github.io/schema/vega-lite/v6.json',
    title: 'Monte Carlo estimate of E‖Ax‖²_W on S_V',
    width: 330,
    height: 150,
    data: { name: 'mc', values: [] },
    layer: [
      {
        mark: { type: 'area', opacity: 0.25, color: PALETTE[0] },
        encoding: {
          x,
          y: { field: 'lo', type: 'quantitative', title: 'E‖Ax‖²_W', scale: { zero: false } },
          y2: { field: 'hi' },
        },
      },
      {
        mark: { type: 'line', color: PALETTE[0] },
        encoding: { x, y: { field: 'mean', type: 'quantitative' } },
      },
      {
        data: { values: [{ exact }] },
        mark: { type: 'rule', color: PALETTE[1], strokeDash: [5, 3], strokeWidth: 2 },
        encoding: { y: { field: 'exact', type: 'quantitative' } },
      },
    ],
  } as TopLevelSpec;
}

/** Sets up the panel and draws it once. */
export async function setupGeometry(): Promise<void> {
  const box = byId('geo-error');
  const sizeSelect = byId<HTMLSelectElement>('geo-n');
  const presetSelect = byId<HTMLSelectElement>('geo-preset');
  const host = byId('geo-matrices');
  const norms = byId('geo-norms').querySelector('tbody')!;
  let drawing: Chart | undefined;
  let mc: Chart | undefined;
  let generation = 0;
  let rendering: Promise<void> = Promise.resolve();
  let inputs: Record<Name, HTMLInputElement[][]> = { A: [], V: [], W: [] };

  const read = (): GeometryInput => {
    const rows = (name: Name) => inputs[name].map((r) => r.map((i) => Number.parseFloat(i.value)));
    return { A: rows('A'), V: rows('V'), W: rows('W') };
  };
  const write = (name: Name, M: number[][]) =>
    M.forEach((r, i) => {
      r.forEach((v, j) => {
        inputs[name][i][j].value = String(v);
      });
    });

  const buildEditors = (n: number) => {
    inputs = { A: [], V: [], W: [] };
    host.replaceChildren();
    for (const name of NAMES) {
      const grid = el('div', { class: 'grid', style: `grid-template-columns: repeat(${n}, auto)` });
      const caption =
        name === 'A' ? 'A (the map)' : name === 'V' ? 'V (domain Gram matrix)' : 'W (codomain Gram matrix)';
      host.append(el('fieldset', { class: 'matrix' }, el('legend', {}, caption), grid));
      for (let i = 0; i < n; i++) {
        inputs[name].push([]);
        for (let j = 0; j < n; j++) {
          const input = el('input', {
            type: 'number',
            step: '0.1',
            id: `geo-${name}-${i}-${j}`,
            'aria-label': `${name}[${i + 1},${j + 1}]`,
          });
          input.addEventListener('input', () => {
            // V and W are symmetric: an off-diagonal edit sets its mirror too.
            if (name !== 'A' && i !== j) inputs[name][j][i].value = input.value;
            void update();
          });
          inputs[name][i].push(input);
          grid.append(input);
        }
      }
    }
  };

  const applyPreset = () => {
    const n = inputs.A.length;
    const { V, W } = presetGrams(presetSelect.value as Preset, n);
    write('V', V);
    write('W', W);
  };

  /** The running Monte Carlo estimate, one more batch of samples per frame, until input changes. */
  const runMonteCarlo = async (input: GeometryInput, mine: number) => {
    const points: object[] = [];
    for (let samples = 100; samples <= 8000 && mine === generation; samples += 100) {
      const est = responseEstimate(input, samples);
      points.push({ samples, mean: est.mean, lo: est.interval[0], hi: est.interval[1] });
      const cell = document.getElementById('geo-mc-value');
      if (cell)
        cell.textContent = `${fmt(est.mean)} [${fmt(est.interval[0])}, ${fmt(est.interval[1])}], ${samples} samples`;
      if (mc && samples % 400 === 0) await setData(mc, 'mc', points);
      await nextFrame();
    }
    if (mc && mine === generation) await setData(mc, 'mc', points);
  };

  const update = () =>
    guard(box, async () => {
      const mine = ++generation;
      const input = read();
      for (const [name, M] of Object.entries(input) as [string, number[][]][])
        M.forEach((r, i) => {
          r.forEach((v, j) => {
            if (!Number.isFinite(v)) throw new Error(`${name}[${i + 1},${j + 1}] is not a number`);
          });
        });
      const view = geometryView(input);
      const vec = (v: number[]) => `(${v.map((x) => fmt(x, 3)).join(', ')})`;
      const rows: [string, string, string][] = [
        ['‖A‖_{V,W}', 'Frobenius-type norm', fmt(view.frobenius)],
        ['‖A‖²/n', 'average response (exact)', fmt(view.averageResponse)],
        ['estimate', 'Monte Carlo, 95% interval', '…'],
        ['σ₁²', 'maximal response', fmt(view.sigma1 ** 2)],
        ['σ₁', 'operator norm', fmt(view.sigma1)],
        ['x*', 'a maximiser on S_V', vec(view.maximiser)],
        ['Ax*', 'its image', vec(view.image)],
        ['σ(A)', 'singular values in (V, W)', view.singularValues.map((s) => fmt(s)).join(', ')],
        ['∇f', 'Euclidean gradient at x₀', vec(view.euclideanGradient)],
        ['V⁻¹∇f', 'Riesz gradient in V', vec(view.rieszGradient)],
      ];
      norms.replaceChildren(
        ...rows.map(([sym, what, value], k) =>
          el(
            'tr',
            {},
            el('th', { scope: 'row' }, sym),
            el('td', {}, what),
            el('td', k === 2 ? { id: 'geo-mc-value' } : { id: `geo-value-${k}` }, value),
          ),
        ),
      );
      // Charts are drawn one update at a time, and only for the latest input (fast typing queues
      // updates; the table above is already the latest's).
      rendering = rendering
        .catch(() => undefined)
        .then(async () => {
          if (mine !== generation) return;
          drawing = await renderChart(byId('geo-plot'), drawingSpec(view), drawing);
          mc = await renderChart(byId('geo-mc'), monteCarloSpec(view.averageResponse), mc);
          if (mine !== generation) return;
          document.body.dataset.geometry = String(mine);
          void runMonteCarlo(input, mine).catch((e) => guard(box, () => Promise.reject(e)));
        });
      await rendering;
    });

  sizeSelect.addEventListener('change', () => {
    const n = Number(sizeSelect.value);
    buildEditors(n);
    write('A', defaultMap(n));
    applyPreset();
    void update();
  });
  presetSelect.addEventListener('change', () => {
    void guard(box, applyPreset).then((ok) => ok && update());
  });
  buildEditors(2);
  write('A', defaultMap(2));
  applyPreset();
  await update();
}
