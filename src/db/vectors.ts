// Every vector statement: model registration with its partial HNSW index, nearest-neighbour
// search with filters, embedding upserts and reads. The embedding column is an untyped `vector`;
// each model's rows are indexed and searched through the same expression,
// (embedding::vector(DIM)) restricted to model_key = '<key>', so the planner matches the index.
import { createHash } from 'node:crypto';
import type pino from 'pino';
import { Prisma, type PrismaClient } from '../../generated/prisma/client.js';
import { base64ToFloat32, float32ToBytes, vectorFromSql, vectorToSql } from './floats.js';
import type { NearestHit, NearestQuery, ProductFilter, VectorModel } from './types.js';

/** A Prisma client or an interactive transaction of one. */
export type Queryable = PrismaClient | Prisma.TransactionClient;

export const METRICS = {
  l2: { operator: '<->', opclass: 'vector_l2_ops' },
  cosine: { operator: '<=>', opclass: 'vector_cosine_ops' },
  ip: { operator: '<#>', opclass: 'vector_ip_ops' },
} as const;

/** HNSW build parameters of every model index. */
export const HNSW_M = 16;
export const HNSW_EF_CONSTRUCTION = 64;
/** pgvector's HNSW limit for `vector`. */
export const MAX_INDEXED_DIM = 2000;
/** Rows fetched per product wanted, before de-duplicating products with several images. */
const OVERFETCH = 4;
const MIN_FETCH = 40;
const MAX_FETCH = 10_000;
const MAX_EF_SEARCH = 1000;
/** pg_advisory_xact_lock key serialising model registration (and its CREATE INDEX). */
const VECTOR_MODEL_LOCK_KEY = 1986065201;

// Keys reach the index predicate as an escaped literal; no control characters or backslashes.
// eslint-disable-next-line no-control-regex -- rejecting control characters is the point
const KEY_PATTERN = /^[^\x00-\x1f\x7f\\]{1,200}$/;

export class VectorModelError extends Error {}

export function validateModel(model: VectorModel): void {
  if (!KEY_PATTERN.test(model.key)) {
    throw new VectorModelError(
      `vector model key ${JSON.stringify(model.key)} must be 1-200 characters, without control characters or backslashes`,
    );
  }
  if (!Number.isInteger(model.dim) || model.dim < 1 || model.dim > MAX_INDEXED_DIM) {
    throw new VectorModelError(`vector model ${model.key}: dim must be an integer in 1..${MAX_INDEXED_DIM}, got ${model.dim}`);
  }
  if (!(model.metric in METRICS)) {
    throw new VectorModelError(`vector model ${model.key}: metric must be l2, cosine or ip, got ${String(model.metric)}`);
  }
}

/** A stable, safe identifier for a model's index (keys may hold characters SQL names can't). */
export function indexName(key: string): string {
  return `image_embeddings_hnsw_${createHash('sha256').update(key).digest('hex').slice(0, 16)}`;
}

const sqlLiteral = (s: string) => `'${s.replace(/'/g, "''")}'`;

function indexDdl(model: VectorModel): string {
  const { opclass } = METRICS[model.metric];
  return (
    `CREATE INDEX IF NOT EXISTS ${indexName(model.key)} ON image_embeddings ` +
    `USING hnsw ((embedding::vector(${model.dim})) ${opclass}) ` +
    `WITH (m = ${HNSW_M}, ef_construction = ${HNSW_EF_CONSTRUCTION}) ` +
    `WHERE model_key = ${sqlLiteral(model.key)}`
  );
}

