// Ingest throughput and dedupe counts on the myntra catalog (9,583 photos + styles.csv), through
// the same pipeline as `npm run ingest -- folder`, on a fresh embedded database and a fresh
// Postgres database; then the same ingest again (the idempotent, nothing-to-do path). The
// embedder alone is measured before and after (its batch-32 images/s is the ceiling an ingest
// could reach), and the report shows where each first run spent its time, per stage.
//
//   npx tsx bench/ingest-myntra.ts [--datasets ../shared/datasets] [--limit 1000]
//                                  [--backends embedded,postgres] [--seconds 5] [--out bench/results/ingest-myntra]
//
// Reads the dataset by path and never copies it; Postgres comes from TEST_DATABASE_URL.
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { cpus, loadavg, tmpdir } from 'node:os';
import path from 'node:path';
import { Command } from 'commander';
import { pino } from 'pino';
import { loadConfig } from '../src/config.js';
import type { IngestReport } from '../src/ingest/ingest-service.js';
import { INGEST_STAGES, type StageRate } from '../src/ingest/stage-clock.js';
import { readRecords } from '../src/ingest/sources/files.js';
import { openCore } from '../src/service.js';
import { createPostgresDatabase, serviceBackends } from '../tests/support/service.js';
import { vegaLitePng } from './chart.js';
import { embedderAlone } from './embedder-alone.js';

const MYNTRA_MAP = 'id=id,title=productDisplayName,category=articleType,colour=baseColour,image=path,attr.gender=gender,attr.masterCategory=masterCategory,attr.subCategory=subCategory,attr.season=season,attr.year=year,attr.usage=usage';

const opts = new Command()
  .option('--datasets <dir>', 'the shared datasets folder', process.env.DATASETS_DIR ?? '../shared/datasets')
  .option('--limit <n>', 'only the first n products of styles.csv')
  .option('--backends <list>', 'embedded,postgres (postgres only when reachable)', 'embedded,postgres')
  .option('--seconds <s>', 'time per embedder-alone measurement', '5')
  .option('--out <prefix>', 'report path prefix', 'bench/results/ingest-myntra')
  .parse()
  .opts<{ datasets: string; limit?: string; backends: string; seconds: string; out: string }>();

const myntra = path.resolve(opts.datasets, 'myntra');
const pct = (x: number) => `${(100 * x).toFixed(1)} %`;
const wanted = opts.backends.split(',');
const backends = (await serviceBackends()).filter((b) => wanted.includes(b.name));

interface Pass {
  seconds: number;
  imagesPerSecond: number;
  counts: IngestReport['counts'];
  nearDuplicateGroups: number;
  failures: Record<string, number>;
  stages: StageRate[];
}

const pass = (r: IngestReport): Pass => ({
  seconds: +(r.elapsedMs / 1000).toFixed(1),
  imagesPerSecond: +((r.imagesHandled / r.elapsedMs) * 1000).toFixed(1),
  counts: r.counts,
  nearDuplicateGroups: r.nearDuplicateGroups.total,
  failures: Object.fromEntries(r.failures.map((f) => [f.code, f.count])),
  stages: r.stages,
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

const embedderFirst = await embedderAlone(Number(opts.seconds));
const results: Awaited<ReturnType<typeof bench>>[] = [];
for (const backend of backends) results.push(await bench(backend.name, meta));
// The machine's load changes during a run: the embedder alone before and after, and the mean counts.
const embedderLast = await embedderAlone(Number(opts.seconds));
const embedder = {
  model: embedderFirst.model,
  batch32ImagesPerSecond: +(2000 / (embedderFirst.batch32MsPerImage + embedderLast.batch32MsPerImage)).toFixed(1),
  first: embedderFirst,
  last: embedderLast,
};
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
  embedder,
  results,
};
await writeFile(`${opts.out}.json`, `${JSON.stringify(report, null, 2)}\n`);
const md = [
  `# Ingest benchmark: myntra catalog (${report.catalog.products} products)`,
  '',
  `Command: \`npx tsx bench/ingest-myntra.ts ${process.argv.slice(2).join(' ')}\``,
  '',
  `${report.date}, ${report.machine.cpus} × ${report.machine.cpu}, Node ${report.machine.node}; batch ${report.settings.batchSize}, concurrency ${report.settings.concurrency}, near-duplicates: ${report.settings.nearDuplicates.action}, Hamming ≤ ${report.settings.nearDuplicates.maxHamming}, distance ≤ ${report.settings.nearDuplicates.maxDistance}.`,
  '',
  `The embedder alone (${embedder.model}, batch 32, mean of before and after): ${embedder.batch32ImagesPerSecond} images/s (${embedder.first.batch32ImagesPerSecond.toFixed(1)} before, ${embedder.last.batch32ImagesPerSecond.toFixed(1)} after).`,
  '',
  '| database | model | first run | images/s | ÷ embedder alone | second run (unchanged) | images/s | products | images stored | exact duplicates | near-duplicates (groups) | failed | load avg |',
  '|---|---|---|---|---|---|---|---|---|---|---|---|---|',
  ...results.map(
    (r) =>
      `| ${r.backend} | ${r.model} (${r.provider}) | ${r.firstRun.seconds} s | ${r.firstRun.imagesPerSecond} | ${pct(r.firstRun.imagesPerSecond / embedder.batch32ImagesPerSecond)} | ${r.secondRun.seconds} s | ${r.secondRun.imagesPerSecond} | ${r.stored.products} | ${r.stored.images} | ${r.firstRun.counts.exactDuplicates} | ${r.firstRun.counts.nearDuplicates} (${r.firstRun.nearDuplicateGroups}) | ${r.firstRun.counts.failed} | ${r.loadAverage.join(' → ')} |`,
  ),
  '',
  'Where the first run spent its time. Stages overlap (the next batch is read, validated and embedded while one is written), so each counts the wall time it had work in flight; images ÷ that time is the rate the stage sustains while it runs, and the stage active for most of the run bounds it.',
  '',
  `| stage | ${results.map((r) => `${r.backend}: images | active s | images/s | % of run`).join(' | ')} |`,
  `|---|${results.map(() => '---|---|---|---|').join('')}`,
  ...INGEST_STAGES.map((stage) => {
    const cells = results.map((r) => {
      const s = r.firstRun.stages.find((x) => x.stage === stage);
      return s
        ? `${s.images} | ${(s.activeMs / 1000).toFixed(1)} | ${s.imagesPerSecond} | ${pct(s.activeMs / 1000 / r.firstRun.seconds)}`
        : '– | – | – | –';
    });
    return `| ${stage} | ${cells.join(' | ')} |`;
  }),
  '',
  `![Share of the first run each stage was active](${path.basename(opts.out)}.png)`,
  '',
];
await writeFile(`${opts.out}.md`, md.join('\n'));
await writeFile(
  `${opts.out}.png`,
  await vegaLitePng({
    title: 'Ingest: share of the run each stage had work in flight',
    background: 'white',
    width: 360,
    height: 200,
    data: {
      values: results.flatMap((r) =>
        r.firstRun.stages.map((s) => ({
          backend: r.backend,
          stage: s.stage,
          share: (100 * s.activeMs) / 1000 / r.firstRun.seconds,
        })),
      ),
    },
    mark: 'bar',
    encoding: {
      y: { field: 'stage', type: 'nominal', sort: [...INGEST_STAGES], title: null },
      yOffset: { field: 'backend' },
      x: { field: 'share', type: 'quantitative', title: '% of the first run active' },
      color: { field: 'backend', type: 'nominal', title: null },
    },
  }),
);
console.log(md.join('\n'));
