/** The spectra panel: the layer's singular values before/after Muon, Pion and spectral normalisation,
 * and the singular values of a small convolution. */
import type { TopLevelSpec } from 'vega-lite';
import { type Chart, renderChart } from './charts.js';
import { type SpectraView, spectraView, VARIANTS } from './spectra-model.js';
import { byId, fmt, guard } from './ui.js';

function layerSpec(view: SpectraView): TopLevelSpec {
  const domain = [...VARIANTS];
  return {
    $schema: 'https://vega.github.io/schema/vega-lite/v6.json',
    title: 'singular values of a 24×16 layer',
    width: 420,
    height: 280,
    data: { values: view.layer },
    encoding: {
      x: { field: 'i', type: 'quantitative', title: 'index i', scale: { nice: false } },
      y: { field: 'sigma', type: 'quantitative', title: 'σᵢ' },
      color: { field: 'variant', type: 'nominal', scale: { domain }, legend: { title: null, columns: 2 } },
    },
    layer: [
      {
        mark: { type: 'line', strokeWidth: 2 },
        encoding: {
          strokeDash: {
            field: 'variant',
            type: 'nominal',
            scale: {
              domain,
              range: [
                [1, 0],
                [1, 0],
                [6, 4],
                [1, 0],
              ],
            },
            legend: null,
          },
        },
      },
      {
        mark: { type: 'point', filled: true, opacity: 1 },
        encoding: {
          shape: { field: 'variant', type: 'nominal', scale: { domain }, legend: { title: null } },
          // 'before' drawn larger: Pion's points lie on it.
          size: {
            field: 'variant',
            type: 'nominal',
            scale: { domain, range: [150, 45, 45, 45] },
            legend: null,
          },
          tooltip: [{ field: 'variant' }, { field: 'i' }, { field: 'sigma', format: '.4f' }],
        },
      },
    ],
  } as TopLevelSpec;
}

function convSpec(view: SpectraView): TopLevelSpec {
  const values = Array.from(view.conv.values, (sigma, i) => ({ i: i + 1, sigma }));
  return {
    $schema: 'https://vega.github.io/schema/vega-lite/v6.json',
    title: 'singular values of a 3×3 conv, 3→4 channels, 8×8 circular',
    width: 420,
    height: 280,
    layer: [
      {
        data: { values },
        mark: { type: 'area', line: true, opacity: 0.3, interpolate: 'step-after' },
        encoding: {
          x: { field: 'i', type: 'quantitative', title: 'index i (all 192 values, descending)' },
          y: { field: 'sigma', type: 'quantitative', title: 'σᵢ' },
        },
      },
      {
        data: {
          values: [{ y: view.conv.operatorNorm, label: `‖conv‖_op = ${fmt(view.conv.operatorNorm)}` }],
        },
        layer: [
          {
            mark: { type: 'rule', color: '#D55E00', strokeDash: [5, 3], strokeWidth: 2 },
            encoding: { y: { field: 'y', type: 'quantitative' } },
          },
          {
            mark: { type: 'text', align: 'right', dy: -8, color: '#D55E00', fontSize: 12, x: 'width' },
            encoding: { y: { field: 'y', type: 'quantitative' }, text: { field: 'label' } },
          },
        ],
      },
    ],
  } as TopLevelSpec;
}

/** Sets up the panel and computes it once. */
export async function setupSpectra(): Promise<void> {
  const box = byId('spectra-error');
  const info = byId('spectra-info');
  const seedInput = byId<HTMLInputElement>('spectra-seed');
  const lrInput = byId<HTMLInputElement>('spectra-lr');
  let layerChart: Chart | undefined;
  let convChart: Chart | undefined;
  const run = () =>
    guard(box, async () => {
      const view = await spectraView(Number(seedInput.value), Number(lrInput.value));
      const sumSq = view.conv.values.reduce((s, v) => s + v * v, 0);
      info.textContent =
        `Muon's update −lr·polar(G) has every singular value equal to lr, so each σᵢ moves by at most lr; Pion rotates, so every σᵢ ` +
        `stays (largest change ${view.pionDrift.toExponential(1)}, float32 rounding); spectral normalisation ` +
        `divides by σ₁. The conv's σ₁ = ${fmt(view.conv.operatorNorm)} is attained at frequency ` +
        `(${view.conv.argmax.join(', ')}); √Σσᵢ² = ${fmt(Math.sqrt(sumSq))} = 8·‖K‖_F = ${fmt(view.conv.frobeniusNorm)}.`;
      layerChart = await renderChart(byId('spectra-layer'), layerSpec(view), layerChart);
      convChart = await renderChart(byId('spectra-conv'), convSpec(view), convChart);
      document.body.dataset.spectra = 'ready';
    });
  byId('spectra-run').addEventListener('click', () => void run());
  await run();
}
