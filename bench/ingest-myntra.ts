// Ingest throughput and dedupe counts on the myntra catalog (9,583 photos + styles.csv), through
// the same pipeline as `npm run ingest -- folder`, on a fresh embedded database and a fresh
// Postgres database; then the same ingest again (the idempotent, nothing-to-do path).
//
//   npx tsx bench/ingest-myntra.ts [--datasets ../shared/datasets] [--limit 1000]
//                                  [--backends embedded,postgres] [--out bench/results/ingest-myntra]
//
// Reads the dataset by path and never copies it; Postgres comes from TEST_DATABASE_URL.
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { cpus, loadavg, tmpdir } from 'node:os';
import path from 'node:path';
import { Command } from 'commander';
import { pino } from 'pino';
import { loadConfig } from '../src/config.js';
import type { IngestReport } from '../src/ingest/ingest-service.js';
import { readRecords } from '../src/ingest/sources/files.js';
import { openCore } from '../src/service.js';
import { createPostgresDatabase, serviceBackends } from '../tests/support/service.js';

const MYNTRA_MAP = 'id=id,title=productDisplayName,category=articleType,colour=baseColour,image=path,attr.gender=gender,attr.masterCategory=masterCategory,attr.subCategory=subCategory,attr.season=season,attr.year=year,attr.usage=usage';

const opts = new Command()
  .option('--datasets <dir>', 'the shared datasets folder', process.env.DATASETS_DIR ?? '../shared/datasets')
  .option('--limit <n>', 'only the first n products of styles.csv')
  .option('--backends <list>', 'embedded,postgres (postgres only when reachable)', 'embedded,postgres')
  .option('--out <prefix>', 'report path prefix', 'bench/results/ingest-myntra')
  .parse()
  .opts<{ datasets: string; limit?: string; backends: string; out: string }>();

const myntra = path.resolve(opts.datasets, 'myntra');
const wanted = opts.backends.split(',');
const backends = (await serviceBackends()).filter((b) => wanted.includes(b.name));

interface Pass {
  seconds: number;
  imagesPerSecond: number;
  counts: IngestReport['counts'];
  nearDuplicateGroups: number;
  failures: Record<string, number>;
}

const pass = (r: IngestReport): Pass => ({
  seconds: +(r.elapsedMs / 1000).toFixed(1),
  imagesPerSecond: +((r.imagesHandled / r.elapsedMs) * 1000).toFixed(1),
  counts: r.counts,
  nearDuplicateGroups: r.nearDuplicateGroups.total,
  failures: Object.fromEntries(r.failures.map((f) => [f.code, f.count])),
});

async function bench(backend: 'embedded' | 'postgres', meta: string) {
  const dataDir = await mkdtemp(path.join(tmpdir(), 'vps-bench-ingest-'));
  const database = backend === 'postgres' ? await createPostgresDatabase() : null;
  const config = loadConfig({
    ...process.env,
    DATA_DIR: dataDir,
    LOG_LEVEL: 'warn',
    DEMO_CATALOG: 'false',
    ...(database ? { DATABASE_URL: database.url } : { DATABASE_URL: '' }),
  });
  const core = await openCore(config, pino({ level: 'warn' }));
  try {
    const spec = { kind: 'folder' as const, dir: myntra, meta, map: MYNTRA_MAP, source: 'myntra' };
    let last = 0;
    const onProgress = (p: { itemsDone: number; itemsTotal: number | null }) => {
      if (p.itemsDone - last < 500 && p.itemsDone !== p.itemsTotal) return;
      last = p.itemsDone;
      process.stdout.write(`  ${backend}: ${p.itemsDone}/${p.itemsTotal}\r`);
    };
    const loadBefore = loadavg()[0]!;
    const first = await core.ingest.run(spec, { onProgress });
    last = 0;
    const second = await core.ingest.run(spec, { onProgress });
    const stored = { products: await core.db.catalog.countProducts(), images: await core.db.catalog.countImages() };
    const result = {
      backend,
      model: core.models.current().vectorModel.key,
      provider: core.models.current().models.provider,
      stored,
      firstRun: pass(first),
      secondRun: pass(second),
      largestNearDuplicateGroups: first.nearDuplicateGroups.groups.slice(0, 5),
      // The machine is shared: the 1-minute load average before and after, for reading the rates.
      loadAverage: [+loadBefore.toFixed(1), +loadavg()[0]!.toFixed(1)],
    };
    console.log(`\n${backend}: ${result.firstRun.imagesPerSecond} images/s first run, ${result.secondRun.imagesPerSecond} images/s second run`);
    return result;
  } finally {
    await core.close();
    await database?.drop();
    await rm(dataDir, { recursive: true, force: true });
  }
}

