// npm run eval: one run puts numbers on search quality and speed, every method side by side on
// the same queries — exact product (distorted catalog photos or a query CSV), similar products
// (attribute agreement of "more like this") and shopper photos (label agreement).
import { readFile } from 'node:fs/promises';
import os from 'node:os';
import type { Logger } from 'pino';
import { hsvHistogram } from './color-histogram.js';
import { readCatalog, type CatalogEntry } from './catalog-file.js';
import { ColorHistogramIndex } from './color-histogram-index.js';
import { openEvalDatabase } from './eval-database.js';
import { agreement, mean, scoreQuery } from './metrics.js';
import { percentile } from './percentile.js';
import { MethodRunner, type ImageRuns, type MethodName } from './methods.js';
import { distortedQueries, readLabelMap, readQueryCsv, readShopperPhotos, type ProductQuery } from './query-sets.js';
import { sample, seededRandom } from './random.js';
import { MethodStats, round, type EvalReport } from './report.js';

export interface EvalOptions {
  /** styles.csv-like listing, or a folder of images. */
  catalog: string;
  /** --map for the listing (as for npm run ingest). */
  map?: string;
  /** Where the evaluation database lives (reused when it holds the same catalog and model). */
  dataDir: string;
  queries?: string;
  distort?: number;
  seed: number;
  /** 0–1, scales the distortions. */
  strength: number;
  attributes: string[];
  /** Catalog products whose neighbours are judged for --attributes. */
  attributeSample: number;
  shopper?: { labels: string; labelMap: string; splits: string[] };
  methods: MethodName[];
  k: number;
  /** Shortlist length for ann+rerank. */
  candidates: number;
  /** Recorded in the report. */
  command: string;
}

export type EvalPhase = 'ingest' | 'catalog' | 'queries' | 'attributes' | 'shopper';

export interface EvalContext {
  env: NodeJS.ProcessEnv;
  logger: Logger;
  onProgress?: (phase: EvalPhase, done: number, total: number) => void;
}

