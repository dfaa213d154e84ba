// Nearest-neighbour search: the statement (the model's index expression and partial-index
// predicate, the product filter), the LOCAL settings it runs under, and de-duplication to one
// hit per product.
import { Prisma } from '../../generated/prisma/client.js';
import { vectorToSql } from './floats.js';
import type { PlannerStats } from './planner-stats.js';
import { productFilterSql } from './product-filter.js';
import type { Scope } from './scope.js';
import type { SearchSettings } from './server-info.js';
import type { NearestHit, NearestQuery } from './types.js';
import { METRICS, storedType, validateModel, type VectorStorage } from './vector-models.js';

/** Rows fetched per product wanted, before de-duplicating products with several images. */
const OVERFETCH = 4;
const MIN_FETCH = 40;
const MAX_FETCH = 10_000;
const MAX_EF_SEARCH = 1000;
const TX_OPTIONS = { maxWait: 10_000, timeout: 60_000 };

function conditions(q: NearestQuery): Prisma.Sql[] {
  const conds = productFilterSql(q.filter);
  if (q.excludeProductId) conds.push(Prisma.sql`i.product_id <> ${q.excludeProductId}::uuid`);
  return conds;
}

/** The search statement: the index expression, the model's partial-index predicate, the filters. */
export function nearestSql(q: NearestQuery, limit: number, storage: VectorStorage): Prisma.Sql {
  validateModel(q.model, storage);
  const type = Prisma.raw(storedType(storage, q.model.dim));
  const op = Prisma.raw(METRICS[q.model.metric].operator);
  const vec = vectorToSql(q.vector, q.model.dim);
  const where = [Prisma.sql`e.model_key = ${q.model.key}`, ...conditions(q)];
  return Prisma.sql`
    SELECT e.image_id::text AS "imageId", i.product_id::text AS "productId",
           e.embedding::${type} ${op} ${vec}::${type} AS distance
    FROM image_embeddings e
    JOIN product_images i ON i.id = e.image_id
    JOIN products p ON p.id = i.product_id
    WHERE ${Prisma.join(where, ' AND ')}
    ORDER BY distance
    LIMIT ${limit}`;
}

/**
 * The settings of a plain search (no filter, up to HNSW_EF_SEARCH rows), made every connection's
 * own at the start (src/db/client.ts): such a search runs as one statement, without a transaction
 * around it to make them LOCAL. (Near-duplicate lookups at ingest run under them too.)
 */
export function searchSessionSettings(efSearch: number): Record<string, string> {
  return { 'hnsw.ef_search': String(Math.min(MAX_EF_SEARCH, Math.max(1, efSearch))), 'hnsw.iterative_scan': 'relaxed_order' };
}

function settingsFor(q: NearestQuery, fetch: number, s: SearchSettings): [string, string][] {
  const set: [string, string][] = [];
  if (q.exact) {
    // No index scans at all: a sequential scan and a sort, the exact answer.
    set.push(['enable_indexscan', 'off']);
  } else {
    const filtered = conditions(q).length > 0;
    // Without iterative scans an HNSW scan yields at most ef_search rows before the filters.
    const ef = s.iterativeScan || !filtered ? Math.max(s.efSearch, fetch) : MAX_EF_SEARCH;
    set.push(['hnsw.ef_search', String(Math.min(MAX_EF_SEARCH, Math.max(1, ef)))]);
    if (s.iterativeScan) set.push(['hnsw.iterative_scan', 'relaxed_order']);
  }
  set.push(...Object.entries(s.extraSettings ?? {}));
  return set;
}

async function applySettings(tx: Prisma.TransactionClient, set: [string, string][]) {
  // One round trip for all of them.
  await tx.$executeRaw`SELECT ${Prisma.join(set.map(([name, value]) => Prisma.sql`set_config(${name}, ${value}, true)`))}`;
}

/** Each product's best image, nearest first, at most k; `complete` unless a wider fetch may find more products. */
function bestPerProduct(rows: NearestHit[], k: number, fetch: number): { hits: NearestHit[]; complete: boolean } {
  // relaxed_order may return slightly out of order: sort, then keep each product's best image.
  rows.sort((a, b) => a.distance - b.distance || (a.imageId < b.imageId ? -1 : 1));
  const seen = new Set<string>();
  const hits: NearestHit[] = [];
  for (const r of rows) {
    if (seen.has(r.productId)) continue;
    seen.add(r.productId);
    hits.push({ productId: r.productId, imageId: r.imageId, distance: Number(r.distance) });
    if (hits.length === k) break;
  }
  // Fewer products than asked although the LIMIT was reached: many images per product; widen.
  return { hits, complete: hits.length === k || rows.length < fetch || fetch >= MAX_FETCH };
}

const firstFetch = (k: number) => Math.min(MAX_FETCH, Math.max(MIN_FETCH, k * OVERFETCH));

export interface VectorSearch {
  /**
   * Top-k products by distance, one entry per product (its best image), filters applied in the
   * scan. `tuning` overrides the server's settings (tests, diagnostics).
   */
  nearest(query: NearestQuery, tuning?: Partial<SearchSettings>): Promise<NearestHit[]>;
  /** EXPLAIN (COSTS OFF) of the statement nearest() runs for this query, under the same settings. */
  explain(query: NearestQuery, tuning?: Partial<SearchSettings>): Promise<string>;
}

export function vectorSearch(
  scope: Scope,
  storage: VectorStorage,
  stats: PlannerStats,
  settings: () => Promise<SearchSettings>,
  sessionSettings: Record<string, string> = {},
): VectorSearch {
  const prepared = async (tuning: Partial<SearchSettings> | undefined) => {
    const s = { ...(await settings()), ...tuning };
    await stats.fresh();
    return s;
  };
  return {
    async nearest(q, tuning) {
      if (!Number.isInteger(q.k) || q.k < 1) throw new RangeError(`k must be a positive integer, got ${q.k}`);
      if (q.k > MAX_FETCH) throw new RangeError(`k must be at most ${MAX_FETCH}`);
      const s = await prepared(tuning);
      let fetch = firstFetch(q.k);
      const first = settingsFor(q, fetch, s);
      if (first.every(([name, value]) => sessionSettings[name] === value)) {
        // The connection's own settings are this search's: one statement, no transaction.
        const { hits, complete } = bestPerProduct(await scope.sql<NearestHit>(nearestSql(q, fetch, storage)), q.k, fetch);
        if (complete) return hits;
        fetch = Math.min(MAX_FETCH, fetch * OVERFETCH);
      }
      return scope.atomic(async (tx) => {
        await applySettings(tx, first);
        for (;;) {
          const { hits, complete } = bestPerProduct(await tx.$queryRaw<NearestHit[]>(nearestSql(q, fetch, storage)), q.k, fetch);
          if (complete) return hits;
          fetch = Math.min(MAX_FETCH, fetch * OVERFETCH);
        }
      }, TX_OPTIONS);
    },

    async explain(q, tuning) {
      const s = await prepared(tuning);
      const fetch = firstFetch(q.k);
      return scope.atomic(async (tx) => {
        await applySettings(tx, settingsFor(q, fetch, s));
        const rows = await tx.$queryRaw<Record<string, string>[]>(Prisma.sql`EXPLAIN (COSTS OFF) ${nearestSql(q, fetch, storage)}`);
        return rows.map((r) => Object.values(r)[0]).join('\n');
      }, TX_OPTIONS);
    },
  };
}
