// Grouped bar charts for benchmark reports: Vega-Lite → SVG (no canvas) → PNG via src/ml.
import * as vega from 'vega';
import { compile } from 'vega-lite';
import { svgToPng } from '../src/ml/svg-to-png.js';

export async function barChartPng(chart: {
  title: string;
  values: { group: string; series: string; value: number }[];
  valueTitle: string;
}): Promise<Buffer> {
  const spec = compile({
    $schema: 'https://vega.github.io/schema/vega-lite/v6.json',
    title: chart.title,
    background: 'white',
    width: 160,
    height: 260,
    data: { values: chart.values },
    mark: 'bar',
    encoding: {
      column: { field: 'group', type: 'nominal', title: null },
      x: { field: 'series', type: 'nominal', title: null, axis: { labels: false } },
      y: { field: 'value', type: 'quantitative', title: chart.valueTitle },
      color: { field: 'series', type: 'nominal', title: null, legend: { orient: 'bottom', direction: 'vertical', labelLimit: 480 } },
    },
    // Groups differ by orders of magnitude: each gets its own axis.
    resolve: { scale: { y: 'independent' } },
  }).spec;
  const view = new vega.View(vega.parse(spec), { renderer: 'none' });
  try {
    return await svgToPng(await view.toSVG());
  } finally {
    view.finalize();
  }
}
