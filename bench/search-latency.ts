// Search latency: a 224 px JPEG upload through GraphQL (decode → embed → HNSW top-10 → response),
// on a synthetic catalog, embedded PGlite and Postgres side by side in one run.
//
//   npx tsx bench/search-latency.ts [--products 10000] [--queries 200] [--out bench/results/search-latency]
//
// Needs a Postgres server with pgvector at TEST_DATABASE_URL for the second backend.
import { cpus } from 'node:os';
import { Command } from 'commander';
import pLimit from 'p-limit';
import sharp from 'sharp';
import { percentile } from '../src/eval/percentile.js';
import { distort, productImage } from '../tests/support/images.js';
import { graphql } from '../tests/support/graphql.js';
import { writeBenchReport } from './chart.js';
import { serviceBackends, startTestService, type Backend } from '../tests/support/service.js';

const program = new Command()
  .option('--products <n>', 'catalog size', '10000')
  .option('--queries <n>', 'timed queries per backend', '200')
  .option('--warmup <n>', 'untimed queries first', '20')
  .option('--out <prefix>', 'report path prefix', 'bench/results/search-latency')
  .parse();
const opts = program.opts<{ products: string; queries: string; warmup: string; out: string }>();
const products = Number(opts.products);
const queries = Number(opts.queries);
const warmup = Number(opts.warmup);

const QUERY = `query($image: Upload) { similarProducts(image: $image, topK: 10) { tookMs items { rank product { externalId } } } }`;

async function buildCatalog(importer: Awaited<ReturnType<typeof startTestService>>['service']['importer']) {
  const started = performance.now();
  const batch = 64;
  for (let start = 0; start < products; start += batch) {
    const items = await Promise.all(
      Array.from({ length: Math.min(batch, products - start) }, async (_, j) => {
        const seed = start + j + 1;
        const bytes = await productImage(seed, { width: 160, height: 160 });
        return {
          product: {
            source: 'bench',
            externalId: `p${seed}`,
            title: `Synthetic product ${seed}`,
            category: `c${seed % 20}`,
          },
          images: [await importer.prepare(bytes)],
        };
      }),
    );
    await importer.importBatch(items, { nearDuplicates: { ...importer.nearDuplicatePolicy, action: 'link' } });
    if ((start / batch) % 20 === 0) process.stdout.write(`  catalog ${start + items.length}/${products}\r`);
  }
  return (performance.now() - started) / 1000;
}

async function queryPhotos(n: number): Promise<{ seed: number; bytes: Buffer }[]> {
  return Promise.all(
    Array.from({ length: n }, async (_, i) => {
      const seed = 1 + ((i * 7919) % products);
      const photo = await distort(await productImage(seed, { width: 320, height: 320 }), { seed: i });
      return { seed, bytes: await sharp(photo).resize(224, 224, { fit: 'fill' }).jpeg({ quality: 85 }).toBuffer() };
    }),
  );
}

interface BackendResult {
  backend: Backend['name'];
  catalogSeconds: number;
  p50Ms: number;
  p95Ms: number;
  meanMs: number;
  serverP50Ms: number;
  top1: number;
  concurrent4: { requestsPerSecond: number; p50Ms: number; p95Ms: number };
}

async function run(backend: Backend, photos: { seed: number; bytes: Buffer }[]): Promise<BackendResult> {
  console.log(`${backend.name}: building a ${products}-product catalog`);
  const t = await startTestService(backend, { DEMO_CATALOG: 'false', LOG_LEVEL: 'error' });
  try {
    const catalogSeconds = await buildCatalog(t.service.importer);
    console.log(`\n${backend.name}: catalog built in ${catalogSeconds.toFixed(0)} s; querying`);
    const ask = async (bytes: Buffer) => {
      const started = performance.now();
      const r = await graphql(t.url, QUERY, {}, { files: [{ variable: 'image', bytes, type: 'image/jpeg' }] });
      if (r.errors) throw new Error(JSON.stringify(r.errors));
      return {
        ms: performance.now() - started,
        serverMs: r.data.similarProducts.tookMs as number,
        first: r.data.similarProducts.items[0]?.product.externalId,
      };
    };
    for (let i = 0; i < warmup; i++) await ask(photos[i % photos.length]!.bytes);
    const sequential = [];
    for (let i = 0; i < queries; i++) sequential.push(await ask(photos[i]!.bytes));
    const ms = sequential.map((s) => s.ms);
    const server = sequential.map((s) => s.serverMs);
    const top1 = sequential.filter((s, i) => s.first === `p${photos[i]!.seed}`).length / queries;

    const limit = pLimit(4);
    const started = performance.now();
    const concurrent = await Promise.all(photos.map((p) => limit(() => ask(p.bytes))));
    const wall = (performance.now() - started) / 1000;
    const cms = concurrent.map((c) => c.ms);
    return {
      backend: backend.name,
      catalogSeconds,
      p50Ms: percentile(ms, 50),
      p95Ms: percentile(ms, 95),
      meanMs: ms.reduce((a, b) => a + b, 0) / ms.length,
      serverP50Ms: percentile(server, 50),
      top1,
      concurrent4: { requestsPerSecond: photos.length / wall, p50Ms: percentile(cms, 50), p95Ms: percentile(cms, 95) },
    };
  } finally {
    await t.stop();
  }
}

const photos = await queryPhotos(queries);
const results: BackendResult[] = [];
for (const backend of await serviceBackends()) results.push(await run(backend, photos));

const command = `npx tsx bench/search-latency.ts --products ${products} --queries ${queries}`;
const report = {
  command,
  date: new Date().toISOString(),
  cpu: cpus()[0]?.model,
  cores: cpus().length,
  products,
  queries,
  results,
};
const f = (n: number) => n.toFixed(1);
await writeBenchReport(
  opts.out,
  report,
  [
    `# Search latency: 224 px JPEG upload, ${products.toLocaleString('en')}-product catalog`,
    '',
    `Command: \`${command}\` — ${report.date.slice(0, 10)}, ${report.cpu} (${report.cores} cores), CPU onnxruntime.`,
    'Client-side wall time per GraphQL request (multipart upload, decode, embed, HNSW top-10, hydrate), sequential;',
    'then 4 concurrent clients over the same queries.',
    '',
    '| database | p50 ms | p95 ms | mean ms | server p50 ms | top-1 = source | 4 clients req/s | 4 clients p95 ms | catalog build s |',
    '|---|---|---|---|---|---|---|---|---|',
    ...results.map(
      (r) =>
        `| ${r.backend} | ${f(r.p50Ms)} | ${f(r.p95Ms)} | ${f(r.meanMs)} | ${f(r.serverP50Ms)} | ${(r.top1 * 100).toFixed(1)}% | ${f(r.concurrent4.requestsPerSecond)} | ${f(r.concurrent4.p95Ms)} | ${r.catalogSeconds.toFixed(0)} |`,
    ),
  ],
  {
    title: `Search latency, ${products.toLocaleString('en')} products (ms, lower is better)`,
    values: results.flatMap((r) => [
      { group: 'sequential p50', series: r.backend, value: r.p50Ms },
      { group: 'sequential p95', series: r.backend, value: r.p95Ms },
      { group: '4 clients p95', series: r.backend, value: r.concurrent4.p95Ms },
    ]),
    valueTitle: 'ms',
  },
);
process.exit(0);
