// The migrator on both backends: applies once, records rows the way Prisma does, refuses edited
// migrations, rolls a failing one back whole, and (Postgres) lets concurrent starters take turns.
import { createHash } from 'node:crypto';
import { cp, mkdtemp, readFile, rm, writeFile, mkdir } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import pino from 'pino';
import { afterEach, describe, expect, it } from 'vitest';
import { MigrationError, openDatabase, type VectorModel } from '../src/db/index.js';
import { readMigrations } from '../src/db/migrator.js';
import { testBackends, type OpenedBackend } from './support/databases.js';

const INIT = '20261129000000_init';
const migrationsDir = path.resolve('prisma/migrations');
/** Every migration in the repository, in order (others add theirs after INIT). */
const ALL = (await readMigrations(migrationsDir)).map((m) => m.name);
const sha256 = (s: string) => createHash('sha256').update(s).digest('hex');

interface Row {
  id: string;
  checksum: string;
  finished_at: Date | null;
  migration_name: string;
  logs: string | null;
  rolled_back_at: Date | null;
  started_at: Date;
  applied_steps_count: number;
}
const history = (t: OpenedBackend) => t.sql<Row>('SELECT * FROM "_prisma_migrations" ORDER BY migration_name, started_at');
const tableExists = async (t: OpenedBackend, name: string) =>
  (await t.sql<{ t: string | null }>('SELECT to_regclass($1)::text AS t', [name]))[0]!.t !== null;

/** A catalog image as the write path takes it, with a 2-d vector and the given scorer features. */
const imageRecord = (features: Float32Array) => ({
  id: crypto.randomUUID(),
  sha256: 'f'.repeat(64),
  phash: 'a'.repeat(16),
  width: 10,
  height: 20,
  mediaPath: 'a/b.jpg',
  vector: new Float32Array([1, 2]),
  features,
});

async function migrationsCopy(extra: Record<string, string>): Promise<string> {
  const dir = await mkdtemp(path.join(os.tmpdir(), 'vps-migrations-'));
  await cp(migrationsDir, dir, { recursive: true });
  for (const [name, sql] of Object.entries(extra)) {
    await mkdir(path.join(dir, name));
    await writeFile(path.join(dir, name, 'migration.sql'), sql);
  }
  return dir;
}

