// A killed ingest (SIGKILL, not a polite stop) continues where it stopped when the same command
// runs again: the CLI in a child process against each database, a real local store server.
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { pino } from 'pino';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { openDatabase } from '../src/db/index.js';
import { runCli } from './support/cli.js';
import { productImage } from './support/images.js';
import { createPostgresDatabase, serviceBackends } from './support/service.js';
import { FakeStore } from './ingest.store.js';

const PAGES = 6;
const ROWS = 4;

async function waitFor(check: () => boolean, what: string, timeoutMs = 90_000): Promise<void> {
  const until = Date.now() + timeoutMs;
  while (!check()) {
    if (Date.now() > until) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 50));
  }
}

describe.each(await serviceBackends())('resuming a killed ingest ($name)', (backend) => {
  const store = new FakeStore();
  let dataDir: string;
  let database: Awaited<ReturnType<typeof createPostgresDatabase>> | null = null;
  let env: Record<string, string>;
  let args: string[];

  beforeAll(async () => {
    dataDir = await mkdtemp(path.join(tmpdir(), 'vps-ingest-resume-'));
    database = backend.name === 'postgres' ? await createPostgresDatabase() : null;
    const base = await store.start();
    for (let p = 0; p < PAGES; p++) {
      const page = [];
      for (let i = 0; i < ROWS; i++) {
        const n = p * ROWS + i;
        page.push({ sku: `K${n}`, name: `Product ${n}`, photo: store.addImage(`k${n}.png`, await productImage(100 + n, { width: 200, height: 200 })) });
      }
      store.pages.push(page);
    }
    env = {
      DATA_DIR: dataDir,
      MODELS_DIR: path.resolve('models'),
      ML_PROVIDERS: 'cpu',
      LOG_LEVEL: 'debug',
      INGEST_RATE_PER_SECOND: '0',
      ...(database ? { DATABASE_URL: database.url } : {}),
    };
    args = ['api', `${base}/api/products`, '--items', 'data.results.products', '--page-size', String(ROWS), '--map', 'id=sku,title=name,image=photo', '--source', 'shop', '--json', '--no-progress'];
  });

  afterAll(async () => {
    await store.stop();
    await database?.drop();
    await rm(dataDir, { recursive: true, force: true });
  });

  it('continues after SIGKILL without duplicates or lost products', { timeout: 300_000 }, async () => {
    // Page 3 hangs: the first process is killed once pages 1 and 2 are committed.
    store.held.add(store.pageUrl(3, ROWS));
    const first = runCli('ingest.ts', args, env);
    await waitFor(() => /"pagesDone":2\b/.test(first.stderr) || first.process.exitCode !== null, 'two pages done');
    expect(first.process.exitCode, first.stderr).toBeNull();
    first.process.kill('SIGKILL');
    expect(await first.exited).toBeNull();
    store.release();

    const second = runCli('ingest.ts', args, env);
    expect(await second.exited, second.stderr).toBe(0);
    const report = JSON.parse(second.stdout);
    expect(report).toMatchObject({ status: 'completed', resumed: true, pagesDone: PAGES, itemsDone: PAGES * ROWS });
    // Counts span both processes: every product added once, none twice.
    expect(report.counts).toMatchObject({ created: PAGES * ROWS, unchanged: 0, failed: 0, newImages: PAGES * ROWS });
    // Pages 1 and 2 were not asked for again.
    expect(store.requestsTo(store.pageUrl(1, ROWS))).toHaveLength(1);
    expect(store.requestsTo(store.pageUrl(2, ROWS))).toHaveLength(1);

    const db = await openDatabase({ url: database?.url, dataDir, efSearch: 40, logger: pino({ level: 'silent' }) });
    try {
      expect(await db.catalog.countProducts()).toBe(PAGES * ROWS);
      expect(await db.catalog.countImages()).toBe(PAGES * ROWS);
      expect(await db.vectors.count()).toBe(PAGES * ROWS);
      const runs = await db.ingestRuns.list(10);
      expect(runs).toHaveLength(1);
      expect(runs[0]).toMatchObject({ status: 'completed', pagesDone: PAGES, itemsDone: PAGES * ROWS });
      expect(await db.ingestRuns.items(runs[0]!.id)).toHaveLength(PAGES * ROWS);
      const titles = (await db.catalog.listProducts({}, 100, null)).products.map((p) => p.externalId).sort();
      expect(titles).toEqual(Array.from({ length: PAGES * ROWS }, (_, n) => `K${n}`).sort());
    } finally {
      await db.close();
    }
  });
});
