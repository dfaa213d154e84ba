// Read replicas against a real streaming hot standby (tests/support/replication.ts starts a
// private primary + standby): lag-tolerant reads are served by the replica, a stopped replica
// sends them to the primary at once, a stopped primary leaves searches and browsing answering from
// the replica while writes fail fast with DATABASE_UNAVAILABLE, and writes work again within
// 5 s of the primary's return; then the same through the HTTP API of two service processes
// sharing the database.
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import pino from 'pino';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { loadConfig } from '../src/config.js';
import { openDatabase, type Database, type ProductWrite, type VectorModel } from '../src/db/index.js';
import { startService, type RunningService } from '../src/service.js';
import { errorCode, graphql } from './support/graphql.js';
import { productImage } from './support/images.js';
import { replicationAvailable, startReplicatedCluster, type ReplicatedCluster } from './support/replication.js';
import { needsSystem } from './support/system.js';

const available = replicationAvailable();
const runs = needsSystem('a private PostgreSQL primary + hot standby', available.ok, available.ok ? '' : available.why);
const logger = pino({ level: process.env.TEST_LOG_LEVEL || 'silent' });
const MODEL: VectorModel = { key: 'replica-test@1', dim: 8, metric: 'l2' };

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/** Polls fn until it returns true; the milliseconds it took, or throws after `limitMs`. */
async function within(limitMs: number, fn: () => Promise<boolean>): Promise<number> {
  const started = Date.now();
  for (;;) {
    if (await fn().catch(() => false)) return Date.now() - started;
    if (Date.now() - started > limitMs) throw new Error(`not within ${limitMs} ms`);
    await sleep(100);
  }
}

function writes(n: number, tag: string): ProductWrite[] {
  return Array.from({ length: n }, (_, i) => {
    const id = crypto.randomUUID();
    const vector = Float32Array.from({ length: MODEL.dim }, (_, d) => Math.sin(i * 7 + d));
    const hex = Buffer.from(`${tag}-${i}`).toString('hex').padEnd(64, '0').slice(0, 64);
    return {
      product: { source: 'replicas', externalId: `${tag}-${i}`, title: `Item ${tag} ${i}`, category: i % 2 ? 'odd' : 'even' },
      images: [{ id, sha256: hex, phash: hex.slice(0, 16), width: 8, height: 8, mediaPath: `${id}.jpg`, vector, features: vector }],
    };
  });
}

