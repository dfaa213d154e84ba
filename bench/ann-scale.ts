// pgvector at catalog scale: N 128-d vectors shaped like the shipped model's embeddings of real
// product photos, an HNSW index over them (vector and halfvec), recall@10 against the exact scan
// and SQL latency at several hnsw.ef_search, unfiltered and with a 10 % and a 1 % category filter
// (pgvector 0.8 iterative index scans).
//
//   nice -n 10 npx tsx bench/ann-scale.ts --rows 100000      then --rows 1000000
//
// The vectors: every myntra photo embedded once with the shipped model through src/ml (cached in
// tmp/ann-scale/), then each generated vector is a real embedding moved part of the way towards
// one of its 10 nearest real neighbours, plus Gaussian noise at a quarter of its nearest-neighbour
// distance (at least a sixteenth of the median one), re-normalised: the catalog's own clusters and
// gaps, not uniform noise. Queries are drawn the same way (other seed), so they are near catalog
// items but never in the table.
// Each --rows run replaces its entry in bench/results/ann-scale.json; the Markdown and the plot are
// rebuilt from all entries. Needs Postgres with pgvector >= 0.8 at --url (default TEST_DATABASE_URL).
import { mkdir, readFile, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { Command } from 'commander';
import pg from 'pg';
import pino from 'pino';
import { HNSW_EF_CONSTRUCTION, HNSW_M } from '../src/db/vector-models.js';
import { percentile } from '../src/eval/percentile.js';
import { seededRandom } from '../src/eval/random.js';
import { validateImage } from '../src/images/index.js';
import { vegaLitePng } from './chart.js';
import { ensureDatabase } from './postgres-database.js';
import { loadManifest, loadModels } from '../src/ml/index.js';

const program = new Command()
  .option('--rows <n>', 'vectors in the table', '100000')
  .option('--queries <n>', 'queries per setting', '200')
  .option('--ef <list>', 'hnsw.ef_search values', '20,40,80,120,200,400')
  .option('--url <url>', 'Postgres server (a database ann_scale_<rows> is created there)', process.env.TEST_DATABASE_URL)
  .option('--datasets <dir>', 'datasets folder', '../shared/datasets')
  .option('--maintenance-work-mem <size>', 'for the index build', '3GB')
  .option('--build-workers <n>', 'max_parallel_maintenance_workers (2 cores: the leader + 1)', '1')
  .option('--throughput-seconds <n>', 'per concurrency level', '8')
  .option('--skip-build', 'keep the indexes of an earlier run of the same --rows (and its build figures)')
  .option('--out <prefix>', 'report path prefix', 'bench/results/ann-scale')
  .parse();
const opts = program.opts<{
  rows: string;
  queries: string;
  ef: string;
  url?: string;
  datasets: string;
  maintenanceWorkMem: string;
  buildWorkers: string;
  throughputSeconds: string;
  skipBuild?: boolean;
  out: string;
}>();
const ROWS = Number(opts.rows);
const QUERIES = Number(opts.queries);
const EFS = opts.ef.split(',').map(Number);
// The shipped model's embedding: its dimension sizes the table, and its key names the cache of
// the myntra embeddings (a cache of another model's vectors would be read with the wrong stride).
const { info: MODEL } = await loadManifest('models', { verify: false });
const DIM = MODEL.dim;
const K = 10;
const CACHE = `tmp/ann-scale/myntra-embeddings-${MODEL.key.replace(/[^\w.-]+/g, '_')}.f32`;
/** One database per size, so that a later --skip-build run of a size finds its table and indexes. */
const DB_NAME = `ann_scale_${ROWS}`;
if (!opts.url) throw new Error('--url or TEST_DATABASE_URL is required');

const FILTERS = [
  { name: 'none', selectivity: 1, sql: 'TRUE' },
  { name: '10 %', selectivity: 0.1, sql: 'bucket < 10' },
  { name: '1 %', selectivity: 0.01, sql: 'bucket = 0' },
] as const;
const STORAGES = [
  { name: 'vector', expr: 'embedding', cast: `vector(${DIM})`, ddl: 'embedding vector_l2_ops' },
  { name: 'halfvec', expr: `(embedding::halfvec(${DIM}))`, cast: `halfvec(${DIM})`, ddl: `(embedding::halfvec(${DIM})) halfvec_l2_ops` },
] as const;

const log = (msg: string) => console.log(`[${new Date().toISOString().slice(11, 19)} load ${os.loadavg()[0]!.toFixed(1)}] ${msg}`);

/** The shipped model's embedding of every readable myntra photo (row-major, DIM floats each). */
async function realEmbeddings(): Promise<Float32Array> {
  try {
    const bytes = await readFile(CACHE);
    return new Float32Array(bytes.buffer, bytes.byteOffset, bytes.byteLength / 4);
  } catch {
    /* not cached yet */
  }
  const dir = path.join(opts.datasets, 'myntra');
  const csv = (await readFile(path.join(dir, 'styles.csv'), 'utf8')).split('\n').slice(1).filter(Boolean);
  const files = csv.map((line) => path.join(dir, line.slice(0, line.indexOf(','))));
  const models = await loadModels({ modelsDir: 'models', providers: ['cpu'], batchSize: 32, logger: pino({ level: 'warn' }) });
  const out: Float32Array[] = [];
  for (let i = 0; i < files.length; i += 64) {
    const images = await Promise.all(
      files.slice(i, i + 64).map(async (f) => {
        try {
          return { image: await validateImage(await readFile(f), { maxPixels: 40e6 }) };
        } catch {
          return undefined; // an unreadable photo is simply not part of the distribution
        }
      }),
    );
    const ok = images.filter((x) => x !== undefined);
    for (const e of await models.embed(ok)) out.push(e.vector);
    if (i % 1280 === 0) log(`embedded ${out.length}/${files.length} photos`);
  }
  await models.close();
  const flat = new Float32Array(out.length * DIM);
  out.forEach((v, i) => flat.set(v, i * DIM));
  await mkdir(path.dirname(CACHE), { recursive: true });
  await writeFile(CACHE, Buffer.from(flat.buffer));
  return flat;
}

/** neighbours(), cached beside the embeddings (it takes minutes on a busy machine). */
async function cachedNeighbours(base: Float32Array): Promise<{ ids: Int32Array; nn: Float32Array }> {
  const file = CACHE.replace(/\.f32$/, '.neighbours');
  const n = base.length / DIM;
  try {
    const bytes = await readFile(file);
    if (bytes.byteLength === n * 11 * 4) {
      const all = new Int32Array(bytes.buffer, bytes.byteOffset, n * 11);
      return { ids: all.slice(0, n * 10), nn: new Float32Array(all.slice(n * 10).buffer) };
    }
  } catch {
    /* not cached yet */
  }
  const near = neighbours(base);
  await writeFile(file, Buffer.concat([Buffer.from(near.ids.buffer), Buffer.from(near.nn.buffer)]));
  return near;
}

/** For each real embedding: its 10 nearest other real embeddings and the distance to the nearest. */
function neighbours(base: Float32Array): { ids: Int32Array; nn: Float32Array } {
  const n = base.length / DIM;
  const ids = new Int32Array(n * 10);
  const nn = new Float32Array(n);
  for (let i = 0; i < n; i++) {
    // Top 10 by dot product (unit vectors: the nearest), kept sorted by insertion.
    const top: { j: number; dot: number }[] = [];
    for (let j = 0; j < n; j++) {
      if (j === i) continue;
      let s = 0;
      for (let d = 0; d < DIM; d++) s += base[i * DIM + d]! * base[j * DIM + d]!;
      if (top.length === 10 && s <= top[9]!.dot) continue;
      let at = top.length;
      while (at > 0 && top[at - 1]!.dot < s) at--;
      top.splice(at, 0, { j, dot: s });
      if (top.length > 10) top.pop();
    }
    ids.set(top.map((t) => t.j), i * 10);
    nn[i] = Math.sqrt(Math.max(0, 2 - 2 * top[0]!.dot));
  }
  return { ids, nn };
}

function generator(base: Float32Array, near: { ids: Int32Array; nn: Float32Array }, seed: number) {
  const random = seededRandom(seed);
  const n = base.length / DIM;
  // Byte-identical photos (122 in the catalog) have a nearest neighbour at distance 0: without a
  // floor their copies would be identical vectors, which ingest never stores (it dedupes by hash).
  const floor = Array.from(near.nn).sort((a, b) => a - b)[Math.floor(n / 2)]!;
  const gauss = () => Math.sqrt(-2 * Math.log(1 - random())) * Math.cos(2 * Math.PI * random());
  return (): { vector: Float32Array; bucket: number } => {
    const i = Math.floor(random() * n);
    const j = near.ids[i * 10 + Math.floor(random() * 10)]!;
    const t = random() * 0.5;
    const sigma = (0.25 * Math.max(near.nn[i]!, floor / 4)) / Math.sqrt(DIM);
    const v = new Float32Array(DIM);
    let norm = 0;
    for (let d = 0; d < DIM; d++) {
      const x = base[i * DIM + d]! + t * (base[j * DIM + d]! - base[i * DIM + d]!) + sigma * gauss();
      v[d] = x;
      norm += x * x;
    }
    norm = Math.sqrt(norm);
    for (let d = 0; d < DIM; d++) v[d]! /= norm;
    return { vector: v, bucket: Math.floor(random() * 100) };
  };
}

const literal = (v: Float32Array) => `[${Array.from(v, (x) => x.toPrecision(7)).join(',')}]`;

async function openBenchDatabase(): Promise<pg.Client> {
  const url = new URL(opts.url!);
  url.pathname = `/${DB_NAME}`;
  await ensureDatabase(url.toString());
  const db = new pg.Client({ connectionString: url.toString(), application_name: 'ann-scale-bench' });
  await db.connect();
  await db.query('CREATE EXTENSION IF NOT EXISTS vector');
  return db;
}

async function load(db: pg.Client, next: () => { vector: Float32Array; bucket: number }): Promise<number> {
  const started = performance.now();
  await db.query('DROP TABLE IF EXISTS ann_items');
  await db.query(`CREATE TABLE ann_items (id integer PRIMARY KEY, bucket integer NOT NULL, embedding vector(${DIM}) NOT NULL)`);
  const batch = 2000;
  for (let start = 0; start < ROWS; start += batch) {
    const ids: number[] = [];
    const buckets: number[] = [];
    const vectors: string[] = [];
    for (let id = start; id < Math.min(ROWS, start + batch); id++) {
      const g = next();
      ids.push(id);
      buckets.push(g.bucket);
      vectors.push(literal(g.vector));
    }
    await db.query(`INSERT INTO ann_items SELECT * FROM unnest($1::int[], $2::int[], $3::vector[])`, [ids, buckets, vectors]);
    if ((start / batch) % 50 === 0) log(`loaded ${start + ids.length}/${ROWS}`);
  }
  await db.query('CREATE INDEX ann_items_bucket ON ann_items (bucket)');
  await db.query('VACUUM ANALYZE ann_items');
  return (performance.now() - started) / 1000;
}

/** The exact top-K of each query, and the exact scan as a latency point of its own. */
/** A query's exact top-K ids, and the distance of its K-th: a result this close is as good (ties). */
interface Truth {
  ids: Set<number>;
  kth: number;
}

async function exactTopK(db: pg.Client, queries: Float32Array[], filter: (typeof FILTERS)[number]): Promise<{ truth: Truth[]; point: Point }> {
  await db.query('BEGIN');
  // No HNSW: the exact scan (a parallel sequential scan, or the bucket index for filters).
  await db.query('SET LOCAL enable_indexscan = off');
  const truth: Truth[] = [];
  const ms: number[] = [];
  for (const q of queries) {
    const t = performance.now();
    const r = await db.query<{ id: number; d: number }>(
      `SELECT id, embedding <-> $1::vector AS d FROM ann_items WHERE ${filter.sql} ORDER BY embedding <-> $1::vector LIMIT ${K}`,
      [literal(q)],
    );
    ms.push(performance.now() - t);
    truth.push({ ids: new Set(r.rows.map((x) => x.id)), kth: r.rows.at(-1)!.d });
  }
  await db.query('COMMIT');
  const plan = filter.selectivity < 1 ? 'bitmap on bucket + sort' : 'parallel seq scan + sort';
  return { truth, point: { storage: 'exact', filter: filter.name, efSearch: 0, recall: 1, p50Ms: percentile(ms, 50), p99Ms: percentile(ms, 99), plan } };
}

interface Point {
  storage: string;
  filter: string;
  efSearch: number;
  recall: number;
  p50Ms: number;
  p99Ms: number;
  plan: string;
}

/** Distances within this of the exact K-th count as ties (equal distances, float32 rounding). */
const TIE = 1e-6;

async function measure(db: pg.Client, storage: (typeof STORAGES)[number], filter: (typeof FILTERS)[number], ef: number, queries: Float32Array[], truth: Truth[]): Promise<Point> {
  await db.query(`SET hnsw.ef_search = ${ef}`);
  await db.query(`SET hnsw.iterative_scan = strict_order`);
  // The full-precision distance rides along (halfvec orders by its own) to score ties fairly.
  const sql = `SELECT id, embedding <-> $1::vector(${DIM}) AS d FROM ann_items WHERE ${filter.sql} ORDER BY ${storage.expr} <-> $1::${storage.cast} LIMIT ${K}`;
  const plan = (await db.query<{ 'QUERY PLAN': string }>(`EXPLAIN ${sql}`, [literal(queries[0]!)])).rows.map((r) => r['QUERY PLAN']).join(' ');
  const how = /Index Scan using (\S+)/.exec(plan)?.[1] ?? (/Bitmap/.test(plan) ? 'bitmap+sort (exact)' : 'seq scan (exact)');
  for (const q of queries.slice(0, 20)) await db.query(sql, [literal(q)]); // warm the cache
  const ms: number[] = [];
  let hits = 0;
  for (const [i, q] of queries.entries()) {
    const text = literal(q);
    const t = performance.now();
    const r = await db.query<{ id: number; d: number }>(sql, [text]);
    ms.push(performance.now() - t);
    hits += r.rows.filter((x) => truth[i]!.ids.has(x.id) || x.d <= truth[i]!.kth + TIE).length;
  }
  return { storage: storage.name, filter: filter.name, efSearch: ef, recall: hits / (queries.length * K), p50Ms: percentile(ms, 50), p99Ms: percentile(ms, 99), plan: how };
}

interface Run {
  rows: number;
  at: string;
  machine: string;
  loadAverage: { start: number[]; end: number[] };
  settings: Record<string, string>;
  realEmbeddings: number;
  loadSeconds: number;
  tableMB: number;
  builds: { storage: string; seconds: number; indexMB: number; loadAverageDuring: number }[];
  points: Point[];
  throughput?: Throughput[];
}

interface Throughput {
  storage: string;
  efSearch: number;
  clients: number;
  queriesPerSecond: number;
  loadAverage: number;
}

/** Unfiltered top-10 queries from `clients` connections at once for --throughput-seconds: the SQL side of searches/s. */
async function queriesPerSecond(storage: (typeof STORAGES)[number], ef: number, clients: number, queries: Float32Array[]): Promise<Throughput> {
  const url = new URL(opts.url!);
  url.pathname = `/${DB_NAME}`;
  const conns = await Promise.all(
    Array.from({ length: clients }, async () => {
      const c = new pg.Client({ connectionString: url.toString() });
      await c.connect();
      await c.query(`SET hnsw.ef_search = ${ef}`);
      return c;
    }),
  );
  const sql = `SELECT id FROM ann_items ORDER BY ${storage.expr} <-> $1::${storage.cast} LIMIT ${K}`;
  const texts = queries.map(literal);
  const until = performance.now() + Number(opts.throughputSeconds) * 1000;
  let done = 0;
  await Promise.all(
    conns.map(async (c, i) => {
      for (let j = i; performance.now() < until; j += clients) {
        await c.query(sql, [texts[j % texts.length]]);
        done++;
      }
    }),
  );
  await Promise.all(conns.map((c) => c.end()));
  return { storage: storage.name, efSearch: ef, clients, queriesPerSecond: done / Number(opts.throughputSeconds), loadAverage: os.loadavg()[0]! };
}

async function previousRuns(): Promise<Record<string, Run>> {
  return readFile(`${opts.out}.json`, 'utf8')
    .then((s) => JSON.parse(s) as Record<string, Run>)
    .catch(() => ({}));
}

async function main() {
  const startLoad = os.loadavg();
  const base = await realEmbeddings();
  log(`${base.length / DIM} real embeddings; neighbours…`);
  const near = await cachedNeighbours(base);
  const db = await openBenchDatabase();
  const count = await db
    .query<{ n: string }>('SELECT count(*) AS n FROM ann_items')
    .then((r) => Number(r.rows[0]!.n))
    .catch(() => -1);
  // A table of the right size from an earlier run is reused (same seed, same rows).
  const loadSeconds = count === ROWS ? 0 : await load(db, generator(base, near, 1));
  const nextQuery = generator(base, near, 2);
  const queries = Array.from({ length: QUERIES }, () => nextQuery().vector);

  await db.query(`SET maintenance_work_mem = '${opts.maintenanceWorkMem}'`);
  await db.query(`SET max_parallel_maintenance_workers = ${Number(opts.buildWorkers)}`);
  const builds: Run['builds'] = opts.skipBuild ? ((await previousRuns())[String(ROWS)]?.builds ?? []) : [];
  for (const s of opts.skipBuild ? [] : STORAGES) {
    await db.query(`DROP INDEX IF EXISTS ann_items_${s.name}`);
    log(`building the ${s.name} HNSW index`);
    const t = performance.now();
    await db.query(`CREATE INDEX ann_items_${s.name} ON ann_items USING hnsw (${s.ddl}) WITH (m = ${HNSW_M}, ef_construction = ${HNSW_EF_CONSTRUCTION})`);
    const seconds = (performance.now() - t) / 1000;
    const size = await db.query<{ b: string }>(`SELECT pg_relation_size('ann_items_${s.name}') AS b`);
    builds.push({ storage: s.name, seconds, indexMB: Number(size.rows[0]!.b) / 2 ** 20, loadAverageDuring: os.loadavg()[1]! });
    log(`${s.name}: ${seconds.toFixed(0)} s, ${builds.at(-1)!.indexMB.toFixed(0)} MB`);
  }
  const table = await db.query<{ b: string }>(`SELECT pg_table_size('ann_items') AS b`);

  const points: Point[] = [];
  for (const f of FILTERS) {
    log(`exact top-${K}, filter ${f.name}`);
    const { truth, point } = await exactTopK(db, queries, f);
    points.push(point);
    log(`exact ${f.name}: p50 ${point.p50Ms.toFixed(2)} ms, p99 ${point.p99Ms.toFixed(2)} ms`);
    for (const s of STORAGES) {
      for (const ef of EFS) {
        const p = await measure(db, s, f, ef, queries, truth);
        points.push(p);
        log(`${s.name} ${f.name} ef ${ef}: recall ${p.recall.toFixed(3)}, p50 ${p.p50Ms.toFixed(2)} ms, p99 ${p.p99Ms.toFixed(2)} ms (${p.plan})`);
      }
    }
  }
  const throughput: Throughput[] = [];
  for (const s of STORAGES) {
    // The smallest ef_search that holds recall@10 >= 0.99 unfiltered (else the largest measured).
    const unfiltered = points.filter((p) => p.storage === s.name && p.filter === 'none');
    const ef = (unfiltered.find((p) => p.recall >= 0.99) ?? unfiltered.at(-1)!).efSearch;
    for (const clients of [1, 2, 4]) {
      const t = await queriesPerSecond(s, ef, clients, queries);
      throughput.push(t);
      log(`${s.name} ef ${ef}, ${clients} clients: ${t.queriesPerSecond.toFixed(0)} queries/s`);
    }
  }
  const settings: Record<string, string> = {};
  for (const name of ['server_version', 'shared_buffers', 'maintenance_work_mem', 'max_parallel_maintenance_workers', 'max_parallel_workers_per_gather', 'hnsw.max_scan_tuples']) {
    settings[name] = (await db.query<Record<string, string>>(`SHOW "${name}"`)).rows[0]![name]!;
  }
  settings.pgvector = (await db.query<{ v: string }>(`SELECT extversion AS v FROM pg_extension WHERE extname = 'vector'`)).rows[0]!.v;
  await db.end();

  const run: Run = {
    rows: ROWS,
    at: new Date().toISOString(),
    machine: `${os.cpus().length} × ${os.cpus()[0]?.model.trim()}, ${(os.totalmem() / 2 ** 30).toFixed(0)} GiB, Node ${process.version}`,
    loadAverage: { start: startLoad, end: os.loadavg() },
    settings,
    realEmbeddings: base.length / DIM,
    loadSeconds,
    tableMB: Number(table.rows[0]!.b) / 2 ** 20,
    builds,
    points,
    throughput,
  };
  await report(run);
}

async function report(run: Run) {
  const all = await previousRuns();
  all[String(run.rows)] = run;
  await writeFile(`${opts.out}.json`, JSON.stringify(all, null, 2) + '\n');
  const runs = Object.values(all).sort((a, b) => a.rows - b.rows);
  const md = [
    '# pgvector at catalog scale: HNSW recall and latency (vector vs halfvec)',
    '',
    'Command: `nice -n 10 npx tsx bench/ann-scale.ts --rows N` (N = ' + runs.map((r) => r.rows).join(', ') + '), Postgres at TEST_DATABASE_URL.',
    'Vectors: the shipped model\'s embeddings of the myntra photos, each generated vector a real one moved towards one of its 10 nearest',
    'real neighbours plus noise at a quarter of its nearest-neighbour distance (at least a sixteenth of the median: no identical copies;',
    'see the script). Queries (200): drawn the same way, not in the table.',
    `Index: HNSW m = ${HNSW_M}, ef_construction = ${HNSW_EF_CONSTRUCTION}; halfvec is an expression index over the same vector column.`,
    'Filters: `bucket` uniform in 0..99, independent of the vector (the hard case for a graph index); `hnsw.iterative_scan = strict_order`.',
    'Latency: one client, one query at a time, wall time of the SQL round trip on the same machine.',
    `Recall@10: share of the exact top 10 found, a result as close as the exact 10th (within ${TIE}) counting as found (ties).`,
    '',
  ];
  for (const r of runs) {
    md.push(`## ${r.rows.toLocaleString('en')} vectors`, '');
    md.push(`${r.at}, ${r.machine}. Load average (1/5/15 min) at start ${r.loadAverage.start.map((x) => x.toFixed(1)).join('/')}, at end ${r.loadAverage.end.map((x) => x.toFixed(1)).join('/')}.`);
    md.push(`Settings: ${Object.entries(r.settings).map(([k, v]) => `${k} ${v}`).join(', ')}. Table ${r.tableMB.toFixed(0)} MB; load ${r.loadSeconds.toFixed(0)} s.`, '');
    md.push('| storage | build s | index MB | 5-min load during |', '|---|---|---|---|');
    for (const b of r.builds) md.push(`| ${b.storage} | ${b.seconds.toFixed(0)} | ${b.indexMB.toFixed(0)} | ${b.loadAverageDuring.toFixed(1)} |`);
    md.push('', '| storage | filter | ef_search | recall@10 | p50 ms | p99 ms | plan |', '|---|---|---|---|---|---|---|');
    for (const p of r.points) md.push(`| ${p.storage} | ${p.filter} | ${p.efSearch} | ${p.recall.toFixed(3)} | ${p.p50Ms.toFixed(2)} | ${p.p99Ms.toFixed(2)} | ${p.plan} |`);
    md.push('');
    if (r.throughput?.length) {
      md.push('Throughput, unfiltered top-10 at the smallest ef_search with recall@10 ≥ 0.99 (SQL only, closed loop):', '');
      md.push('| storage | ef_search | connections | queries/s | 1-min load |', '|---|---|---|---|---|');
      for (const t of r.throughput) md.push(`| ${t.storage} | ${t.efSearch} | ${t.clients} | ${t.queriesPerSecond.toFixed(0)} | ${t.loadAverage.toFixed(1)} |`);
      md.push('');
    }
  }
  const largest = runs.at(-1)!;
  md.push(`![Recall@10 vs p50 latency, ${largest.rows.toLocaleString('en')} vectors](${opts.out.split('/').at(-1)}.png)`, '');
  await writeFile(`${opts.out}.md`, md.join('\n'));
  await writeFile(`${opts.out}.png`, await recallLatencyPng(largest));
  console.log(md.join('\n'));
}

async function recallLatencyPng(run: Run): Promise<Buffer> {
  return vegaLitePng({
    title: `Recall@10 vs p50 SQL latency, ${run.rows.toLocaleString('en')} vectors (points: ef_search)`,
    background: 'white',
    width: 520,
    height: 320,
    data: { values: run.points.map((p) => ({ ...p, series: `${p.storage}, filter ${p.filter}` })) },
    mark: { type: 'line', point: true },
    encoding: {
      x: { field: 'p50Ms', type: 'quantitative', title: 'p50 ms', scale: { type: 'log' } },
      y: { field: 'recall', type: 'quantitative', title: 'recall@10', scale: { zero: false } },
      color: { field: 'series', type: 'nominal', title: null, legend: { orient: 'bottom', columns: 3, labelLimit: 320 } },
      order: { field: 'efSearch', type: 'quantitative' },
    },
  });
}

await main();
