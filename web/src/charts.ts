/**
 * vega-lite charts of the lab: a spec is compiled to vega and rendered as SVG into a container; the
 * view is kept so that live data (loss curves, Monte Carlo estimates) can be replaced without
 * rebuilding the chart. Colours: the Okabe–Ito palette, safe for the common colour-vision
 * deficiencies.
 */
import * as vega from 'vega';
import { compile, type TopLevelSpec } from 'vega-lite';

/** Okabe–Ito colours, in the order series get them (yellow, hard to see on white, last). */
export const PALETTE = [
  '#0072B2',
  '#D55E00',
  '#009E73',
  '#CC79A7',
  '#E69F00',
  '#56B4E9',
  '#000000',
  '#F0E442',
];

/** Settings every chart shares: font sizes readable on a laptop, no chart border. */
const CONFIG = {
  font: 'system-ui, sans-serif',
  axis: { labelFontSize: 12, titleFontSize: 13, grid: true, gridColor: '#e4e4e4' },
  legend: { labelFontSize: 12, titleFontSize: 13, orient: 'bottom' as const, labelLimit: 0 },
  title: { fontSize: 14 },
  view: { stroke: null },
  range: { category: PALETTE },
};

/** vega's and vega-lite's warnings go to the console: the page keeps them out. */
const quiet = vega.logger(vega.None);

/** A rendered chart: its vega view and the container. */
export interface Chart {
  view: vega.View;
  container: HTMLElement;
}

/** Compiles `spec` (vega-lite) and renders it as SVG into `container`, replacing what was there. */
export async function renderChart(container: HTMLElement, spec: TopLevelSpec, old?: Chart): Promise<Chart> {
  old?.view.finalize();
  container.replaceChildren();
  // resize: live data (longer axis labels, new legend entries) re-lays the chart out.
  const full = {
    autosize: { type: 'pad', resize: true },
    ...spec,
    config: { ...CONFIG, ...(spec.config ?? {}) },
  };
  const compiled = compile(full as TopLevelSpec, {
    logger: quiet,
  }).spec;
  const view = new vega.View(vega.parse(compiled), { renderer: 'svg', container, hover: true });
  view.logLevel(vega.None);
  await view.runAsync();
  return { view, container };
}

/** Replaces the rows of the named data set of a chart and redraws it. */
export async function setData(chart: Chart, name: string, rows: object[]): Promise<void> {
  chart.view.change(
    name,
    vega
      .changeset()
      .remove(() => true)
      .insert(rows),
  );
  await chart.view.runAsync();
}

/** Appends rows to the named data set of a chart and redraws it. */
export async function appendData(chart: Chart, name: string, rows: object[]): Promise<void> {
  chart.view.change(name, vega.changeset().insert(rows));
  await chart.view.runAsync();
}