describe('DATABASE_REPLICA_URLS', () => {
  it('is a comma-separated list of postgresql:// URLs, empty by default', () => {
    expect(loadConfig({}).DATABASE_REPLICA_URLS).toEqual([]);
    expect(loadConfig({ DATABASE_REPLICA_URLS: 'postgresql://a:5432/x, postgres://b/x ,' }).DATABASE_REPLICA_URLS).toEqual([
      'postgresql://a:5432/x',
      'postgres://b/x',
    ]);
    expect(() => loadConfig({ DATABASE_REPLICA_URLS: 'postgresql://a/x,mysql://b/x' })).toThrow(/DATABASE_REPLICA_URLS/);
  });

  it('needs a primary: replicas of the embedded database are refused at start', async () => {
    const dir = await mkdtemp(path.join(os.tmpdir(), 'vps-replicas-'));
    try {
      await expect(openDatabase({ replicaUrls: ['postgresql://127.0.0.1:1/x'], dataDir: dir, efSearch: 40, logger })).rejects.toThrow(/DATABASE_URL/);
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  });
});

describe.runIf(runs)('read replicas on a streaming hot standby', () => {
  let cluster: ReplicatedCluster;
  let db: Database;
  let dataDir: string;
  const query = { model: MODEL, vector: new Float32Array(MODEL.dim).fill(0.1), k: 3 };

  /** The replica's replay paused: what the primary commits meanwhile is not visible there. */
  const pauseReplay = () => cluster.replica.sql('SELECT pg_wal_replay_pause()');
  const resumeReplay = () => cluster.replica.sql('SELECT pg_wal_replay_resume()');

  beforeAll(async () => {
    cluster = await startReplicatedCluster();
    dataDir = await mkdtemp(path.join(os.tmpdir(), 'vps-replicas-'));
    db = await openDatabase({ url: cluster.primary.url, replicaUrls: [cluster.replica.url], dataDir, efSearch: 40, logger });
    await db.migrate();
    await db.models.ensure(MODEL);
    await db.catalog.saveProducts(MODEL, writes(20, 'seed'));
  }, 120_000);

  afterAll(async () => {
    await db?.close();
    await cluster?.cleanup();
    if (dataDir) await rm(dataDir, { recursive: true, force: true });
  });

  it('serves searches and catalog reads from the replica; a write shows there once replayed', async () => {
    await within(5000, async () => (await db.replicaCatalog.countProducts()) === 20);
    await pauseReplay();
    try {
      const [saved] = await db.catalog.saveProducts(MODEL, writes(1, 'late'));
      const id = saved!.productId;
      // The primary has it; the replica (replay paused) does not: the reads went to the replica.
      expect(await db.catalog.product(id)).not.toBeNull();
      expect(await db.replicaCatalog.product(id)).toBeNull();
      expect(await db.replicaCatalog.countProducts()).toBe(20);
      expect((await db.vectors.nearest(query)).map((h) => h.productId)).not.toContain(id);
      const clients = await cluster.replica.sql<{ n: number }>(
        `SELECT count(*)::int AS n FROM pg_stat_activity WHERE application_name = 'vps-replica-reads'`,
      );
      expect(clients[0]!.n).toBeGreaterThan(0);
      await resumeReplay();
      const ms = await within(5000, async () => (await db.replicaCatalog.product(id)) !== null);
      expect(ms).toBeLessThan(5000);
    } finally {
      await resumeReplay().catch(() => undefined);
    }
    const [primary, replica] = await db.databases();
    expect(primary).toMatchObject({ role: 'primary', reachable: true });
    expect(replica).toMatchObject({ role: 'replica', reachable: true, inRotation: true });
    expect(replica!.lagSeconds).toBeGreaterThanOrEqual(0);
  });

  it('replica stopped: reads go to the primary at once, without an error; back in rotation when it returns', async () => {
    await cluster.replica.stop();
    const [saved] = await db.catalog.saveProducts(MODEL, writes(1, 'while-replica-down'));
    // Only the primary has seen this write: finding it proves where the read went.
    for (let i = 0; i < 20; i++) {
      expect(await db.replicaCatalog.product(saved!.productId)).not.toBeNull();
      expect(await db.vectors.nearest(query)).toHaveLength(3);
    }
    const statuses = await db.databases();
    expect(statuses[1]).toMatchObject({ role: 'replica', reachable: false, inRotation: false });

    await cluster.replica.start();
    await within(10_000, async () => (await db.databases())[1]!.inRotation === true);
    await pauseReplay();
    try {
      const [late] = await db.catalog.saveProducts(MODEL, writes(1, 'after-replica-back'));
      expect(await db.replicaCatalog.product(late!.productId)).toBeNull(); // from the replica again
    } finally {
      await resumeReplay();
    }
  }, 60_000);

  it('primary stopped: reads answer from the replica, writes fail fast with DATABASE_UNAVAILABLE, and work within 5 s of its return', async () => {
    const [any] = await db.replicaCatalog.listProducts({}, 1, null).then((p) => p.products);
    await cluster.primary.stop();
    try {
      const hits = await db.vectors.nearest(query);
      expect(hits).toHaveLength(3);
      // Stored embeddings too (re-rank, "more like this"), and the counts.
      expect((await db.vectors.get([hits[0]!.imageId], MODEL)).size).toBe(1);
      expect(await db.vectors.count(MODEL.key)).toBeGreaterThan(20);
      expect(await db.replicaCatalog.product(any!.id)).not.toBeNull();
      expect(await db.pendingMigrations()).toEqual([]);
      const started = Date.now();
      await expect(db.catalog.updateFields(any!.id, { title: 'renamed' })).rejects.toMatchObject({ code: 'DATABASE_UNAVAILABLE' });
      expect(Date.now() - started).toBeLessThan(2000);
      const [primary, replica] = await db.databases();
      expect(primary).toMatchObject({ role: 'primary', reachable: false });
      expect(replica).toMatchObject({ role: 'replica', reachable: true });
    } finally {
      await cluster.primary.start();
    }
    const ms = await within(5000, () => db.catalog.updateFields(any!.id, { title: 'renamed' }));
    console.info(`[replicas] writes back ${ms} ms after the primary started`);
    expect(ms).toBeLessThan(5000);
  }, 60_000);

  it('a replica that is down at start is skipped; the others and the primary serve', async () => {
    const dead = 'postgresql://postgres@127.0.0.1:1/postgres';
    const both = await openDatabase({ url: cluster.primary.url, replicaUrls: [dead, cluster.replica.url], dataDir, efSearch: 40, logger });
    try {
      for (let i = 0; i < 6; i++) expect(await both.vectors.nearest(query)).toHaveLength(3);
      const [, down, up] = await both.databases();
      expect(down).toMatchObject({ role: 'replica', reachable: false, inRotation: false });
      expect(up).toMatchObject({ role: 'replica', reachable: true, inRotation: true });
    } finally {
      await both.close();
    }
  });

  describe('two service processes on the primary and the replica', () => {
    const KEY = 'replica-test-admin-key-0123456789';
    const services: RunningService[] = [];
    const dirs: string[] = [];
    const admin = { authorization: `Bearer ${KEY}` };

    beforeAll(async () => {
      for (let i = 0; i < 2; i++) {
        const dir = await mkdtemp(path.join(os.tmpdir(), 'vps-replicas-api-'));
        dirs.push(dir);
        const config = loadConfig({
          PORT: '0',
          HOST: '127.0.0.1',
          DATA_DIR: dir,
          DATABASE_URL: cluster.primary.url,
          DATABASE_REPLICA_URLS: cluster.replica.url,
          ML_PROVIDERS: 'cpu',
          LOG_LEVEL: 'silent',
          DEMO_CATALOG: i === 0 ? 'drawn' : 'false',
          RATE_LIMIT_PER_MINUTE: '0',
          ADMIN_API_KEY: KEY,
          INGEST_RATE_PER_SECOND: '0',
        });
        // One after the other: the first migrates and seeds the demo catalog, the second finds both done.
        services.push(await startService(config, logger));
      }
    }, 180_000);

    afterAll(async () => {
      await Promise.all(services.map((s) => s.close()));
      await Promise.all(dirs.map((d) => rm(d, { recursive: true, force: true })));
    });

    it('an ingest started on one process is followed from the other, and cannot be started twice', async () => {
      const [a, b] = services;
      const files = dirs[0]!;
      await writeFile(path.join(files, 'p1.png'), await productImage(41, { width: 256, height: 256 }));
      await writeFile(path.join(files, 'p2.png'), await productImage(42, { width: 256, height: 256 }));
      await writeFile(
        path.join(files, 'items.jsonl'),
        ['p1', 'p2'].map((id) => JSON.stringify({ id, title: `Shared ${id}`, image: `${id}.png` })).join('\n'),
      );
      const source = { kind: 'MANIFEST', path: path.join(files, 'items.jsonl'), sourceName: 'shared' };
      const start = await graphql(a!.url, `mutation($s: IngestSourceInput!) { startIngest(source: $s) { id } }`, { s: source }, { headers: admin });
      expect(start.errors).toBeUndefined();
      const id = start.data.startIngest.id as string;
      const JOB = `query($id: ID!) { ingestJob(id: $id) { status itemsDone counts { created } } }`;
      // The same source from the other process while the run is alive: refused by the run lease.
      const again = await graphql(b!.url, `mutation($s: IngestSourceInput!) { startIngest(source: $s) { id status } }`, { s: source }, { headers: admin });
      if (!again.errors) expect(again.data.startIngest).toMatchObject({ id: expect.any(String) }); // it had already finished
      else expect(errorCode(again)).toBe('CONFLICT');
      let job: { status: string; itemsDone: number; counts: { created: number } } | undefined;
      await within(60_000, async () => {
        job = (await graphql(b!.url, JOB, { id }, { headers: admin })).data.ingestJob;
        return job?.status === 'COMPLETED';
      });
      expect(job).toMatchObject({ status: 'COMPLETED', itemsDone: 2, counts: { created: 2 } });
    }, 90_000);

    it('/readyz lists the primary and the replica with its lag', async () => {
      const r = await fetch(`${services[1]!.url}/readyz`);
      const body = (await r.json()) as { components: { database: { ok: boolean; databases: { role: string; reachable: boolean; lagSeconds?: number }[] } } };
      expect(r.status).toBe(200);
      expect(body.components.database.databases).toEqual([
        expect.objectContaining({ role: 'primary', reachable: true }),
        expect.objectContaining({ role: 'replica', reachable: true, lagSeconds: expect.any(Number) }),
      ]);
    });

    it('primary stopped while 4 clients search and browse: every request after the first 5 s answers 200; admin mutations and ingest get DATABASE_UNAVAILABLE; mutations work within 5 s of its return', async () => {
      const LIST = `{ products(first: 5) { totalCount edges { node { id title } } } }`;
      const first = await graphql(services[0]!.url, LIST);
      const productId = first.data.products.edges[0].node.id as string;
      const photo = await productImage(2, { width: 160, height: 160 });
      const PHOTO_SEARCH = `query($i: Upload) { similarProducts(image: $i, topK: 3) { id items { rank product { id } } } }`;
      const hit = await graphql(services[0]!.url, PHOTO_SEARCH, {}, { files: [{ variable: 'i', bytes: photo }] });
      const similarTo = hit.data.similarProducts.items[0].product.id as string;
      // Two clients search with a photo, one by a product ("more like this"), one browses: a search needs no write.
      const requests = [
        (url: string) => graphql(url, PHOTO_SEARCH, {}, { files: [{ variable: 'i', bytes: photo }] }),
        (url: string) => graphql(url, `query($p: ID) { similarProducts(productId: $p, topK: 3) { id items { rank } } }`, { p: similarTo }),
        (url: string) => graphql(url, PHOTO_SEARCH, {}, { files: [{ variable: 'i', bytes: photo }] }),
        (url: string) => graphql(url, LIST),
      ];
      const results: { at: number; status: number; errors: boolean }[] = [];
      let stopAt = 0;
      let running = true;
      const clients = requests.map(async (request, c) => {
        while (running) {
          const r = await request(services[c % 2]!.url).catch(() => ({ status: 0, errors: [{}] }));
          results.push({ at: Date.now(), status: r.status, errors: Boolean(r.errors) });
          await sleep(20);
        }
      });
      await sleep(300);
      stopAt = Date.now();
      await cluster.primary.stop();
      try {
        await sleep(6000);
        const UPDATE = `mutation($id: ID!) { updateProduct(id: $id, input: { title: "while down" }) { id } }`;
        const t0 = Date.now();
        const refused = await graphql(services[1]!.url, UPDATE, { id: productId }, { headers: admin });
        expect(errorCode(refused)).toBe('DATABASE_UNAVAILABLE');
        expect(Date.now() - t0).toBeLessThan(2000);
        const source = { kind: 'MANIFEST', path: path.join(dirs[0]!, 'items.jsonl'), sourceName: 'while-down' };
        const ingest = await graphql(services[0]!.url, `mutation($s: IngestSourceInput!) { startIngest(source: $s) { id } }`, { s: source }, { headers: admin });
        expect(errorCode(ingest)).toBe('DATABASE_UNAVAILABLE');
        const ready = await fetch(`${services[0]!.url}/readyz`);
        expect(ready.status).toBe(200); // the replica still serves: stay in the load balancer
      } finally {
        await cluster.primary.start();
      }
      const back = Date.now();
      await within(5000, async () => {
        const r = await graphql(services[0]!.url, `mutation($id: ID!) { updateProduct(id: $id, input: { title: "back" }) { title } }`, { id: productId }, { headers: admin });
        return r.data?.updateProduct?.title === 'back';
      });
      expect(Date.now() - back).toBeLessThan(5000);
      running = false;
      await Promise.all(clients);
      const after = results.filter((r) => r.at > stopAt + 5000);
      const ok = (rs: typeof results) => rs.filter((r) => r.status === 200 && !r.errors).length;
      // The failover figures of docs/scaling.md.
      console.info(`[replicas] primary down: ${ok(results.filter((r) => r.at > stopAt))}/${results.filter((r) => r.at > stopAt).length} searches and reads answered 200 after the stop, ${ok(after)}/${after.length} after the first 5 s; mutations back ${Date.now() - back} ms after the primary`);
      expect(after.length).toBeGreaterThan(20);
      expect(after.filter((r) => r.status !== 200 || r.errors)).toEqual([]);
    }, 90_000);
  });
});
