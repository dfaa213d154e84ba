import type { EvalReport } from './report.js';

const num = (x: number | null | undefined, digits = 3) => (x === null || x === undefined || Number.isNaN(x) ? '–' : x.toFixed(digits));
const ms = (x: number | null | undefined) => num(x, 1);
const row = (cells: string[]) => `| ${cells.join(' | ')} |`;
const table = (head: string[], rows: string[][]) => [row(head), row(head.map(() => '---')), ...rows.map(row)].join('\n');

/** The Markdown report: a headline table, each part in detail, and how to read the numbers. */
export function markdownReport(report: EvalReport, chartFile: string | null): string {
  const methods = Object.keys(report.methods);
  const attributes = Object.keys(report.attributes ?? {});
  const s = report.setup;
  const lines: string[] = [];
  lines.push('# Search quality evaluation', '');
  lines.push('```sh', report.command, '```', '');
  lines.push(
    `${report.createdAt.slice(0, 10)} · model \`${s.model}\` on ${s.provider} · ${s.database} database, HNSW ef_search ${s.hnswEfSearch} · ` +
      `catalog ${report.catalogSize} products (${s.catalog}) · ${s.machine.cpus} × ${s.machine.cpuModel}, Node ${s.machine.node}, ` +
      `load average at the end ${s.machine.loadAverage.join(' / ')} · ${s.elapsedSeconds} s`,
    '',
  );

  lines.push('## Headline', '');
  lines.push(
    table(
      ['method', 'Recall@1', 'Recall@5', 'Recall@10', 'mAP@10', 'p50 ms', 'p95 ms', ...attributes.map((a) => `same ${a}`), ...(report.shopper ? ['shopper'] : [])],
      methods.map((m) => {
        const r = report.methods[m]!;
        return [
          `\`${m}\``,
          num(r.recallAt1),
          num(r.recallAt5),
          num(r.recallAt10),
          num(r.mapAt10),
          ms(r.p50Ms),
          ms(r.p95Ms),
          ...attributes.map((a) => num(report.attributes![a]![m])),
          ...(report.shopper ? [num(report.shopper[m])] : []),
        ];
      }),
    ),
    '',
  );
  if (attributes.length || report.shopper) {
    lines.push(
      `Chance (a random catalog product): ${[
        ...attributes.map((a) => `same ${a} ${num(report.attributeChance?.[a])}`),
        ...(report.shopper ? [`shopper ${num(report.shopperChance)}`] : []),
      ].join(', ')}.`,
      '',
    );
  }

  lines.push('## Exact product', '');
  const sources = [
    s.distort ? `${s.distort.count} catalog photos with photo-like distortions (strength ${s.distort.strength}, seed ${s.seed})` : null,
    s.queriesCsv ? `the queries of ${s.queriesCsv}` : null,
  ].filter(Boolean);
  lines.push(`${report.queries} queries: ${sources.join(' and ') || 'none'}. Each must find its own product.`, '');
  if (chartFile) lines.push(`![Recall@k per method](${chartFile})`, '');
  if (report.annRecallVsExact !== null) {
    lines.push(`ANN (HNSW) against the exact scan: the ANN top ${s.k} holds ${num(report.annRecallVsExact)} of the exact top ${s.k}.`, '');
  }
  if (report.rerank) {
    lines.push(
      `Re-ranking alone (\`rerankSearch\`, N = ${report.rerank.candidates}, ${report.rerank.calls} calls): p50 ${ms(report.rerank.p50Ms)} ms, p95 ${ms(report.rerank.p95Ms)} ms.`,
      '',
    );
  }

  if (report.attributes) {
    lines.push('## Similar products', '');
    lines.push(`"More like this" for ${report.attributeSample} sampled catalog products: the share of the top ${s.k} neighbours (the product itself excluded) with the same value.`, '');
    lines.push(
      table(
        ['method', ...attributes],
        [...methods.map((m) => [`\`${m}\``, ...attributes.map((a) => num(report.attributes![a]![m]))]), ['chance', ...attributes.map((a) => num(report.attributeChance?.[a]))]],
      ),
      '',
    );
  }

  if (report.shopper && report.shopperByLabel && s.shopper) {
    lines.push('## Shopper photos', '');
    lines.push(
      `${report.shopperQueries} labelled photos (${s.shopper.labels}, splits ${s.shopper.splits.join(', ')}; ${s.shopper.unmapped} photos with labels the map leaves out): ` +
        `the share of the top ${s.k} whose ${s.shopper.attribute} matches the photo's label through ${s.shopper.labelMap}.`,
      '',
    );
    const labels = Object.entries(report.shopperByLabel);
    lines.push(
      table(
        ['label', 'photos', ...methods.map((m) => `\`${m}\``)],
        [
          ...labels.map(([label, l]) => [label, String(l.photos), ...methods.map((m) => num(l.methods[m]))]),
          ['**all**', String(report.shopperQueries), ...methods.map((m) => `**${num(report.shopper![m])}**`)],
        ],
      ),
      '',
    );
  }

  lines.push('## How to read it', '');
  lines.push(
    `- **Recall@k**: the share of queries with an acceptable product in the top k. **mAP@10**: mean average precision at 10 (one expected product at rank r scores 1/r). ` +
      'Ties in distance or score are broken against the method: a relevant product tied with others counts as ranked last among them.',
    '- **p50 / p95**: latency of one photo search, as the service reports it in `tookMs` (decode, embed, search, store the search, load the products), ' +
      'over every photo query (exact-product and shopper). `ann+rerank` adds the `rerankSearch` call to the ANN search it re-orders; ' +
      '`colorHistogram` is the histogram of the photo plus a brute-force scan in memory. Methods run one after another on the same machine, which other jobs may share: compare them with each other.',
    '- **exact** is the same embedding without the index (a sequential scan): its gap to `ann` is what the HNSW approximation costs.',
    '- **colorHistogram** is the floor: an HSV histogram (8 × 4 × 4 bins) compared with the Hellinger distance, no learning.',
    '',
  );
  return lines.join('\n');
}
