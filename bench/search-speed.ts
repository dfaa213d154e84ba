// The search path against the embedder's own limit, in one run: the embedder alone (batch-1
// latency, batch-32 images/s, onnxruntime-node through src/ml) and the service end to end over
// real HTTP (a child process, as `npm start` runs it) on Postgres and on the embedded database,
// each holding the same myntra photos ingested through the ingest service: a 224 px JPEG upload
// through GraphQL, top 10, sequential p50/p99 and 32 concurrent clients; the ratios of issue #12's
// goal table, and where the time goes per stage (from the service's /metrics histograms).
//
//   npx tsx bench/search-speed.ts [--products 2000] [--label before] [--baseline bench/results/search-speed-before.json]
//
// Postgres: --postgres-url (a database of its own, kept between runs so that the catalog is
// ingested once); embedded: --embedded-dir. The myntra dataset is read by path, never copied.
import { spawn, type ChildProcess } from 'node:child_process';
import { mkdir, readFile, writeFile } from 'node:fs/promises';
import { cpus, loadavg } from 'node:os';
import path from 'node:path';
import { Command } from 'commander';
import { pino } from 'pino';
import sharp from 'sharp';
import { loadConfig } from '../src/config.js';
import { percentile } from '../src/eval/percentile.js';
import { vegaLitePng } from './chart.js';
import { embedderAlone } from './embedder-alone.js';
import { SEARCH_STAGES } from '../src/search/stage-timer.js';
import { ensureDatabase } from './postgres-database.js';
import { stageMeans, stageTotals } from './stage-metrics.js';
import { readRecords } from '../src/ingest/sources/files.js';
import { openCore } from '../src/service.js';

const MYNTRA_MAP = 'id=id,title=productDisplayName,category=articleType,colour=baseColour,image=path,attr.gender=gender,attr.masterCategory=masterCategory,attr.subCategory=subCategory,attr.season=season,attr.year=year,attr.usage=usage';
const QUERY = `query($image: Upload) { similarProducts(image: $image, topK: 10) { id tookMs items { rank distance product { id externalId title category } image { url } } } }`;

const opts = new Command()
  .option('--products <n>', 'myntra products in the catalog (the first n of styles.csv)', '2000')
  .option('--datasets <dir>', 'the shared datasets folder', process.env.DATASETS_DIR ?? '../shared/datasets')
  .option('--postgres-url <url>', 'Postgres database kept for this benchmark', 'postgresql://postgres@127.0.0.1:5432/speed_bench')
  .option('--embedded-dir <dir>', 'DATA_DIR of the embedded database kept for this benchmark', 'tmp/speed-pglite')
  .option('--backends <list>', 'postgres,embedded', 'postgres,embedded')
  .option('--queries <n>', 'timed sequential queries per backend', '300')
  .option('--clients <n>', 'concurrent clients', '32')
  .option('--concurrent-requests <n>', 'requests in the concurrent phase', '960')
  .option('--no-honor-retry-after', 'concurrent clients retry a refused search at once instead of after Retry-After')
  .option('--seconds <s>', 'time per embedder measurement', '5')
  .option('--label <name>', 'this run’s name (before, after, …)', 'run')
  .option('--baseline <json>', 'an earlier run of this benchmark to compare with')
  .option('--env <list>', 'extra settings for the service, NAME=value,…', '')
  .option('--cpu-prof <dir>', "write the server's CPU profiles (V8 .cpuprofile, one per thread) into this folder")
  .option('--out <dir>', 'results folder', 'bench/results')
  .parse()
  .opts<{
    products: string; datasets: string; postgresUrl: string; embeddedDir: string; backends: string; queries: string;
    clients: string; concurrentRequests: string; honorRetryAfter: boolean; seconds: string; label: string; baseline?: string; env: string; out: string; cpuProf?: string;
  }>();
const products = Number(opts.products);
const clients = Number(opts.clients);
const extraEnv = Object.fromEntries(opts.env.split(',').filter(Boolean).map((kv) => kv.split('=') as [string, string]));
const myntra = path.resolve(opts.datasets, 'myntra');
const load = () => +loadavg()[0]!.toFixed(2);

