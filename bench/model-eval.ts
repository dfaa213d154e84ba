// A quick, database-free measure of one or more models folders on a catalog, for model research:
// every catalog photo embedded once through the service's own preprocessing and onnxruntime
// sessions, queries answered by an exact scan (the figures `npm run eval` reports for `exact`,
// which ANN matches to 0.998), the pairwise scorer over the top 50 (--candidates) as `ann+rerank` does. Minutes
// instead of the full harness's ingest, so that each training change can be measured.
//
//   npx tsx bench/model-eval.ts --models models,/tmp/runs/e30 \
//     --catalog ../shared/datasets/myntra/styles.csv --map id=id,title=productDisplayName,category=articleType,colour=baseColour,image=path \
//     --distort 1000 --seed 1 --queries tmp/queries-s11/queries.csv \
//     --shopper ../shared/datasets/clothing-cc0/labels.csv --label-map bench/clothing-cc0-label-map.json \
//     --out tmp/model-eval.json
//
// Query groups: `distort-s<strength>` (the harness's own distortions) and, for a query CSV, the
// first folder of each query path (bench/photo_queries.py writes one per recipe and strength).
import { readFile, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { Command } from 'commander';
import pino from 'pino';
import { readCatalog, type CatalogEntry } from '../src/eval/catalog-file.js';
import { agreement, mean } from '../src/eval/metrics.js';
import { distortedQueries, readLabelMap, readQueryCsv, readShopperPhotos, type ProductQuery } from '../src/eval/query-sets.js';
import { sample, seededRandom } from '../src/eval/random.js';
import { validateImage } from '../src/images/index.js';
import { loadModels, type LoadedModels } from '../src/ml/index.js';

const list = (v: string) => v.split(',').map((s) => s.trim()).filter(Boolean);
const program = new Command()
  .requiredOption('--models <dirs>', 'models folders to compare, comma-separated', list)
  .requiredOption('--catalog <csv>', 'catalog listing')
  .option('--map <mapping>', 'field mapping, as for npm run eval')
  .option('--distort <n>', 'distorted catalog photos per strength (the harness recipe)', Number, 0)
  .option('--strengths <list>', 'distortion strengths', (v) => list(v).map(Number), [1])
  .option('--seed <s>', 'seed of the distorted queries and samples', Number, 1)
  .option('--queries <csv>', 'query CSV (query_path,expected_id); grouped by first folder')
  .option('--shopper <csv>', 'labelled shopper photos')
  .option('--label-map <json>', 'shopper label → accepted articleType values')
  .option('--attribute-sample <n>', 'catalog products judged for articleType/baseColour agreement', Number, 1000)
  .option('--no-rerank', 'skip the pairwise scorer')
  .option('--candidates <n>', 'shortlist the scorer re-ranks (ann+rerank: 50)', Number, 50)
  .option('--examples <groups>', 'write the first query of these groups with its top 5 (for a picture)', list, [])
  .option('--example-shopper <labels>', 'also the first shopper photo of each of these labels', list, [])
  .option('--local-weights <list>', 'also re-rank by the scorer logit + w x 10 x local match, for each w (how training --local-weight was chosen)', (v) => list(v).map(Number), [])
  .option('--center-crop <f>', 'query-side fusion: also embed a centred crop of side f (0..1) and average', Number, 0)
  .requiredOption('--out <json>', 'JSON results');
program.parse();
const opts = program.opts();
const logger = pino({ level: 'warn' });

interface Embedded {
  vectors: Float32Array; // n × dim
  features: Float32Array[]; // with re-ranking only
}

interface Index extends Embedded {
  ids: string[];
}

/**
 * Query-side fusion (`--center-crop f`): the query's embedding is the normalised mean of the
 * whole photo's and a centred crop's (side f): a shopper's photo holds the product near the
 * middle, with background around it. Catalog photos are always embedded whole.
 */
async function embedFiles(models: LoadedModels, files: (() => Promise<Buffer>)[], keepFeatures: boolean, centerCrop = 0): Promise<Embedded> {
  const dim = models.info.dim;
  const vectors = new Float32Array(files.length * dim);
  const features: Float32Array[] = [];
  const chunk = 64;
  for (let i = 0; i < files.length; i += chunk) {
    const images = await Promise.all(files.slice(i, i + chunk).map(async (load) => ({ image: await validateImage(await load(), { maxPixels: 40e6 }) })));
    const out = await models.embed(images);
    const inner = centerCrop > 0 ? await models.embed(images.map(({ image }) => ({ image, region: { x: (1 - centerCrop) / 2, y: (1 - centerCrop) / 2, width: centerCrop, height: centerCrop } }))) : null;
    out.forEach((e, j) => {
      const v = inner ? e.vector.map((x, d) => x + inner[j]!.vector[d]!) : e.vector;
      const norm = Math.hypot(...v);
      vectors.set(v.map((x) => x / norm), (i + j) * dim);
      if (keepFeatures) features[i + j] = e.features;
    });
    if ((i / chunk) % 20 === 0) process.stderr.write(`\r  embedded ${Math.min(i + chunk, files.length)}/${files.length}`);
  }
  process.stderr.write('\n');
  return { vectors, features };
}

/** Indices of the k nearest catalog rows (largest dot product of unit vectors = smallest L2). */
function nearest(index: Index, dim: number, q: Float32Array, qOffset: number, k: number, exclude = -1): number[] {
  const n = index.ids.length;
  const best: { i: number; s: number }[] = [];
  for (let i = 0; i < n; i++) {
    if (i === exclude) continue;
    let s = 0;
    const o = i * dim;
    for (let d = 0; d < dim; d++) s += index.vectors[o + d]! * q[qOffset + d]!;
    if (best.length < k || s > best[best.length - 1]!.s) {
      let j = best.length < k ? best.length : k - 1;
      if (best.length < k) best.push({ i, s });
      while (j > 0 && best[j - 1]!.s < s) {
        best[j] = best[j - 1]!;
        j--;
      }
      best[j] = { i, s };
    }
  }
  return best.map((b) => b.i);
}

/** A feature map C×H×W as H·W unit-length cell vectors (rows of C). */
function cells(f: Float32Array, C: number): Float32Array {
  const n = f.length / C;
  const out = new Float32Array(n * C);
  for (let i = 0; i < n; i++) {
    let s = 0;
    for (let c = 0; c < C; c++) { const v = f[c * n + i]!; out[i * C + c] = v; s += v * v; }
    const k = s > 0 ? 1 / Math.sqrt(s) : 0;
    for (let c = 0; c < C; c++) out[i * C + c]! *= k;
  }
  return out;
}

/** training/model.py's local_match: each cell's best cosine among the other map's cells, averaged over both maps' cells. */
function localMatch(q: Float32Array, c: Float32Array, C: number): number {
  const n = q.length / C;
  const bestC = new Float32Array(n).fill(-1);
  let sumQ = 0;
  for (let i = 0; i < n; i++) {
    let best = -1;
    const qo = i * C;
    for (let j = 0; j < n; j++) {
      let s = 0;
      const co = j * C;
      for (let d = 0; d < C; d++) s += q[qo + d]! * c[co + d]!;
      if (s > best) best = s;
      if (s > bestC[j]!) bestC[j] = s;
    }
    sumQ += best;
  }
  let sumC = 0;
  for (let j = 0; j < n; j++) sumC += bestC[j]!;
  return (sumQ + sumC) / (2 * n);
}

const rank = (ids: string[], expected: Set<string>) => ids.findIndex((id) => expected.has(id));

interface Example {
  title: string;
  query: string;
  top: { id: string; title: string; image: string; right: boolean }[];
}
const examples: Example[] = [];

/** Keeps a query (its bytes beside the JSON report) and its first 5 results, for bench/example_queries.py. */
async function example(title: string, bytes: Buffer, order: number[], right: (t: number) => boolean) {
  const query = `${opts.out.replace(/\.json$/, '')}-query-${examples.length}.jpg`;
  await writeFile(query, bytes);
  const top = order.slice(0, 5).map((t) => ({ id: catalogEntries[t]!.id, title: catalogEntries[t]!.attributes.productDisplayName ?? '', image: catalogEntries[t]!.imagePath, right: right(t) }));
  examples.push({ title, query, top });
}

async function evaluateModel(dir: string, entries: CatalogEntry[], groups: Map<string, ProductQuery[]>) {
  const models = await loadModels({ modelsDir: path.resolve(dir), providers: ['cpu'], batchSize: 32, logger, verify: false });
  const dim = models.info.dim;
  const started = Date.now();
  console.error(`${dir}: ${models.info.key}, input ${models.info.inputSize}px`);
  const catalog = await embedFiles(models, entries.map((e) => () => readFile(e.imagePath)), opts.rerank);
  const index: Index = { ids: entries.map((e) => e.id), ...catalog };
  const image = (set: Embedded, k: number) => ({ vector: set.vectors.subarray(k * dim, (k + 1) * dim), features: set.features[k]! });
  /** `top` (≥ 10 rows) with its first --candidates re-ordered by `value` of each (ties keep the search's order). */
  const reorder = (top: number[], value: (j: number) => number) => {
    const order = top.slice(0, opts.candidates).map((t, j) => ({ t, s: value(j), j })).sort((a, b) => b.s - a.s || a.j - b.j).map((o) => o.t);
    return [...order, ...top.slice(opts.candidates)];
  };
  /** The pairwise scorer's probabilities for query i of `queries` against the first --candidates of its top. */
  const score = (queries: Embedded, i: number, top: number[]) => models.score(image(queries, i), top.slice(0, opts.candidates).map((t) => image(catalog, t)));
  const rerank = async (queries: Embedded, i: number, top: number[]) => {
    const scores = await score(queries, i, top);
    return reorder(top, (j) => scores[j]!);
  };
  const C = models.info.featureShape[0];
  /** One order per --local-weights value: scorer logit + w × 10 × local match (the scorer's `scores`, computed once). */
  const localReranks = (queries: Embedded, i: number, top: number[], scores: number[]) => {
    const qc = cells(queries.features[i]!, C);
    const local = top.slice(0, opts.candidates).map((t) => localMatch(qc, cells(catalog.features[t]!, C), C));
    const logit = scores.map((p) => Math.log(Math.max(p, 1e-7) / Math.max(1 - p, 1e-7)));
    return (opts.localWeights as number[]).map((w) => reorder(top, (j) => logit[j]! + w * 10 * local[j]!));
  };
  const shortlistSize = opts.rerank ? Math.max(10, opts.candidates) : 10;
  const result: Record<string, unknown> = { models: dir, key: models.info.key, sha256: models.manifest.files.embedder.sha256.slice(0, 16) };
  const byGroup: Record<string, Record<string, number>> = {};
  for (const [group, queries] of groups) {
    const q = await embedFiles(models, queries.map((x) => x.load), opts.rerank, opts.centerCrop);
    const ann: number[] = [];
    const rr: number[] = [];
    const lr: number[][] = (opts.localWeights as number[]).map(() => []);
    for (let i = 0; i < queries.length; i++) {
      const expected = new Set(queries[i]!.expected);
      const top = nearest(index, dim, q.vectors, i * dim, shortlistSize);
      ann.push(rank(top.map((t) => index.ids[t]!), expected));
      let order = top;
      if (opts.rerank) {
        const scores = await score(q, i, top);
        order = reorder(top, (j) => scores[j]!);
        rr.push(rank(order.map((t) => index.ids[t]!), expected));
        localReranks(q, i, top, scores).forEach((o, w) => lr[w]!.push(rank(o.map((t) => index.ids[t]!), expected)));
      }
      if (i === 0 && opts.examples.includes(group)) await example(group, await queries[i]!.load(), order, (t) => expected.has(index.ids[t]!));
    }
    const at = (ranks: number[], k: number) => mean(ranks.map((r) => (r >= 0 && r < k ? 1 : 0)));
    byGroup[group] = { queries: queries.length, r1: at(ann, 1), r10: at(ann, 10) };
    if (opts.rerank) Object.assign(byGroup[group]!, { rr1: at(rr, 1), rr10: at(rr, 10) });
    (opts.localWeights as number[]).forEach((w, k) => Object.assign(byGroup[group]!, { [`local${w}_r1`]: at(lr[k]!, 1), [`local${w}_r10`]: at(lr[k]!, 10) }));
    console.error(`  ${group}: ${JSON.stringify(byGroup[group])}`);
  }
  result.groups = byGroup;
  // One figure for the photo-like recipes (every group but the harness's own distortions).
  const photo = Object.entries(byGroup).filter(([g]) => !g.startsWith('distort-'));
  if (photo.length) {
    result.photo = Object.fromEntries(Object.keys(photo[0]![1]).filter((m) => m !== 'queries').map((m) => [m, mean(photo.map(([, v]) => v[m]!))]));
  }
  if (opts.attributeSample > 0) {
    const picks = sample([...entries.keys()], opts.attributeSample, seededRandom(opts.seed));
    for (const attr of ['articleType', 'baseColour']) {
      result[attr] = mean(
        picks.map((i) => {
          const top = nearest(index, dim, index.vectors, i * dim, 10, i);
          return agreement(top, (t) => entries[t]!.attributes[attr] === entries[i]!.attributes[attr]) ?? 0;
        }),
      );
    }
  }
  if (opts.shopper && opts.labelMap) {
    const map = await readLabelMap(opts.labelMap);
    const { photos } = await readShopperPhotos(opts.shopper, map, ['validation', 'test']);
    const q = await embedFiles(models, photos.map((p) => () => readFile(p.path)), opts.rerank, opts.centerCrop);
    const shown = new Set<string>();
    const agreements = [];
    const reranked = [];
    for (const [i, p] of photos.entries()) {
      const shortlist = nearest(index, dim, q.vectors, i * dim, shortlistSize);
      const top = shortlist.slice(0, 10);
      const right = (t: number) => p.accepted.has(entries[t]!.attributes[map.attribute] ?? '');
      agreements.push(agreement(top, right) ?? 0);
      if (opts.rerank) reranked.push(agreement((await rerank(q, i, shortlist)).slice(0, 10), right) ?? 0);
      if (opts.exampleShopper.includes(p.label) && !shown.has(p.label)) {
        shown.add(p.label);
        await example(`shopper ${p.label}`, await readFile(p.path), top, right);
      }
    }
    result.shopper = mean(agreements);
    if (opts.rerank) result.shopperRerank = mean(reranked);
  }
  if (examples.length) result.examples = examples.splice(0);
  result.seconds = Math.round((Date.now() - started) / 1000);
  await models.close();
  return result;
}

/** Distorting a photo costs more than embedding it: make each query once for all models. */
const once = (q: ProductQuery): ProductQuery => {
  let bytes: Promise<Buffer> | undefined;
  return { ...q, load: () => (bytes ??= q.load()) };
};

const catalog = await readCatalog(opts.catalog, opts.map);
const catalogEntries = catalog.entries;
const groups = new Map<string, ProductQuery[]>();
for (const s of opts.distort > 0 ? opts.strengths : []) groups.set(`distort-s${s}`, distortedQueries(catalog.entries, opts.distort, opts.seed, s).map(once));
if (opts.queries) {
  for (const q of await readQueryCsv(opts.queries)) {
    const group = q.name.split('/')[0]!;
    groups.set(group, [...(groups.get(group) ?? []), q]);
  }
}
const results = [];
for (const dir of opts.models) results.push(await evaluateModel(dir, catalog.entries, groups));
const report = { command: process.argv.slice(2).join(' '), load: os.loadavg(), catalog: catalog.entries.length, results };
await writeFile(opts.out, JSON.stringify(report, null, 2) + '\n');
// One Markdown row per model, in the column order of training/README.md's ablation table.
const f = (v: unknown) => (typeof v === 'number' ? v.toFixed(3) : '–');
console.log('| models | distort R@1 | R@10 | +rerank R@1 | photo R@1 | R@10 | +rerank R@1 | articleType | baseColour | shopper | +rerank |');
for (const r of results) {
  const d = (r.groups as Record<string, Record<string, number>>)['distort-s1'] ?? {};
  const p = (r.photo ?? {}) as Record<string, number>;
  console.log(`| ${r.models} | ${[d.r1, d.r10, d.rr1, p.r1, p.r10, p.rr1, r.articleType, r.baseColour, r.shopper, r.shopperRerank].map(f).join(' | ')} |`);
}