export async function ensureVectorModel(prisma: PrismaClient, model: VectorModel, logger: pino.Logger): Promise<void> {
  validateModel(model);
  const check = async (q: Queryable) => {
    const [row] = await q.$queryRaw<{ dim: number; metric: string; indexed: boolean }[]>`
      SELECT dim, metric, to_regclass(${indexName(model.key)}) IS NOT NULL AS indexed
      FROM vector_models WHERE key = ${model.key}`;
    if (row && (row.dim !== model.dim || row.metric !== model.metric)) {
      throw new VectorModelError(
        `vector model ${model.key} is registered with dim ${row.dim} and metric ${row.metric}, ` +
          `not dim ${model.dim} and metric ${model.metric}: give a changed model a new key`,
      );
    }
    return row;
  };
  if ((await check(prisma))?.indexed) return;

  const started = Date.now();
  await prisma.$transaction(
    async (tx) => {
      await tx.$executeRaw`SELECT pg_advisory_xact_lock(${VECTOR_MODEL_LOCK_KEY}::bigint)`;
      const row = await check(tx);
      if (!row) {
        await tx.$executeRaw`
          INSERT INTO vector_models (key, name, version, dim, metric)
          VALUES (${model.key}, ${model.name ?? model.key}, ${model.version ?? ''}, ${model.dim}, ${model.metric})
          ON CONFLICT (key) DO NOTHING`;
      }
      await tx.$executeRawUnsafe(indexDdl(model));
    },
    // Building the index over existing rows can take a while; the lock makes others wait.
    { maxWait: 60_000, timeout: 30 * 60_000 },
  );
  logger.info({ model: model.key, dim: model.dim, metric: model.metric, index: indexName(model.key), ms: Date.now() - started }, 'vector model registered');
}

export interface EmbeddingInput {
  imageId: string;
  vector: Float32Array;
  features: Float32Array;
}

const UPSERT_CHUNK = 500;

export async function upsertEmbeddings(q: Queryable, model: VectorModel, items: EmbeddingInput[]): Promise<void> {
  validateModel(model);
  // One statement can't update a row twice: the last item for an image wins.
  const unique = [...new Map(items.map((it) => [it.imageId, it])).values()];
  for (let i = 0; i < unique.length; i += UPSERT_CHUNK) {
    const rows = unique.slice(i, i + UPSERT_CHUNK).map(
      (it) =>
        Prisma.sql`(${it.imageId}::uuid, ${model.key}, ${vectorToSql(it.vector, model.dim)}::vector, ${float32ToBytes(it.features)})`,
    );
    await q.$executeRaw`
      INSERT INTO image_embeddings (image_id, model_key, embedding, features)
      VALUES ${Prisma.join(rows)}
      ON CONFLICT (image_id, model_key) DO UPDATE
        SET embedding = EXCLUDED.embedding, features = EXCLUDED.features, created_at = CURRENT_TIMESTAMP`;
  }
}

export async function getEmbeddings(
  q: Queryable,
  imageIds: string[],
  model: VectorModel,
): Promise<Map<string, { vector: Float32Array; features: Float32Array }>> {
  const out = new Map<string, { vector: Float32Array; features: Float32Array }>();
  if (imageIds.length === 0) return out;
  const rows = await q.$queryRaw<{ imageId: string; embedding: string; features: string }[]>`
    SELECT image_id::text AS "imageId", embedding::text AS embedding, encode(features, 'base64') AS features
    FROM image_embeddings
    WHERE model_key = ${model.key} AND image_id = ANY(${[...new Set(imageIds)]}::uuid[])`;
  for (const r of rows) {
    out.set(r.imageId, { vector: vectorFromSql(r.embedding), features: base64ToFloat32(r.features) });
  }
  return out;
}

export interface SearchSettings {
  efSearch: number;
  /** pgvector >= 0.8: hnsw.iterative_scan keeps the index scan going until LIMIT rows pass the filters. */
  iterativeScan: boolean;
  /** More settings made LOCAL to the search transaction, applied last (diagnostics, tests). */
  extraSettings?: Record<string, string>;
}