// A subset is a shorter styles.csv beside a temp folder; image paths still point into myntra/.
let meta = path.join(myntra, 'styles.csv');
let subsetDir: string | undefined;
if (opts.limit) {
  const rows = (await readRecords(meta)) as Record<string, string>[];
  const columns = Object.keys(rows[0]!);
  const quote = (v: string) => (/[",\n]/.test(v) ? `"${v.replace(/"/g, '""')}"` : v);
  subsetDir = await mkdtemp(path.join(tmpdir(), 'vps-bench-meta-'));
  meta = path.join(subsetDir, 'styles.csv');
  const lines = rows.slice(0, Number(opts.limit)).map((r) => columns.map((c) => quote(r[c] ?? '')).join(','));
  await writeFile(meta, [columns.join(','), ...lines].join('\n'));
}

const results = [];
for (const backend of backends) results.push(await bench(backend.name, meta));
if (subsetDir) await rm(subsetDir, { recursive: true, force: true });

const config = loadConfig();
const report = {
  date: new Date().toISOString(),
  machine: { cpus: cpus().length, cpu: cpus()[0]?.model, node: process.version },
  catalog: { dataset: 'myntra', products: opts.limit ? Number(opts.limit) : 'all' },
  settings: {
    batchSize: config.INGEST_BATCH_SIZE,
    concurrency: config.INGEST_CONCURRENCY,
    mlBatchSize: config.ML_BATCH_SIZE,
    nearDuplicates: { action: config.NEAR_DUP_ACTION, maxHamming: config.NEAR_DUP_MAX_HAMMING, maxDistance: config.NEAR_DUP_MAX_DISTANCE },
  },
  results,
};
await writeFile(`${opts.out}.json`, `${JSON.stringify(report, null, 2)}\n`);
const md = [
  `# Ingest benchmark: myntra catalog (${report.catalog.products} products)`,
  '',
  `${report.date}, ${report.machine.cpus} × ${report.machine.cpu}, Node ${report.machine.node}; batch ${report.settings.batchSize}, concurrency ${report.settings.concurrency}, near-duplicates: ${report.settings.nearDuplicates.action}, Hamming ≤ ${report.settings.nearDuplicates.maxHamming}, distance ≤ ${report.settings.nearDuplicates.maxDistance}.`,
  '',
  '| database | model | first run | images/s | second run (unchanged) | images/s | products | images stored | exact duplicates | near-duplicates (groups) | failed | load avg |',
  '|---|---|---|---|---|---|---|---|---|---|---|---|',
  ...results.map(
    (r) =>
      `| ${r.backend} | ${r.model} (${r.provider}) | ${r.firstRun.seconds} s | ${r.firstRun.imagesPerSecond} | ${r.secondRun.seconds} s | ${r.secondRun.imagesPerSecond} | ${r.stored.products} | ${r.stored.images} | ${r.firstRun.counts.exactDuplicates} | ${r.firstRun.counts.nearDuplicates} (${r.firstRun.nearDuplicateGroups}) | ${r.firstRun.counts.failed} | ${r.loadAverage.join(' → ')} |`,
  ),
  '',
];
await writeFile(`${opts.out}.md`, md.join('\n'));
console.log(md.join('\n'));
