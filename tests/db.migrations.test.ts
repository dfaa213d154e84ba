// The migrator on both backends: applies once, records rows the way Prisma does, refuses edited
// migrations, rolls a failing one back whole, and (Postgres) lets concurrent starters take turns.
import { createHash } from 'node:crypto';
import { cp, mkdtemp, readFile, rm, writeFile, mkdir } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import pino from 'pino';
import { afterEach, describe, expect, it } from 'vitest';
import { MigrationError, openDatabase } from '../src/db/index.js';
import { readMigrations } from '../src/db/migrator.js';
import type { Database } from '../src/db/types.js';
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
const history = (db: Database) =>
  db.prisma.$queryRawUnsafe<Row[]>('SELECT * FROM "_prisma_migrations" ORDER BY migration_name, started_at');
const tableExists = async (db: Database, name: string) =>
  (await db.prisma.$queryRawUnsafe<{ t: string | null }[]>(`SELECT to_regclass('${name}')::text AS t`))[0]!.t !== null;

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
    const { db } = await openFresh();
    const before = Date.now();
    expect(ALL[0]).toBe(INIT);
    expect(await db.migrate()).toEqual(ALL);
    expect(await db.migrate()).toEqual([]);
    const rows = await history(db);
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
      expect(await tableExists(db, table)).toBe(true);
    }
  });

  it('matches the Prisma schema: every model reads and writes through the generated client', async () => {
    const { db } = await openFresh({ migrate: true });
    const p = await db.prisma.product.create({
      data: { externalId: 'x1', title: 'Lamp', price: '12.50', currency: 'EUR', attributes: { a: 1 } },
    });
    expect(p.source).toBe('manual');
    expect(p.price?.toString()).toBe('12.5');
    await expect(db.prisma.product.create({ data: { externalId: 'x1', title: 'dup' } })).rejects.toThrow();
    const img = await db.prisma.productImage.create({
      data: { productId: p.id, sha256: 'f'.repeat(64), phash: 'a'.repeat(16), width: 10, height: 20, mediaPath: 'a/b.jpg' },
    });
    await db.ensureVectorModel({ key: 'm', dim: 2, metric: 'l2' });
    await db.upsertEmbedding(img.id, { key: 'm', dim: 2, metric: 'l2' }, new Float32Array([1, 2]), new Float32Array([3]));
    const emb = await db.prisma.imageEmbedding.findFirstOrThrow({ where: { imageId: img.id } });
    expect(Array.from(new Float32Array(new Uint8Array(emb.features).buffer))).toEqual([3]);
    const s = await db.prisma.search.create({
      data: {
        expiresAt: new Date(Date.now() + 3600_000),
        modelKey: 'm',
        queryEmbedding: new Uint8Array([1, 2, 3, 4]),
        queryFeatures: new Uint8Array([5, 6, 7, 8]),
        params: { topK: 5 },
        results: [{ productId: p.id, imageId: img.id, distance: 0.5 }],
      },
    });
    const back = await db.prisma.search.findUniqueOrThrow({ where: { id: s.id } });
    expect(Array.from(back.queryFeatures)).toEqual([5, 6, 7, 8]);
    expect(back.reranked).toBeNull();
    const withImages = await db.prisma.product.findUniqueOrThrow({ where: { id: p.id }, include: { images: { include: { embeddings: true } } } });
    expect(withImages.images[0]!.embeddings).toHaveLength(1);
  });

  it('refuses a migration edited after it was applied, and an unfinished one', async () => {
    const dir = await migrationsCopy({ '20990101000000_extra': 'CREATE TABLE extra_t (x int);\n' });
    cleanups.push(() => rm(dir, { recursive: true, force: true }));
    const { db } = await openFresh({ migrationsDir: dir });
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
    await db.prisma.$executeRawUnsafe(
      `INSERT INTO "_prisma_migrations" (id, checksum, migration_name) VALUES ('${crypto.randomUUID()}', 'x', '20990102000000_half')`,
    );
    await expect(db.migrate()).rejects.toThrow(/20990102000000_half is recorded as started but not finished/);
  });

  it('rolls a failing migration back whole and applies it once fixed', async () => {
    const broken = 'CREATE TABLE broken_t (x int);\nINSERT INTO broken_t VALUES (1);\nSELECT * FROM no_such_table;\n';
    const dir = await migrationsCopy({ '20990101000000_broken': broken, '20990102000000_after': 'CREATE TABLE after_t (x int);\n' });
    cleanups.push(() => rm(dir, { recursive: true, force: true }));
    const { db } = await openFresh({ migrationsDir: dir });
    await expect(db.migrate()).rejects.toThrow(/20990101000000_broken failed and was rolled back.*no_such_table/s);
    expect((await history(db)).map((r) => r.migration_name)).toEqual(ALL);
    expect(await tableExists(db, 'broken_t')).toBe(false);
    expect(await tableExists(db, 'after_t')).toBe(false);
    await writeFile(path.join(dir, '20990101000000_broken', 'migration.sql'), 'CREATE TABLE broken_t (x int);\n');
    expect(await db.migrate()).toEqual(['20990101000000_broken', '20990102000000_after']);
    expect((await history(db)).every((r) => r.finished_at && r.applied_steps_count === 1)).toBe(true);
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
    expect((await history(t.db)).map((r) => r.migration_name)).toEqual(ALL);
  });
});