function filterConditions(f: ProductFilter | undefined, excludeProductId: string | undefined): Prisma.Sql[] {
  const conds: Prisma.Sql[] = [];
  for (const bound of [f?.minPrice, f?.maxPrice]) {
    if (bound !== undefined && !Number.isFinite(bound)) throw new RangeError(`price bounds must be finite numbers, got ${bound}`);
  }
  if (f?.category?.length) conds.push(Prisma.sql`p.category = ANY(${f.category}::text[])`);
  if (f?.colour?.length) conds.push(Prisma.sql`p.colour = ANY(${f.colour}::text[])`);
  if (f?.brand?.length) conds.push(Prisma.sql`p.brand = ANY(${f.brand}::text[])`);
  if (f?.minPrice !== undefined) conds.push(Prisma.sql`p.price >= ${String(f.minPrice)}::numeric`);
  if (f?.maxPrice !== undefined) conds.push(Prisma.sql`p.price <= ${String(f.maxPrice)}::numeric`);
  const keyword = f?.keyword?.trim();
  if (keyword) conds.push(Prisma.sql`p.title ILIKE ${'%' + keyword.replace(/[\\%_]/g, (c) => '\\' + c) + '%'}`);
  if (excludeProductId) conds.push(Prisma.sql`i.product_id <> ${excludeProductId}::uuid`);
  return conds;
}

/** The search statement: the index expression, the model's partial-index predicate, the filters. */
export function nearestSql(q: NearestQuery, limit: number): Prisma.Sql {
  validateModel(q.model);
  const dim = Prisma.raw(String(q.model.dim));
  const op = Prisma.raw(METRICS[q.model.metric].operator);
  const vec = vectorToSql(q.vector, q.model.dim);
  const where = [Prisma.sql`e.model_key = ${q.model.key}`, ...filterConditions(q.filter, q.excludeProductId)];
  return Prisma.sql`
    SELECT e.image_id::text AS "imageId", i.product_id::text AS "productId",
           e.embedding::vector(${dim}) ${op} ${vec}::vector(${dim}) AS distance
    FROM image_embeddings e
    JOIN product_images i ON i.id = e.image_id
    JOIN products p ON p.id = i.product_id
    WHERE ${Prisma.join(where, ' AND ')}
    ORDER BY distance
    LIMIT ${limit}`;
}

async function applySettings(tx: Prisma.TransactionClient, q: NearestQuery, fetch: number, s: SearchSettings) {
  const set: [string, string][] = [];
  if (q.exact) {
    // No index scans at all: a sequential scan and a sort, the exact answer.
    set.push(['enable_indexscan', 'off']);
  } else {
    const filtered = filterConditions(q.filter, q.excludeProductId).length > 0;
    // Without iterative scans an HNSW scan yields at most ef_search rows before the filters.
    const ef = s.iterativeScan || !filtered ? Math.max(s.efSearch, fetch) : MAX_EF_SEARCH;
    set.push(['hnsw.ef_search', String(Math.min(MAX_EF_SEARCH, Math.max(1, ef)))]);
    if (s.iterativeScan) set.push(['hnsw.iterative_scan', 'relaxed_order']);
  }
  set.push(...Object.entries(s.extraSettings ?? {}));
  // One round trip for all of them.
  await tx.$executeRaw`SELECT ${Prisma.join(set.map(([name, value]) => Prisma.sql`set_config(${name}, ${value}, true)`))}`;
}

const TX_OPTIONS = { maxWait: 10_000, timeout: 60_000 };