export async function runEvaluation(options: EvalOptions, context: EvalContext): Promise<EvalReport> {
  const started = Date.now();
  const progress = context.onProgress ?? (() => undefined);
  const catalog = await readCatalog(options.catalog, options.map);
  const labelMap = options.shopper ? await readLabelMap(options.shopper.labelMap) : null;
  const shopperSet = options.shopper && labelMap ? await readShopperPhotos(options.shopper.labels, labelMap, options.shopper.splits) : null;
  const csvQueries = options.queries ? await readQueryCsv(options.queries) : [];

  const db = await openEvalDatabase({
    dataDir: options.dataDir,
    catalog,
    env: context.env,
    logger: context.logger,
    onIngestProgress: (p) => progress('ingest', p.itemsDone, p.itemsTotal ?? catalog.entries.length),
  });
  try {
    const present = catalog.entries.filter((e) => db.products.has(e.id));
    const byId = new Map(present.map((e) => [e.id, e]));
    const histograms = options.methods.includes('colorHistogram') ? await histogramIndex(present, progress) : null;
    const runner = new MethodRunner(db.search, histograms, { methods: options.methods, k: options.k, candidates: options.candidates, products: db.products });
    const stats = new Map(options.methods.map((m) => [m, new MethodStats()]));
    const rerankMs: number[] = [];
    const annVsExact: number[] = [];
    const timed = (runs: ImageRuns) => {
      for (const [method, run] of Object.entries(runs.runs)) stats.get(method as MethodName)!.latencies.push(run.ms);
      if (runs.rerankMs !== undefined) rerankMs.push(runs.rerankMs);
      const { ann, exact } = runs.runs;
      if (ann && exact && exact.ranked.length) {
        const found = new Set(ann.ranked.map((r) => r.id));
        annVsExact.push(exact.ranked.filter((r) => found.has(r.id)).length / exact.ranked.length);
      }
    };

    // Exact product: each query must find its own product.
    const queries: ProductQuery[] = [
      ...csvQueries,
      ...(options.distort ? distortedQueries(present, options.distort, options.seed, options.strength) : []),
    ];
    let judged = 0;
    for (const [i, query] of queries.entries()) {
      const acceptable = new Set(query.expected.filter((id) => byId.has(id)));
      if (acceptable.size === 0) {
        context.logger.warn({ query: query.name, expected: query.expected }, 'no expected product is in the catalog: query left out');
      } else {
        const runs = await runner.searchImage(await query.load());
        timed(runs);
        for (const [method, run] of Object.entries(runs.runs)) {
          const { recall, averagePrecision } = scoreQuery(run.ranked, acceptable, options.k, options.k);
          stats.get(method as MethodName)!.addQuery(recall, averagePrecision);
        }
        judged++;
      }
      progress('queries', i + 1, queries.length);
    }

    const report: EvalReport = {
      createdAt: new Date().toISOString(),
      command: options.command,
      catalogSize: present.length,
      queries: judged,
      methods: {},
      annRecallVsExact: null,
      rerank: null,
      setup: {
        catalog: options.catalog,
        catalogEntries: catalog.entries.length,
        catalogSkipped: catalog.skipped,
        ingest: db.ingestCounts,
        reusedDatabase: !db.ingested,
        model: db.model,
        provider: db.core.models.current().models.provider,
        database: db.core.db.kind,
        k: options.k,
        seed: options.seed,
        distort: options.distort ? { count: options.distort, strength: options.strength } : null,
        queriesCsv: options.queries ?? null,
        shopper: null,
        hnswEfSearch: Number((await db.core.db.models.indexInfo(db.core.models.current().vectorModel))?.efSearch ?? NaN),
        machine: { cpus: os.availableParallelism(), cpuModel: os.cpus()[0]?.model ?? 'unknown', node: process.version, loadAverage: [] },
        elapsedSeconds: 0,
      },
    };

    // Similar products: "more like this" neighbours that share the product's attribute values.
    if (options.attributes.length > 0) {
      const picked = sample(present, Math.min(options.attributeSample, present.length), seededRandom(options.seed + 1));
      const shares = new Map(options.attributes.map((a) => [a, new Map<string, number[]>()]));
      for (const [i, entry] of picked.entries()) {
        const neighbours = await runner.similarTo(entry.id);
        for (const attribute of options.attributes) {
          const value = entry.attributes[attribute];
          if (value === undefined) continue;
          for (const [method, ranked] of Object.entries(neighbours)) {
            const share = agreement(ranked, (r) => byId.get(r.id)?.attributes[attribute] === value);
            if (share !== undefined) push(shares.get(attribute)!, method, share);
          }
        }
        progress('attributes', i + 1, picked.length);
      }
      report.attributes = Object.fromEntries([...shares].map(([a, m]) => [a, means(m, options.methods)]));
      report.attributeChance = Object.fromEntries(options.attributes.map((a) => [a, round(attributeChance(present, picked, a))]));
      report.attributeSample = picked.length;
    }

    // Shopper photos: how much of the top k is the kind of product in the photo.
    if (shopperSet && labelMap && options.shopper) {
      const attribute = labelMap.attribute;
      const overall = new Map<string, number[]>();
      const byLabel = new Map<string, Map<string, number[]>>();
      const chance: number[] = [];
      for (const [i, photo] of shopperSet.photos.entries()) {
        const runs = await runner.searchImage(await readFile(photo.path));
        timed(runs);
        if (!byLabel.has(photo.label)) byLabel.set(photo.label, new Map());
        for (const [method, run] of Object.entries(runs.runs)) {
          const share = agreement(run.ranked, (r) => photo.accepted.has(byId.get(r.id)?.attributes[attribute] ?? ''));
          if (share === undefined) continue;
          push(overall, method, share);
          push(byLabel.get(photo.label)!, method, share);
        }
        chance.push(present.filter((e) => photo.accepted.has(e.attributes[attribute] ?? '')).length / present.length);
        progress('shopper', i + 1, shopperSet.photos.length);
      }
      report.shopper = means(overall, options.methods);
      report.shopperChance = round(mean(chance));
      report.shopperQueries = shopperSet.photos.length;
      report.shopperByLabel = Object.fromEntries(
        [...byLabel].sort(([a], [b]) => a.localeCompare(b)).map(([label, m]) => [label, { photos: shopperSet.photos.filter((p) => p.label === label).length, methods: means(m, options.methods) }]),
      );
      report.setup.shopper = { labels: options.shopper.labels, labelMap: options.shopper.labelMap, attribute, splits: options.shopper.splits, unmapped: shopperSet.unmapped };
    }

    report.methods = Object.fromEntries([...stats].map(([m, s]) => [m, s.summary(options.k)]));
    report.annRecallVsExact = annVsExact.length ? round(mean(annVsExact)) : null;
    report.rerank = rerankMs.length
      ? { candidates: options.candidates, p50Ms: round(percentile(rerankMs, 50), 1), p95Ms: round(percentile(rerankMs, 95), 1), calls: rerankMs.length }
      : null;
    report.setup.machine.loadAverage = os.loadavg().map((l) => round(l, 2));
    report.setup.elapsedSeconds = Math.round((Date.now() - started) / 1000);
    return report;
  } finally {
    await db.close();
  }
}

async function histogramIndex(entries: CatalogEntry[], progress: NonNullable<EvalContext['onProgress']>): Promise<ColorHistogramIndex> {
  const index = new ColorHistogramIndex();
  for (const [i, entry] of entries.entries()) {
    index.add(entry.id, await hsvHistogram(await readFile(entry.imagePath)));
    progress('catalog', i + 1, entries.length);
  }
  return index;
}

/** Expected share of a random other catalog product with the same value, over the sampled products. */
function attributeChance(catalog: CatalogEntry[], picked: CatalogEntry[], attribute: string): number {
  const counts = new Map<string, number>();
  for (const e of catalog) {
    const v = e.attributes[attribute];
    if (v !== undefined) counts.set(v, (counts.get(v) ?? 0) + 1);
  }
  const shares = picked.flatMap((e) => {
    const v = e.attributes[attribute];
    return v === undefined ? [] : [(counts.get(v)! - 1) / Math.max(1, catalog.length - 1)];
  });
  return mean(shares);
}

function push(into: Map<string, number[]>, key: string, value: number): void {
  const list = into.get(key);
  if (list) list.push(value);
  else into.set(key, [value]);
}

/** Mean per method, in the order the methods were asked for. */
const means = (m: Map<string, number[]>, order: readonly string[]) =>
  Object.fromEntries(order.filter((k) => m.has(k)).map((k) => [k, round(mean(m.get(k)!))]));
