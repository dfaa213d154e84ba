import { mkdir, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { rasterizeSvg } from '../images/index.js';
import { markdownReport } from './markdown-report.js';
import { recallChartSvg } from './recall-chart.js';
import type { EvalReport } from './report.js';

/** Writes the JSON report, and the Markdown report with its recall@k chart (PNG) beside it. Returns the files. */
export async function writeReports(report: EvalReport, files: { json: string; markdown?: string }): Promise<string[]> {
  const written = [files.json];
  await mkdir(path.dirname(path.resolve(files.json)), { recursive: true });
  await writeFile(files.json, `${JSON.stringify(report, null, 2)}\n`);
  if (!files.markdown) return written;
  await mkdir(path.dirname(path.resolve(files.markdown)), { recursive: true });
  let chart: string | null = null;
  if (Object.values(report.methods).some((m) => m.recallAtK.length > 0)) {
    chart = `${path.basename(files.markdown, path.extname(files.markdown))}-recall-at-k.png`;
    const png = path.join(path.dirname(files.markdown), chart);
    await writeFile(png, await rasterizeSvg(await recallChartSvg(report), { scale: 2 }));
    written.push(png);
  }
  await writeFile(files.markdown, markdownReport(report, chart));
  written.push(files.markdown);
  return written;
}