describe.each(testBackends())('migrations on $name', ({ name, open }) => {
  const cleanups: Array<() => Promise<unknown>> = [];
  afterEach(async () => {
    while (cleanups.length) await cleanups.pop()!();
  });
  const openFresh = async (opts: Parameters<typeof open>[0] = {}): Promise<OpenedBackend> => {
    const t = await open({ migrate: false, ...opts });
    cleanups.push(() => t.cleanup());
    return t;
  };

  it('applies the migrations once and records them as Prisma does', async () => {
    const t = await openFresh();
    const { db } = t;
    const before = Date.now();
    expect(ALL[0]).toBe(INIT);
    expect(await db.migrate()).toEqual(ALL);
    expect(await db.migrate()).toEqual([]);
    const rows = await history(t);
    expect(rows.map((r) => r.migration_name)).toEqual(ALL);
    const row = rows[0]!;
    const sql = await readFile(path.join(migrationsDir, INIT, 'migration.sql'), 'utf8');
    expect(row.id).toMatch(/^[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/);
    expect(row.checksum).toBe(sha256(sql));
    expect(row.migration_name).toBe(INIT);
    expect(row.logs).toBeNull();
    expect(row.rolled_back_at).toBeNull();
    expect(row.applied_steps_count).toBe(1);
    expect(row.finished_at).toBeInstanceOf(Date);
    expect(row.finished_at!.getTime()).toBeGreaterThanOrEqual(row.started_at.getTime());
    expect(row.started_at.getTime()).toBeGreaterThan(before - 60_000);
    for (const table of ['products', 'product_images', 'vector_models', 'image_embeddings', 'searches']) {
      expect(await tableExists(t, table)).toBe(true);
    }
  });

  it('matches the Prisma schema: every table reads and writes through the repositories', async () => {
    const t = await openFresh({ migrate: true });
    const { db } = t;
    // Column defaults and the (source, external_id) key, as the migration declares them.
    await t.sql(`INSERT INTO products (id, external_id, title) VALUES ($1, 'x0', 'Default source')`, [crypto.randomUUID()]);
    const [defaults] = await t.sql<{ source: string; attributes: unknown }>(`SELECT source, attributes FROM products WHERE external_id = 'x0'`);
    expect(defaults).toEqual({ source: 'manual', attributes: {} });
    await expect(t.sql(`INSERT INTO products (id, external_id, title) VALUES ($1, 'x0', 'dup')`, [crypto.randomUUID()])).rejects.toThrow();

    const model: VectorModel = { key: 'm', dim: 2, metric: 'l2' };
    await db.models.ensure(model);
    expect(await db.models.list()).toEqual([{ key: 'm', name: 'm', version: '', dim: 2, metric: 'l2' }]);
    const image = imageRecord(new Float32Array([3]));
    const imageId = image.id;
    const product = { source: 'manual', externalId: 'x1', title: 'Lamp', price: 12.5, currency: 'EUR', attributes: { a: 1 } };
    const [saved] = await db.catalog.saveProducts(model, [{ product, images: [image] }]);
    const p = (await db.catalog.product(saved!.productId))!;
    expect(p).toMatchObject({ ...product, description: null, images: [{ id: imageId, position: 0, sourceUrl: null, width: 10, height: 20 }] });
    expect((await db.catalog.productByKey('manual', 'x1'))?.id).toBe(p.id);
    const emb = (await db.vectors.get([imageId], model)).get(imageId)!;
    expect([Array.from(emb.vector), Array.from(emb.features)]).toEqual([[1, 2], [3]]);
    expect(await db.vectors.count('m')).toBe(1);

    const searchId = await db.searches.save({
      expiresAt: new Date(Date.now() + 3600_000),
      modelKey: 'm',
      queryImageHash: null,
      queryEmbedding: new Float32Array([1, 2]),
      queryFeatures: new Float32Array([5, 6]),
      params: { topK: 5 },
      results: [{ productId: p.id, imageId, distance: 0.5 }],
    });
    const back = (await db.searches.toRerank(searchId))!;
    expect(Array.from(back.queryFeatures)).toEqual([5, 6]);
    expect(back.params).toEqual({ topK: 5 });
    expect((await t.sql<{ reranked: unknown }>('SELECT reranked FROM searches WHERE id = $1', [searchId]))[0]!.reranked).toBeNull();

    const run = (await db.ingestRuns.create({ fingerprint: 'f'.repeat(64), kind: 'api', source: 's', spec: { kind: 'api' }, owner: 'me' }))!;
    expect(await db.ingestRuns.create({ fingerprint: 'f'.repeat(64), kind: 'api', source: 's', spec: {}, owner: 'other' })).toBeNull();
    await db.transaction(async (tx) => {
      const failure = { itemKey: 'x2', image: null, code: 'NO_IMAGES', reason: 'none' };
      await tx.ingestRuns.recordItems(run.id, 0, [{ key: 'x1', outcome: 'created', productId: p.id, images: [] }], [failure], { created: 1 });
      await tx.nearDuplicates.record([{ sha256: 'e'.repeat(64), duplicateOf: imageId, imageId: null, productId: null, hamming: 3, distance: 0.25, action: 'skipped', runId: run.id }]);
    });
    expect(await db.ingestRuns.get(run.id)).toMatchObject({ status: 'running', itemsDone: 1, counts: { created: 1 }, owner: 'me' });
    expect(await db.ingestRuns.items(run.id)).toEqual([{ key: 'x1', outcome: 'created' }]);
    expect(await db.ingestRuns.failures(run.id, 10)).toMatchObject([{ itemKey: 'x2', code: 'NO_IMAGES', page: 0 }]);
    expect((await db.nearDuplicates.known(['e'.repeat(64)])).get('e'.repeat(64))).toEqual({
      duplicateOf: imageId, ofProductId: p.id, imageId: null, productId: null, action: 'skipped', hamming: 3, distance: 0.25,
    });
  });

  it('stores scorer feature maps lz4-compressed where the server has lz4, uncompressed where it has not (PGlite)', async () => {
    const t = await openFresh({ migrate: true });
    const model: VectorModel = { key: 'm', dim: 2, metric: 'l2' };
    await t.db.models.ensure(model);
    // A feature map as the embedder makes them: mostly zeros after the ReLU, so it compresses.
    const features = Float32Array.from({ length: 128 * 12 * 12 }, (_, i) => (i % 3 === 0 ? (i % 97) / 7 : 0));
    const image = imageRecord(features);
    await t.db.catalog.saveProducts(model, [{ product: { source: 'manual', externalId: 'x1', title: 'Lamp' }, images: [image] }]);
    const searchId = await t.db.searches.save({
      expiresAt: new Date(Date.now() + 3600_000),
      modelKey: 'm',
      queryImageHash: null,
      queryEmbedding: new Float32Array([1, 2]),
      queryFeatures: features,
      params: {},
      results: [],
    });
    const stored = await t.sql<{ method: string | null; bytes: number }>(
      `SELECT pg_column_compression(features) AS method, pg_column_size(features) AS bytes FROM image_embeddings
       UNION ALL SELECT pg_column_compression(query_features), pg_column_size(query_features) FROM searches WHERE id = $1`,
      [searchId],
    );
    for (const row of stored) {
      if (name === 'postgres') {
        expect(row.method).toBe('lz4');
        expect(row.bytes).toBeLessThan(features.byteLength / 2);
      } else {
        expect(row.method).toBeNull();
        expect(row.bytes).toBeGreaterThanOrEqual(features.byteLength);
      }
    }
    expect((await t.db.vectors.get([image.id], model)).get(image.id)!.features).toEqual(features);
    expect((await t.db.searches.toRerank(searchId))!.queryFeatures).toEqual(features);
  });

  it('refuses a migration edited after it was applied, and an unfinished one', async () => {
    const dir = await migrationsCopy({ '20990101000000_extra': 'CREATE TABLE extra_t (x int);\n' });
    cleanups.push(() => rm(dir, { recursive: true, force: true }));
    const t = await openFresh({ migrationsDir: dir });
    const { db } = t;
    expect(await db.migrate()).toEqual([...ALL, '20990101000000_extra']);
    // line endings alone don't count as an edit (as in Prisma)
    await writeFile(path.join(dir, '20990101000000_extra', 'migration.sql'), 'CREATE TABLE extra_t (x int);\r\n');
    expect(await db.migrate()).toEqual([]);
    await writeFile(path.join(dir, '20990101000000_extra', 'migration.sql'), 'CREATE TABLE extra_t (x bigint);\n');
    const err = await db.migrate().catch((e: unknown) => e);
    expect(err).toBeInstanceOf(MigrationError);
    expect((err as Error).message).toMatch(/20990101000000_extra was changed after it was applied/);
    expect((err as Error).message).toContain(sha256('CREATE TABLE extra_t (x bigint);\n'));
    await writeFile(path.join(dir, '20990101000000_extra', 'migration.sql'), 'CREATE TABLE extra_t (x int);\n');
    expect(await db.migrate()).toEqual([]);
    // a row Prisma left unfinished (a failed `prisma migrate deploy`)
    await t.sql(`INSERT INTO "_prisma_migrations" (id, checksum, migration_name) VALUES ($1, 'x', '20990102000000_half')`, [crypto.randomUUID()]);
    await expect(db.migrate()).rejects.toThrow(/20990102000000_half is recorded as started but not finished/);
  });

  it('rolls a failing migration back whole and applies it once fixed', async () => {
    const broken = 'CREATE TABLE broken_t (x int);\nINSERT INTO broken_t VALUES (1);\nSELECT * FROM no_such_table;\n';
    const dir = await migrationsCopy({ '20990101000000_broken': broken, '20990102000000_after': 'CREATE TABLE after_t (x int);\n' });
    cleanups.push(() => rm(dir, { recursive: true, force: true }));
    const t = await openFresh({ migrationsDir: dir });
    const { db } = t;
    await expect(db.migrate()).rejects.toThrow(/20990101000000_broken failed and was rolled back.*no_such_table/s);
    expect((await history(t)).map((r) => r.migration_name)).toEqual(ALL);
    expect(await tableExists(t, 'broken_t')).toBe(false);
    expect(await tableExists(t, 'after_t')).toBe(false);
    await writeFile(path.join(dir, '20990101000000_broken', 'migration.sql'), 'CREATE TABLE broken_t (x int);\n');
    expect(await db.migrate()).toEqual(['20990101000000_broken', '20990102000000_after']);
    expect((await history(t)).every((r) => r.finished_at && r.applied_steps_count === 1)).toBe(true);
  });

  it.runIf(name === 'postgres')('concurrent migrators (separate clients) apply each migration once', async () => {
    const t = await openFresh();
    const logger = pino({ level: 'silent' });
    const dbs = await Promise.all(
      [0, 1, 2].map(() => openDatabase({ url: t.url, dataDir: t.dataDir, efSearch: 40, logger })),
    );
    cleanups.push(() => Promise.all(dbs.map((d) => d.close())));
    const results = await Promise.all(dbs.map((d) => d.migrate()));
    expect(results.flat()).toEqual(ALL);
    expect(results.filter((r) => r.length === 0)).toHaveLength(2);
    expect((await history(t)).map((r) => r.migration_name)).toEqual(ALL);
  });
});
