/**
 * Plots of training curves: a Vega-Lite chart rendered to SVG by Vega (headless, no browser), and to
 * PNG by resvg (with the system's fonts, e.g. Debian's DejaVu).
 */
import { Resvg } from '@resvg/resvg-js';
import * as vega from 'vega';
import { compile, type TopLevelSpec } from 'vega-lite';

export interface CurvePoint {
  optimizer: string;
  x: number;
  loss: number;
}

/** A log-scale line chart of loss against `xTitle` (steps or seconds), one line per optimizer. */
export async function lossChartSvg(points: CurvePoint[], title: string, xTitle: string): Promise<string> {
  const spec: TopLevelSpec = {
    $schema: 'https://vega.github.io/schema/vega-lite/v5.json',
    title,
    width: 560,
    height: 320,
    background: 'white',
    data: { values: points.filter((p) => Number.isFinite(p.loss) && p.loss > 0) },
    mark: { type: 'line', strokeWidth: 1.5 },
    encoding: {
      x: { field: 'x', type: 'quantitative', title: xTitle },
      y: { field: 'loss', type: 'quantitative', title: 'training loss', scale: { type: 'log' } },
      color: { field: 'optimizer', type: 'nominal', title: 'optimizer' },
    },
  };
  const view = new vega.View(vega.parse(compile(spec).spec), { renderer: 'none' });
  const svg = await view.toSVG();
  view.finalize();
  return svg;
}

/** The SVG rasterised to PNG (2× scale for sharp text). */
export function svgToPng(svg: string): Uint8Array {
  const r = new Resvg(svg, {
    fitTo: { mode: 'zoom', value: 2 },
    font: { loadSystemFonts: true, defaultFontFamily: 'DejaVu Sans' },
  });
  return r.render().asPng();
}