// ---- the catalog ----------------------------------------------------------------------------
async function subsetMeta(): Promise<string> {
  const rows = (await readRecords(path.join(myntra, 'styles.csv'))) as Record<string, string>[];
  const columns = Object.keys(rows[0]!);
  const quote = (v: string) => (/[",\n]/.test(v) ? `"${v.replace(/"/g, '""')}"` : v);
  await mkdir('tmp', { recursive: true });
  const file = path.resolve(`tmp/styles-${products}.csv`);
  const lines = rows.slice(0, products).map((r) => columns.map((c) => quote(r[c] ?? '')).join(','));
  await writeFile(file, [columns.join(','), ...lines].join('\n'));
  return file;
}

/** The backend's environment for the service; ingests the catalog first if it is not all there. */
async function ensureCatalog(backend: 'postgres' | 'embedded', meta: string): Promise<Record<string, string>> {
  if (backend === 'postgres') await ensureDatabase(opts.postgresUrl);
  const env = backend === 'postgres' ? { DATABASE_URL: opts.postgresUrl, DATA_DIR: 'tmp/speed-pg' } : { DATABASE_URL: '', DATA_DIR: opts.embeddedDir };
  const core = await openCore(loadConfig({ ...process.env, ...env, LOG_LEVEL: 'warn', DEMO_CATALOG: 'false' }), pino({ level: 'warn' }));
  try {
    if ((await core.db.catalog.countProducts()) < products) {
      console.log(`${backend}: ingesting ${products} myntra products`);
      const report = await core.ingest.run({ kind: 'folder', dir: myntra, meta, map: MYNTRA_MAP, source: 'myntra' });
      console.log(`${backend}: ${report.imagesHandled} images in ${(report.elapsedMs / 1000).toFixed(0)} s`);
    }
    return { ...env, catalogProducts: String(await core.db.catalog.countProducts()) };
  } finally {
    await core.close();
  }
}

// ---- the service over HTTP ------------------------------------------------------------------
async function startServer(env: Record<string, string>): Promise<{ url: string; child: ChildProcess }> {
  const port = 4100 + Math.floor(Math.random() * 800);
  const child = spawn(process.execPath, [...(opts.cpuProf ? ['--cpu-prof', `--cpu-prof-dir=${opts.cpuProf}`] : []), '--import', 'tsx', 'src/main.ts'], {
    env: { ...process.env, ...env, PORT: String(port), HOST: '127.0.0.1', LOG_LEVEL: 'warn', DEMO_CATALOG: 'false', RATE_LIMIT_PER_MINUTE: '0', ML_PROVIDERS: 'cpu', ...extraEnv },
    stdio: ['ignore', 'inherit', 'inherit'],
  });
  const url = `http://127.0.0.1:${port}`;
  // A loaded machine may take minutes to start it (models, the embedded database).
  for (let i = 0; i < 2400; i++) {
    if (child.exitCode !== null) throw new Error(`the service exited with ${child.exitCode}`);
    const ok = await fetch(`${url}/healthz`).then((r) => r.ok, () => false);
    if (ok) return { url, child };
    await new Promise((r) => setTimeout(r, 250));
  }
  child.kill('SIGKILL');
  throw new Error('the service did not start');
}

async function stopServer(child: ChildProcess) {
  const exited = new Promise((r) => child.once('exit', r));
  child.kill('SIGTERM');
  await exited;
}

async function queryPhotos(n: number): Promise<Buffer[]> {
  const rows = (await readRecords(path.join(myntra, 'styles.csv'))) as Record<string, string>[];
  const photos: Buffer[] = [];
  for (let i = 0; photos.length < n; i++) {
    // Spread over the catalog; a slightly cropped 224 px JPEG, as a shopper's screenshot would be.
    const row = rows[(i * 7919) % Math.min(products, rows.length)]!;
    const file = path.join(myntra, row.path!);
    try {
      const { width = 0, height = 0 } = await sharp(file).metadata();
      const crop = { left: Math.round(width * 0.04), top: Math.round(height * 0.04), width: Math.round(width * 0.92), height: Math.round(height * 0.92) };
      photos.push(await sharp(file).extract(crop).resize(224, 224, { fit: 'fill' }).jpeg({ quality: 85 }).toBuffer());
    } catch {
      // A photo the dataset lacks: take the next one.
    }
  }
  return photos;
}

async function search(url: string, bytes: Buffer): Promise<{ ms: number; status: number; ids?: string[]; retryAfter?: number }> {
  const form = new FormData();
  form.append('operations', JSON.stringify({ query: QUERY, variables: { image: null } }));
  form.append('map', JSON.stringify({ 0: ['variables.image'] }));
  form.append('0', new Blob([new Uint8Array(bytes)], { type: 'image/jpeg' }), 'query.jpg');
  const started = performance.now();
  try {
    const response = await fetch(`${url}/graphql`, { method: 'POST', headers: { 'apollo-require-preflight': 'true' }, body: form });
    const body = (await response.json()) as { data?: { similarProducts: { items: { product: { id: string } }[] } } };
    const ms = performance.now() - started;
    const retryAfter = Number(response.headers.get('retry-after')) || undefined;
    return { ms, status: response.status, ids: body.data?.similarProducts.items.map((i) => i.product.id), retryAfter };
  } catch {
    // A connection closed before an answer (an upload refused before its body was read): status 0.
    return { ms: performance.now() - started, status: 0 };
  }
}

async function endToEnd(backend: 'postgres' | 'embedded', env: Record<string, string>, photos: Buffer[]) {
  const { url, child } = await startServer(env);
  try {
    for (let i = 0; i < 30; i++) await search(url, photos[i % photos.length]!);
    const loadBefore = load();
    const t0 = await stageTotals(url);
    const sequential: number[] = [];
    const results: string[][] = [];
    for (let i = 0; i < Number(opts.queries); i++) {
      const r = await search(url, photos[i % photos.length]!);
      if (r.status !== 200) throw new Error(`sequential search answered ${r.status}`);
      sequential.push(r.ms);
      results.push(r.ids!);
    }
    const t1 = await stageTotals(url);
    const statuses: Record<number, number> = {};
    const concurrent: number[] = [];
    let next = 0;
    const total = Number(opts.concurrentRequests);
    const started = performance.now();
    await Promise.all(
      Array.from({ length: clients }, async () => {
        while (next < total) {
          const r = await search(url, photos[next++ % photos.length]!);
          statuses[r.status] = (statuses[r.status] ?? 0) + 1;
          if (r.status === 200) concurrent.push(r.ms);
          // A refused client waits as told, as a well-behaved one does: retrying at once, 32 clients
          // spend the service's CPU on refusals (23.7 searches/s answered instead of ~80; stop 19).
          else if (r.retryAfter && opts.honorRetryAfter) await new Promise((done) => setTimeout(done, r.retryAfter! * 1000));
        }
      }),
    );
    const wall = (performance.now() - started) / 1000;
    const t2 = await stageTotals(url);
    return {
      backend,
      catalogProducts: Number(env.catalogProducts),
      sequential: { requests: sequential.length, p50Ms: percentile(sequential, 50), p99Ms: percentile(sequential, 99), stagesMs: stageMeans(t0, t1) },
      concurrent: {
        clients,
        requests: total,
        statuses,
        requestsPerSecond: (statuses[200] ?? 0) / wall,
        p50Ms: percentile(concurrent, 50),
        p99Ms: percentile(concurrent, 99),
        stagesMs: stageMeans(t1, t2),
      },
      // The product ids of each sequential query's top 10: a change to the hot path must not change them.
      resultsDigest: digest(results),
      loadAverage: [loadBefore, load()],
    };
  } finally {
    await stopServer(child);
  }
}

function digest(results: string[][]): string {
  let h = 0;
  for (const id of results.flat().join(',')) h = (Math.imul(h, 31) + id.charCodeAt(0)) | 0;
  return (h >>> 0).toString(16);
}

// ---- the run --------------------------------------------------------------------------------
type Result = Awaited<ReturnType<typeof endToEnd>>;
const loadAtStart = load();
const embedderFirst = await embedderAlone(Number(opts.seconds));
console.log(`embedder alone: batch 1 ${embedderFirst.batch1Ms.toFixed(2)} ms, batch 32 ${embedderFirst.batch32ImagesPerSecond.toFixed(0)} images/s`);
const meta = await subsetMeta();
const photos = await queryPhotos(200);
const backends: Result[] = [];
for (const backend of opts.backends.split(',') as ('postgres' | 'embedded')[]) {
  const env = await ensureCatalog(backend, meta);
  const r = await endToEnd(backend, env, photos);
  console.log(`${backend}: p50 ${r.sequential.p50Ms.toFixed(1)} ms, p99 ${r.sequential.p99Ms.toFixed(1)} ms, ${clients} clients ${r.concurrent.requestsPerSecond.toFixed(1)} req/s`);
  backends.push(r);
}

// The machine's load changes during a run: the embedder is measured before and after the service, and the mean counts.
const embedderLast = await embedderAlone(Number(opts.seconds));
const embedder = {
  model: embedderFirst.model,
  batch1Ms: (embedderFirst.batch1Ms + embedderLast.batch1Ms) / 2,
  batch32MsPerImage: (embedderFirst.batch32MsPerImage + embedderLast.batch32MsPerImage) / 2,
  batch32ImagesPerSecond: 2000 / (embedderFirst.batch32MsPerImage + embedderLast.batch32MsPerImage),
  first: embedderFirst,
  last: embedderLast,
};
const ratios = (r: Result) => ({
  p50OverEmbedderBatch1: r.sequential.p50Ms / embedder.batch1Ms,
  p99OverP50: r.sequential.p99Ms / r.sequential.p50Ms,
  concurrentShareOfEmbedderBatch32: r.concurrent.requestsPerSecond / embedder.batch32ImagesPerSecond,
});
const command = `npx tsx bench/search-speed.ts --products ${products} --label ${opts.label}${opts.honorRetryAfter ? '' : ' --no-honor-retry-after'}${opts.baseline ? ` --baseline ${opts.baseline}` : ''}${opts.env ? ` --env ${opts.env}` : ''}`;
const report = {
  label: opts.label,
  command,
  date: new Date().toISOString(),
  machine: { cpu: cpus()[0]?.model, cores: cpus().length, node: process.version },
  loadAverage: { start: loadAtStart, end: load() },
  settings: extraEnv,
  embedder,
  backends: backends.map((r) => ({ ...r, ratios: ratios(r) })),
};
const baseline = opts.baseline ? (JSON.parse(await readFile(opts.baseline, 'utf8')) as typeof report) : undefined;
const prefix = path.join(opts.out, `search-speed-${opts.label}`);
await mkdir(opts.out, { recursive: true });
await writeFile(`${prefix}.json`, JSON.stringify(report, null, 2) + '\n');

const f = (n: number | undefined, d = 1) => (n === undefined ? '–' : n.toFixed(d));
const pg = report.backends.find((b) => b.backend === 'postgres');
const emb = report.backends.find((b) => b.backend === 'embedded');
const row = (r: (typeof report.backends)[number]) =>
  `| ${r.backend} | ${f(r.sequential.p50Ms)} | ${f(r.sequential.p99Ms)} | ${f(r.ratios.p50OverEmbedderBatch1)}× | ${f(r.ratios.p99OverP50, 2)} | ${f(r.concurrent.requestsPerSecond)} | ${f(r.ratios.concurrentShareOfEmbedderBatch32 * 100)} % | ${f(r.concurrent.p99Ms)} | ${Object.entries(r.concurrent.statuses).map(([s, n]) => `${s}: ${n}`).join(', ')} | ${r.loadAverage.join(' → ')} |`;
const stagesRow = (r: (typeof report.backends)[number], phase: 'sequential' | 'concurrent') =>
  `| ${r.backend} | ${phase} | ${SEARCH_STAGES.map((s) => f(r[phase].stagesMs[s], 2)).join(' | ')} |`;
const md = [
  `# Search speed (${opts.label}): the search path against the embedder's own limit`,
  '',
  `Command: \`${command}\` — ${report.date.slice(0, 16)}Z, ${report.machine.cpu} (${report.machine.cores} cores), Node ${report.machine.node}.`,
  `Load average (1 min) at start ${report.loadAverage.start}, at end ${report.loadAverage.end} on ${cpus().length} cores (the benchmark's own work included); absolute times depend on the machine and what else runs on it: the ratios, measured in one run, are what count.`,
  '',
  `Embedder alone (onnxruntime-node via src/ml, ${embedder.model}), the mean of a measurement before and one after the service's: batch 1 ${f(embedder.batch1Ms, 2)} ms (${f(embedderFirst.batch1Ms, 2)}, ${f(embedderLast.batch1Ms, 2)}), batch 32 ${f(embedder.batch32MsPerImage, 2)} ms/image = ${f(embedder.batch32ImagesPerSecond, 0)} images/s (${f(embedderFirst.batch32ImagesPerSecond, 0)}, ${f(embedderLast.batch32ImagesPerSecond, 0)}).`,
  '',
  `Service over HTTP (a child process), ${products} myntra products ingested by the ingest service, a 224 px JPEG upload through GraphQL, top 10; ${opts.queries} sequential requests, then ${opts.concurrentRequests} from ${clients} concurrent clients${opts.honorRetryAfter ? ' (a refused one waits Retry-After before its next search)' : ' (a refused one retries at once)'}.`,
  '',
  '| database | p50 ms | p99 ms | p50 ÷ embedder batch 1 (goal ≤ 6×) | p99 ÷ p50 (goal ≤ 2) | 32 clients req/s | ÷ embedder batch 32 (goal ≥ 25 %) | 32 clients p99 ms | statuses | load avg |',
  '|---|---|---|---|---|---|---|---|---|---|',
  ...report.backends.map(row),
  '',
  pg && emb
    ? `Embedded ÷ Postgres (goal ≤ 1.5): p50 ${f(emb.sequential.p50Ms / pg.sequential.p50Ms, 2)}, p99 ${f(emb.sequential.p99Ms / pg.sequential.p99Ms, 2)}, req/s ${f(pg.concurrent.requestsPerSecond / emb.concurrent.requestsPerSecond, 2)} (Postgres ÷ embedded).`
    : '',
  '',
  'Mean ms in each stage over the searches that reached it (the service’s `search_stage_seconds` histograms over each phase; refused searches stop early):',
  '',
  `| database | phase | ${SEARCH_STAGES.join(' | ')} |`,
  `|---|---|${SEARCH_STAGES.map(() => '---').join('|')}|`,
  ...report.backends.flatMap((r) => [stagesRow(r, 'sequential'), stagesRow(r, 'concurrent')]),
  '',
  ...(baseline
    ? [
        `Against ${opts.baseline} (${baseline.label}, load average ${baseline.loadAverage.start} → ${baseline.loadAverage.end}):`,
        '',
        '| database | measure | ' + `${baseline.label} | ${opts.label} |`,
        '|---|---|---|---|',
        ...report.backends.flatMap((r) => {
          const b = baseline.backends.find((x) => x.backend === r.backend);
          if (!b) return [];
          return [
            `| ${r.backend} | p50 ms (÷ embedder) | ${f(b.sequential.p50Ms)} (${f(b.ratios.p50OverEmbedderBatch1)}×) | ${f(r.sequential.p50Ms)} (${f(r.ratios.p50OverEmbedderBatch1)}×) |`,
            `| ${r.backend} | p99 ÷ p50 | ${f(b.ratios.p99OverP50, 2)} | ${f(r.ratios.p99OverP50, 2)} |`,
            `| ${r.backend} | ${clients} clients req/s (share) | ${f(b.concurrent.requestsPerSecond)} (${f(b.ratios.concurrentShareOfEmbedderBatch32 * 100)} %) | ${f(r.concurrent.requestsPerSecond)} (${f(r.ratios.concurrentShareOfEmbedderBatch32 * 100)} %) |`,
            `| ${r.backend} | same top 10 for every query | | ${b.resultsDigest === r.resultsDigest ? 'yes' : 'NO'} |`,
          ];
        }),
        '',
      ]
    : []),
  `![stage breakdown](search-speed-${opts.label}.png)`,
  '',
];
await writeFile(`${prefix}.md`, md.join('\n'));
await writeFile(`${prefix}.png`, await stageChart([...(baseline ? [baseline] : []), report]));
console.log(md.join('\n'));

/** Stacked bars: mean ms per stage of a sequential search, per database and run. */
async function stageChart(runs: (typeof report)[]): Promise<Buffer> {
  const values = runs.flatMap((run) =>
    run.backends.flatMap((b) =>
      SEARCH_STAGES.filter((s) => b.sequential.stagesMs[s] !== undefined).map((stage, order) => ({
        bar: `${b.backend} ${run.label}`,
        stage,
        order,
        ms: b.sequential.stagesMs[stage]!,
      })),
    ),
  );
  return vegaLitePng({
    title: 'Where a sequential search’s time goes (mean ms per stage)',
    background: 'white',
    width: 480,
    height: 40 * new Set(values.map((v) => v.bar)).size,
    data: { values },
    mark: 'bar',
    encoding: {
      y: { field: 'bar', type: 'nominal', title: null, sort: null },
      x: { field: 'ms', type: 'quantitative', title: 'ms', stack: 'zero' },
      color: { field: 'stage', type: 'nominal', sort: [...SEARCH_STAGES], legend: { orient: 'bottom', columns: 5 } },
      order: { field: 'order', type: 'quantitative' },
    },
  });
}
process.exit(0);
