// Benchmark reports: JSON, Markdown and a grouped bar chart (Vega-Lite → SVG, no canvas → PNG via src/images).
import { writeFile } from 'node:fs/promises';
import * as vega from 'vega';
import { compile, type TopLevelSpec } from 'vega-lite';
import { rasterizeSvg } from '../src/images/index.js';

export interface BarChart {
  title: string;
  values: { group: string; series: string; value: number }[];
  valueTitle: string;
}

/** Writes <prefix>.json, <prefix>.md (the chart linked at its end) and <prefix>.png; prints the Markdown. */
export async function writeBenchReport(
  prefix: string,
  report: unknown,
  markdown: string[],
  chart: BarChart,
): Promise<void> {
  const md = [...markdown, '', `![${chart.title}](${prefix.split('/').at(-1)}.png)`, ''].join('\n');
  await writeFile(`${prefix}.json`, JSON.stringify(report, null, 2) + '\n');
  await writeFile(`${prefix}.md`, md);
  await writeFile(`${prefix}.png`, await barChartPng(chart));
  console.log(md);
}

export async function barChartPng(chart: BarChart): Promise<Buffer> {
  return vegaLitePng({
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
      color: {
        field: 'series',
        type: 'nominal',
        title: null,
        legend: { orient: 'bottom', direction: 'vertical', labelLimit: 480 },
      },
    },
    // Groups differ by orders of magnitude: each gets its own axis.
    resolve: { scale: { y: 'independent' } },
  });
}

/** A Vega-Lite spec rendered to a PNG (SVG through src/images: no canvas needed). */
export async function vegaLitePng(spec: TopLevelSpec): Promise<Buffer> {
  const compiled = compile({ $schema: 'https://vega.github.io/schema/vega-lite/v6.json', ...spec }).spec;
  const view = new vega.View(vega.parse(compiled), { renderer: 'none' });
  try {
    return await rasterizeSvg(await view.toSVG(), { scale: 2 });
  } finally {
    view.finalize();
  }
}
