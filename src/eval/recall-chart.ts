// The recall@k chart of the report: one line per method, drawn by Vega-Lite as SVG (no canvas).
import * as vega from 'vega';
import { compile, type TopLevelSpec } from 'vega-lite';
import type { EvalReport } from './report.js';

export function recallChartSpec(report: EvalReport): TopLevelSpec {
  const values = Object.entries(report.methods).flatMap(([method, m]) => m.recallAtK.map((recall, i) => ({ method, k: i + 1, recall })));
  return {
    $schema: 'https://vega.github.io/schema/vega-lite/v6.json',
    title: { text: `Recall@k, ${report.queries} queries, catalog of ${report.catalogSize}`, fontSize: 14 },
    width: 520,
    height: 320,
    background: 'white',
    data: { values },
    mark: { type: 'line', point: true, strokeWidth: 2 },
    encoding: {
      x: { field: 'k', type: 'quantitative', title: 'k', axis: { tickMinStep: 1 }, scale: { domain: [1, report.setup.k] } },
      y: { field: 'recall', type: 'quantitative', title: 'Recall@k', scale: { domain: [0, 1] } },
      color: { field: 'method', type: 'nominal', title: 'method', sort: Object.keys(report.methods) },
      // Methods that agree (ann and exact, mostly) would hide each other: dashes keep both visible.
      strokeDash: { field: 'method', type: 'nominal', sort: Object.keys(report.methods) },
    },
  };
}

export async function recallChartSvg(report: EvalReport): Promise<string> {
  const view = new vega.View(vega.parse(compile(recallChartSpec(report)).spec), { renderer: 'none' });
  try {
    return await view.toSVG();
  } finally {
    view.finalize();
  }
}
