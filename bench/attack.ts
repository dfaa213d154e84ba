// The hardening goals of issue 13, measured against the real server process (src/main.ts through
// tsx) that this script starts on 127.0.0.1 with an embedded database and the drawn demo catalog:
//
//   1. 10,000 hostile requests (tests/support/hostile.ts, seeded): 5xx count, hangs (no answer
//      within 30 s), and the server's RSS before, during and after (goal: back within 100 MB).
//   2. Idle latency of a search (sequential), the sustainable rate (closed loop at
//      SEARCH_MAX_CONCURRENT clients), then 60 s of arrivals at 4× that rate (open loop): only
//      200/429/503, the p99 of admitted searches against the idle p99 (goal: ≤ 4×), and /healthz
//      latency meanwhile.
//
//   npx tsx bench/attack.ts [--hostile 10000] [--overload-seconds 60] [--factor 4] [--out bench/results/attack]
//
// The server has glibc's default malloc arenas, as `npm start` runs it (the Dockerfile sets
// MALLOC_ARENA_MAX=2; set it in this script's environment to measure that).
//
// The rate limit is off for the run (every request comes from 127.0.0.1); its own test is in
// tests/api.hardening.test.ts.
import { spawn, type ChildProcess } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { loadavg } from 'node:os';
import { Command } from 'commander';
import { loadConfig } from '../src/config.js';
import { percentile } from '../src/eval/percentile.js';
import { testBackends } from '../tests/support/databases.js';
import { createPostgresDatabase } from '../tests/support/service.js';
import { hostileCorpus, hostileMaterial } from '../tests/support/hostile.js';
import { productImage, distort } from '../tests/support/images.js';
import { classify, forEachConcurrently, sendRaw } from '../tests/support/raw-http.js';
import { writeBenchReport } from './chart.js';
import { stageMeans, stageTotals } from './stage-metrics.js';

const program = new Command()
  .option('--hostile <n>', 'hostile requests', '10000')
  // The default server admits 2 × CPU cores searches (running and queued): more hostile uploads
  // at once than that is overload, answered 503 by design, which phase 2 measures.
  .option('--concurrency <n>', 'hostile requests at once', '4')
  // V8 gives garbage back when the process has been idle for a while (its memory reducer: about
  // 30 s after a burst here); RSS is read 10 s after the hostile requests, and at the end of this.
  .option('--settle-seconds <s>', 'idle time after the hostile requests before the service is used again', '40')
  .option('--overload-seconds <s>', 'length of the overload phase', '60')
  .option('--factor <x>', 'overload arrival rate as a multiple of the sustainable rate', '4')
  .option(
    '--database <kind>',
    'embedded, or postgres (a fresh database on the test server, tests/support/databases.ts)',
    'embedded',
  )
  .option('--out <prefix>', 'report prefix', 'bench/results/attack')
  .option('--cpu-prof <dir>', "write the server's CPU profile (V8 .cpuprofile) into this folder")
  .parse();
const opts = program.opts<{
  hostile: string;
  concurrency: string;
  overloadSeconds: string;
  settleSeconds: string;
  factor: string;
  database: string;
  out: string;
  cpuProf?: string;
}>();

const QUERY = 'query($i: Upload) { similarProducts(image: $i, topK: 10) { id items { rank product { id title } } } }';
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));
const signed = (x: number) => (x >= 0 ? `+${x}` : `${x}`);
const round = (x: number, digits = 1) => Math.round(x * 10 ** digits) / 10 ** digits;

/** The server's resident memory in MB, from /proc. */
function rssMb(pid: number): number {
  const line = readFileSync(`/proc/${pid}/status`, 'utf8')
    .split('\n')
    .find((l) => l.startsWith('VmRSS:'));
  return Math.round(Number(line?.split(/\s+/)[1] ?? 0) / 1024);
}