export async function nearestProducts(prisma: PrismaClient, q: NearestQuery, s: SearchSettings): Promise<NearestHit[]> {
  if (!Number.isInteger(q.k) || q.k < 1) throw new RangeError(`k must be a positive integer, got ${q.k}`);
  if (q.k > MAX_FETCH) throw new RangeError(`k must be at most ${MAX_FETCH}`);
  let fetch = Math.min(MAX_FETCH, Math.max(MIN_FETCH, q.k * OVERFETCH));
  return prisma.$transaction(async (tx) => {
    await applySettings(tx, q, fetch, s);
    for (;;) {
      const rows = await tx.$queryRaw<NearestHit[]>(nearestSql(q, fetch));
      // relaxed_order may return slightly out of order: sort, then keep each product's best image.
      rows.sort((a, b) => a.distance - b.distance || (a.imageId < b.imageId ? -1 : 1));
      const seen = new Set<string>();
      const hits: NearestHit[] = [];
      for (const r of rows) {
        if (seen.has(r.productId)) continue;
        seen.add(r.productId);
        hits.push({ productId: r.productId, imageId: r.imageId, distance: Number(r.distance) });
        if (hits.length === q.k) break;
      }
      // Fewer products than asked although the LIMIT was reached: many images per product; widen.
      if (hits.length === q.k || rows.length < fetch || fetch >= MAX_FETCH) return hits;
      fetch = Math.min(MAX_FETCH, fetch * OVERFETCH);
    }
  }, TX_OPTIONS);
}

/** EXPLAIN of the statement nearestProducts runs, under the same settings (tests, diagnostics). */
export async function explainNearest(prisma: PrismaClient, q: NearestQuery, s: SearchSettings): Promise<string> {
  const fetch = Math.min(MAX_FETCH, Math.max(MIN_FETCH, q.k * OVERFETCH));
  return prisma.$transaction(async (tx) => {
    await applySettings(tx, q, fetch, s);
    const rows = await tx.$queryRaw<Record<string, string>[]>(Prisma.sql`EXPLAIN (COSTS OFF) ${nearestSql(q, fetch)}`);
    return rows.map((r) => Object.values(r)[0]).join('\n');
  }, TX_OPTIONS);
}

export async function indexInfo(
  q: Queryable,
  model: VectorModel,
  efSearch: number,
): Promise<{ name: string; m: number; efConstruction: number; efSearch: number } | null> {
  const name = indexName(model.key);
  const [row] = await q.$queryRaw<{ reloptions: string[] | null }[]>`
    SELECT c.reloptions FROM pg_class c WHERE c.oid = to_regclass(${name})`;
  if (!row) return null;
  const opts = new Map((row.reloptions ?? []).map((o) => o.split('=') as [string, string]));
  return {
    name,
    m: Number(opts.get('m') ?? 16),
    efConstruction: Number(opts.get('ef_construction') ?? 64),
    efSearch,
  };
}

/** Fresh planner statistics for the searched tables (PGlite has no autovacuum to do it). */
export async function analyze(q: Queryable): Promise<void> {
  await q.$executeRawUnsafe('ANALYZE products, product_images, image_embeddings');
}

/** Searched tables changed by more than autovacuum's default threshold (50 rows + 10%) since their last ANALYZE. */
export async function staleTables(q: Queryable): Promise<string[]> {
  const rows = await q.$queryRaw<{ table: string; mods: number; live: number }[]>`
    SELECT relname AS table, n_mod_since_analyze::float8 AS mods, n_live_tup::float8 AS live
    FROM pg_stat_user_tables
    WHERE schemaname = current_schema() AND relname IN ('products', 'product_images', 'image_embeddings')`;
  return rows.filter((r) => r.mods > 50 + 0.1 * r.live).map((r) => r.table);
}

export interface ServerInfo {
  serverVersion: string;
  /** Installed pgvector version, null before the first migration. */
  vectorVersion: string | null;
  iterativeScan: boolean;
}

export async function serverInfo(q: Queryable): Promise<ServerInfo> {
  const [row] = await q.$queryRaw<{ server: string; vector: string | null }[]>`
    SELECT current_setting('server_version') AS server,
           (SELECT extversion FROM pg_extension WHERE extname = 'vector') AS vector`;
  const vectorVersion = row?.vector ?? null;
  return { serverVersion: row?.server ?? 'unknown', vectorVersion, iterativeScan: supportsIterativeScan(vectorVersion) };
}

export function supportsIterativeScan(version: string | null): boolean {
  if (!version) return false;
  const [major = 0, minor = 0] = version.split('.').map((n) => parseInt(n, 10));
  return major > 0 || minor >= 8;
}
