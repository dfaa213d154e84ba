// Search latency while a registered model re-embeds the catalog in the background, against the
// same searches idle, in one run: a myntra subset ingested into a fresh database, then searches
// (one at a time, uploads of held-out myntra photos) idle → during the re-embedding of a second
// model (a copy of MODELS_DIR under another name) → idle again. Also the re-embedding rate.
//
//   npx tsx bench/reembed-latency.ts [--datasets ../shared/datasets] [--products 1000] [--queries 40]
//     [--backend embedded|postgres] [--out bench/results/reembed-latency]
//
// REEMBED_BATCH_SIZE / REEMBED_PAUSE_MS / REEMBED_PAUSE_FACTOR from the environment, as for the service.
import { cp, mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { cpus, loadavg, tmpdir } from 'node:os';
import path from 'node:path';
import { Command } from 'commander';
import { pino } from 'pino';
import { CatalogService } from '../src/catalog/catalog-service.js';
import { imageLimits, loadConfig } from '../src/config.js';
import { percentile } from '../src/eval/percentile.js';
import { SearchService } from '../src/search/search-service.js';
import { openCore } from '../src/service.js';
import { createPostgresDatabase } from '../tests/support/service.js';

const opts = new Command()
  .option('--datasets <dir>', 'the shared datasets folder', process.env.DATASETS_DIR ?? '../shared/datasets')
  .option('--products <n>', 'catalog products (the first n of styles.csv)', '1000')
  .option('--queries <n>', 'query photos (the n products after the catalog)', '40')
  .option('--backend <name>', 'embedded or postgres (TEST_DATABASE_URL)', 'embedded')
  .option('--out <prefix>', 'report path prefix', 'bench/results/reembed-latency')
  .parse()
  .opts<{ datasets: string; products: string; queries: string; backend: string; out: string }>();

const myntra = path.resolve(opts.datasets, 'myntra');
const products = Number(opts.products);
const queryCount = Number(opts.queries);
const work = await mkdtemp(path.join(tmpdir(), 'vps-bench-reembed-'));
const database = opts.backend === 'postgres' ? await createPostgresDatabase() : null;

const lines = (await readFile(path.join(myntra, 'styles.csv'), 'utf8')).trim().split('\n');
const header = lines[0]!;
const rows = lines.slice(1).filter((l) => !l.includes('"'));
await writeFile(path.join(work, 'catalog.csv'), [header, ...rows.slice(0, products)].join('\n'));
const queries = await Promise.all(rows.slice(products, products + queryCount).map((r) => readFile(path.join(myntra, r.split(',')[0]!))));

const copy = path.join(work, 'models-copy');
await cp(path.resolve(process.env.MODELS_DIR ?? 'models'), copy, { recursive: true });
const manifest = JSON.parse(await readFile(path.join(copy, 'manifest.json'), 'utf8'));
await writeFile(path.join(copy, 'manifest.json'), JSON.stringify({ ...manifest, name: `${manifest.name}-copy` }));

const config = loadConfig({
  ...process.env,
  DATA_DIR: path.join(work, 'data'),
  LOG_LEVEL: 'warn',
  DEMO_CATALOG: 'false',
  ...(database ? { DATABASE_URL: database.url } : { DATABASE_URL: '' }),
});
const core = await openCore(config, pino({ level: 'warn' }));
try {
  const spec = { kind: 'folder' as const, dir: myntra, meta: path.join(work, 'catalog.csv'), map: 'id=id,title=productDisplayName,image=path', source: 'myntra' };
  const ingested = await core.ingest.run(spec, {});
  const images = await core.db.catalog.countImages();
  process.stdout.write(`catalog: ${images} images (${ingested.status})\n`);
  const catalog = new CatalogService(core.db, core.media, core.models);
  const search = new SearchService(core.db, core.models, catalog, { imageLimits: imageLimits(config), searchTtlMs: 3600_000 });
  let next = 0;
  const once = async () => {
    const started = performance.now();
    await search.similarProducts({ source: { kind: 'upload', bytes: queries[next++ % queries.length]! }, topK: 10 });
    return performance.now() - started;
  };
  const idle = async () => {
    const ms: number[] = [];
    for (let i = 0; i < queries.length; i++) ms.push(await once());
    return ms;
  };
  await idle(); // warm-up: sessions, caches, planner statistics
  const load = [loadavg()[0]!];
  const before = await idle();

  const registeredAt = performance.now();
  const { key } = await core.models.register(copy);
  let finished = false;
  const job = core.models.whenIndexed(key).then((outcome) => {
    finished = true;
    return { outcome, seconds: (performance.now() - registeredAt) / 1000 };
  });
  const during: number[] = [];
  while (!finished) during.push(await once());
  const reembed = await job;
  load.push(loadavg()[0]!);
  const after = await idle();
  load.push(loadavg()[0]!);

  const summary = (ms: number[]) => ({ searches: ms.length, p50: +percentile(ms, 50).toFixed(1), p95: +percentile(ms, 95).toFixed(1) });
  const idleAll = [...before, ...after];
  const result = {
    command: ['npx tsx bench/reembed-latency.ts', ...process.argv.slice(2)].join(' '),
    backend: opts.backend,
    catalogImages: images,
    reembed: {
      batchSize: config.REEMBED_BATCH_SIZE,
      pauseMs: config.REEMBED_PAUSE_MS,
      pauseFactor: config.REEMBED_PAUSE_FACTOR,
      outcome: reembed.outcome,
      seconds: +reembed.seconds.toFixed(1),
      imagesPerSecond: +(images / reembed.seconds).toFixed(1),
    },
    idleBefore: summary(before),
    during: summary(during),
    idleAfter: summary(after),
    p50Ratio: +(percentile(during, 50) / percentile(idleAll, 50)).toFixed(2),
    machine: { cpus: cpus().length, cpuModel: cpus()[0]?.model, loadAverage1m: load.map((l) => +l.toFixed(2)) },
    date: new Date().toISOString(),
  };
  await writeFile(`${opts.out}.json`, `${JSON.stringify(result, null, 2)}\n`);
  process.stdout.write(`${JSON.stringify(result, null, 2)}\n`);
} finally {
  await core.close();
  await database?.drop();
  await rm(work, { recursive: true, force: true });
}