async function startServer(
  dataDir: string,
  databaseUrl?: string,
): Promise<{ child: ChildProcess; url: string; config: Record<string, string> }> {
  const config = {
    ...(databaseUrl && { DATABASE_URL: databaseUrl }),
    PORT: '0',
    HOST: '127.0.0.1',
    DATA_DIR: dataDir,
    ML_PROVIDERS: 'cpu',
    DEMO_CATALOG: process.env.DEMO_CATALOG ?? 'drawn',
    RATE_LIMIT_PER_MINUTE: '0',
    LOG_LEVEL: 'warn',
  };
  const child = spawn(process.execPath, [...(opts.cpuProf ? ['--cpu-prof', `--cpu-prof-dir=${opts.cpuProf}`] : []), '--import', 'tsx', 'src/main.ts'], {
    env: { ...process.env, ...config, LOG_LEVEL: 'info' },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let output = '';
  const url = await new Promise<string>((resolve, reject) => {
    child.stdout!.on('data', (chunk: Buffer) => {
      output += chunk;
      const ready = /API (http:\/\/localhost:\d+)\/graphql/.exec(output);
      if (ready) resolve(ready[1]!.replace('localhost', '127.0.0.1'));
    });
    child.stderr!.on('data', (chunk: Buffer) => (output += chunk));
    child.once('exit', (code) => reject(new Error(`server exited (${code}):\n${output.slice(-3000)}`)));
  });
  // Keep reading its logs so that a full pipe never blocks it.
  child.stdout!.resume();
  return { child, url, config };
}

/** Where the server's memory is, from its /metrics (prom-client's process and Node.js gauges), in MB. */
async function memoryParts(url: string): Promise<Record<string, number>> {
  const text = await (await fetch(`${url}/metrics`)).text();
  const gauge = (name: string) => Number(new RegExp(`^${name}(?:\\{[^}]*\\})? (\\S+)$`, 'm').exec(text)?.[1] ?? NaN);
  return {
    heapUsedMb: round(gauge('nodejs_heap_size_used_bytes') / 2 ** 20),
    heapTotalMb: round(gauge('nodejs_heap_size_total_bytes') / 2 ** 20),
    externalMb: round(gauge('nodejs_external_memory_bytes') / 2 ** 20),
  };
}

/** One search by upload; its status and latency. */
async function searchOnce(url: string, image: Buffer): Promise<{ status: number; ms: number; code?: string }> {
  const form = new FormData();
  form.append('operations', JSON.stringify({ query: QUERY, variables: { i: null } }));
  form.append('map', '{"0":["variables.i"]}');
  form.append('0', new Blob([new Uint8Array(image)], { type: 'image/jpeg' }), 'q.jpg');
  const started = performance.now();
  try {
    const response = await fetch(`${url}/graphql`, {
      method: 'POST',
      headers: { 'apollo-require-preflight': 'true' },
      body: form,
      signal: AbortSignal.timeout(30_000),
    });
    const body = (await response.json()) as { errors?: { extensions?: { code?: string } }[] };
    return { status: response.status, ms: performance.now() - started, code: body.errors?.[0]?.extensions?.code };
  } catch {
    return { status: 0, ms: performance.now() - started };
  }
}

const stats = (xs: number[]) => ({
  n: xs.length,
  p50: round(percentile(xs, 50)),
  p99: round(percentile(xs, 99)),
  max: round(Math.max(...xs)),
});

const fresh = await testBackends()[0]!.open({ migrate: false });
await fresh.db.close();
const postgres = opts.database === 'postgres' ? await createPostgresDatabase() : undefined;
const load: { start: number[]; end?: number[] } = { start: loadavg().map((x) => round(x, 2)) };
const { child, url, config } = await startServer(fresh.dataDir, postgres?.url);
const pid = child.pid!;
const rssCurve: { s: number; phase: string; mb: number }[] = [];
const t0 = performance.now();
let phase = 'warm-up';
const sampler = setInterval(
  () => rssCurve.push({ s: Math.round((performance.now() - t0) / 1000), phase, mb: rssMb(pid) }),
  1000,
);

try {
  const queries = await Promise.all(
    [1, 2, 3, 4, 5, 6, 7, 8].map(async (s) =>
      distort(await productImage(s, { width: 224, height: 224, format: 'jpeg' }), { seed: s }),
    ),
  );
  for (const q of queries) await searchOnce(url, q);
  await sleep(3000);
  const baselineMb = rssMb(pid);
  const parts: Record<string, Record<string, number>> = { baseline: await memoryParts(url) };

  // 1. Hostile requests.
  phase = 'hostile';
  const hostile = Number(opts.hostile);
  const outcomes: Record<string, number> = {};
  const failures: Record<string, number> = {};
  const hostileStarted = performance.now();
  await forEachConcurrently(
    hostileCorpus(await hostileMaterial(), hostile, 13),
    Number(opts.concurrency),
    async (request) => {
      const answer = await sendRaw(url, request, 30_000);
      const outcome = typeof answer === 'string' ? answer : classify(answer);
      outcomes[outcome] = (outcomes[outcome] ?? 0) + 1;
      if (outcome !== 'ok' && outcome !== 'coded')
        failures[`${request.kind}: ${outcome}`] = (failures[`${request.kind}: ${outcome}`] ?? 0) + 1;
    },
  );
  const hostileSeconds = (performance.now() - hostileStarted) / 1000;
  const afterHostileMb = rssMb(pid);
  parts.afterHostile = await memoryParts(url);
  phase = 'settle';
  const settleSeconds = Number(opts.settleSeconds);
  await sleep(Math.min(10, settleSeconds) * 1000);
  const after10sMb = rssMb(pid);
  await sleep(Math.max(0, settleSeconds - 10) * 1000);
  const settledMb = rssMb(pid);
  parts.settled = await memoryParts(url);
  const alive = await searchOnce(url, queries[0]!);

  // 2. Idle latency, sustainable rate, overload.
  phase = 'idle';
  const idle: number[] = [];
  for (let i = 0; i < 60; i++) idle.push((await searchOnce(url, queries[i % queries.length]!)).ms);
  phase = 'capacity';
  const clients = loadConfig({}).SEARCH_MAX_CONCURRENT; // the server runs with the defaults
  let completed = 0;
  const capacityStarted = performance.now();
  await Promise.all(
    Array.from({ length: clients }, async (_, c) => {
      for (let i = 0; performance.now() - capacityStarted < 15_000; i++) {
        if ((await searchOnce(url, queries[(c + i) % queries.length]!)).status === 200) completed++;
      }
    }),
  );
  const sustainable = completed / ((performance.now() - capacityStarted) / 1000);

  phase = 'overload';
  const rate = sustainable * Number(opts.factor);
  const overloadMs = Number(opts.overloadSeconds) * 1000;
  const results: { status: number; ms: number; code?: string }[] = [];
  const healthMs: number[] = [];
  const pending: Promise<void>[] = [];
  const stagesBefore = await stageTotals(url);
  const overloadStarted = performance.now();
  const healthProbe = (async () => {
    while (performance.now() - overloadStarted < overloadMs) {
      const started = performance.now();
      await fetch(`${url}/healthz`).then((r) => r.arrayBuffer());
      healthMs.push(performance.now() - started);
      await sleep(100);
    }
  })();
  for (let i = 0; performance.now() - overloadStarted < overloadMs; i++) {
    const due = overloadStarted + (i * 1000) / rate;
    if (due > performance.now()) await sleep(due - performance.now());
    pending.push(searchOnce(url, queries[i % queries.length]!).then((r) => void results.push(r)));
  }
  await Promise.all([...pending, healthProbe]);
  const overloadStages = stageMeans(stagesBefore, await stageTotals(url));
  phase = 'after';
  await sleep(5000);
  const finalMb = rssMb(pid);
  parts.final = await memoryParts(url);
  clearInterval(sampler);

  const byStatus: Record<string, number> = {};
  for (const r of results) byStatus[r.status] = (byStatus[r.status] ?? 0) + 1;
  const admitted = results.filter((r) => r.status === 200).map((r) => r.ms);
  const idleStats = stats(idle);
  const admittedStats = stats(admitted);
  load.end = loadavg().map((x) => round(x, 2));
  const report = {
    command: `npx tsx bench/attack.ts --hostile ${hostile} --overload-seconds ${opts.overloadSeconds} --factor ${opts.factor}`,
    server: {
      ...config,
      DATA_DIR: '(temp)',
      ...(postgres && { DATABASE_URL: '(a fresh database on the local test server)' }),
    },
    load,
    hostile: {
      requests: hostile,
      seconds: round(hostileSeconds),
      outcomes,
      failures,
      aliveAfter: alive.status === 200,
    },
    memory: { baselineMb, afterHostileMb, after10sMb, settledMb, finalMb, peakMb: Math.max(...rssCurve.map((p) => p.mb)), parts },
    idle: idleStats,
    sustainablePerSecond: round(sustainable, 2),
    overload: {
      ratePerSecond: round(rate, 2),
      seconds: Number(opts.overloadSeconds),
      requests: results.length,
      byStatus,
      admitted: admittedStats,
      p99RatioToIdle: round(admittedStats.p99 / idleStats.p99, 2),
      healthz: stats(healthMs),
      stagesMs: overloadStages,
    },
    rssCurve,
  };
  const curve = rssCurve.filter((_, i) => i % 10 === 0 || i === rssCurve.length - 1);
  await writeBenchReport(
    opts.out,
    report,
    [
      '# Attack and overload (issue 13)',
      '',
      `\`${report.command}\` — a server process started by the script (${opts.database} database, drawn demo catalog, rate limit off), 2 CPU cores shared with other jobs; load average (1, 5, 15 min) ${load.start.join(', ')} at the start, ${load.end!.join(', ')} at the end.`,
      '',
      '## Hostile requests',
      '',
      `| requests | seconds | ok (200) | coded 4xx | 5xx | uncoded | hangs (no answer in 30 s) | connection reset | alive after |`,
      `| --- | --- | --- | --- | --- | --- | --- | --- | --- |`,
      `| ${hostile} | ${report.hostile.seconds} | ${outcomes.ok ?? 0} | ${outcomes.coded ?? 0} | ${outcomes['5xx'] ?? 0} | ${outcomes.uncoded ?? 0} | ${outcomes.timeout ?? 0} | ${outcomes.reset ?? 0} | ${report.hostile.aliveAfter ? 'yes' : 'NO'} |`,
      '',
      Object.keys(failures).length
        ? `Failures by kind: ${Object.entries(failures)
            .map(([k, n]) => `${k} ×${n}`)
            .join('; ')}`
        : 'No failures.',
      '',
      `Server RSS: ${baselineMb} MB before, ${afterHostileMb} MB right after, ${after10sMb} MB 10 s later (${signed(after10sMb - baselineMb)} MB), ${settledMb} MB ${settleSeconds} s later (${signed(settledMb - baselineMb)} MB; goal: within 100 MB), peak ${report.memory.peakMb} MB, ${finalMb} MB at the end of the run.`,
      '',
      '## Overload',
      '',
      `Sustainable rate (${clients} closed-loop clients, 15 s): ${report.sustainablePerSecond} searches/s. Overload: ${report.overload.ratePerSecond}/s (${opts.factor}×) for ${opts.overloadSeconds} s, open loop.`,
      '',
      '| | searches | p50 ms | p99 ms | max ms |',
      '| --- | --- | --- | --- | --- |',
      `| idle (sequential) | ${idleStats.n} | ${idleStats.p50} | ${idleStats.p99} | ${idleStats.max} |`,
      `| admitted under overload (200) | ${admittedStats.n} | ${admittedStats.p50} | ${admittedStats.p99} | ${admittedStats.max} |`,
      `| /healthz under overload | ${report.overload.healthz.n} | ${report.overload.healthz.p50} | ${report.overload.healthz.p99} | ${report.overload.healthz.max} |`,
      '',
      `Statuses under overload: ${Object.entries(byStatus)
        .map(([s, n]) => `${s} ×${n}`)
        .join(
          ', ',
        )} (0 = no answer within 30 s). p99 of admitted searches ÷ idle p99 = ${report.overload.p99RatioToIdle} (goal ≤ 4).`,
      '',
      `Where an admitted search's time went under overload (mean ms per stage, the server's /metrics): ${Object.entries(overloadStages)
        .map(([stage, ms]) => `${stage} ${ms}`)
        .join(', ')}.`,
      '',
      '## Server memory (RSS, every 10 s)',
      '',
      '| s | phase | MB |',
      '| --- | --- | --- |',
      ...curve.map((p) => `| ${p.s} | ${p.phase} | ${p.mb} |`),
    ],
    {
      title: 'Search latency: idle vs admitted under 4× overload',
      valueTitle: 'ms',
      values: [
        { group: 'idle', series: 'p50', value: idleStats.p50 },
        { group: 'idle', series: 'p99', value: idleStats.p99 },
        { group: 'overload (admitted)', series: 'p50', value: admittedStats.p50 },
        { group: 'overload (admitted)', series: 'p99', value: admittedStats.p99 },
      ],
    },
  );
} finally {
  clearInterval(sampler);
  child.kill('SIGTERM');
  await new Promise((r) => child.once('exit', r));
  await fresh.cleanup();
  await postgres?.drop();
}
