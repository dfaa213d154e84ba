// Ingest runs in the database: progress (pages and items done) that a restarted ingest resumes
// from, the items each run finished with their image decisions, and the failures it recorded.
import { randomUUID } from 'node:crypto';
import { Prisma } from '../../generated/prisma/client.js';
import type { DriverStatement, Scope } from './scope.js';

export type RunStatus = 'running' | 'completed' | 'failed' | 'interrupted';

export interface IngestRunRow {
  id: string;
  fingerprint: string;
  kind: string;
  source: string;
  spec: unknown;
  status: RunStatus;
  pagesDone: number;
  itemsDone: number;
  itemsTotal: number | null;
  counts: Record<string, number>;
  error: string | null;
  owner: string | null;
  heartbeatAt: Date | null;
  startedAt: Date;
  updatedAt: Date;
  finishedAt: Date | null;
}

export interface ItemRecord {
  key: string;
  outcome: 'created' | 'updated' | 'unchanged' | 'failed';
  productId: string | null;
  images: unknown[];
}

export interface FailureRecord {
  itemKey: string | null;
  image: string | null;
  code: string;
  reason: string;
}

export interface FailureGroup {
  code: string;
  count: number;
  examples: { itemKey: string | null; image: string | null; reason: string }[];
}

export interface NearDuplicateGroup {
  /** The kept image and its product's external id. */
  imageId: string;
  externalId: string | null;
  /** External ids of the items whose images were found to duplicate it. */
  members: string[];
}

export interface IngestRunRepository {
  /** A new running run; null when a running run of the same fingerprint exists (one at a time). */
  create(run: { fingerprint: string; kind: string; source: string; spec: object; owner: string }): Promise<IngestRunRow | null>;
  /** The newest run of these arguments that did not complete: the one to resume. */
  open(fingerprint: string): Promise<IngestRunRow | null>;
  /**
   * Takes a run over, but only if nobody else did since `seen` was read (compare-and-set on the
   * owner and heartbeat): two processes resuming the same run at once cannot both win.
   */
  claim(seen: IngestRunRow, owner: string): Promise<boolean>;
  heartbeat(runId: string, owner: string): Promise<void>;
  get(runId: string): Promise<IngestRunRow | null>;
  /** The newest runs first. */
  list(limit: number): Promise<IngestRunRow[]>;
  /** The items a run finished, with their outcome. */
  items(runId: string): Promise<{ key: string; outcome: ItemRecord['outcome'] }[]>;
  setItemsTotal(runId: string, itemsTotal: number | null): Promise<void>;
  /**
   * Records finished items, their failures and the count increments; inside a unit of work, so
   * that progress and the products it reports commit together.
   */
  recordItems(runId: string, page: number, items: ItemRecord[], failures: FailureRecord[], increments: Record<string, number>): Promise<void>;
  setPagesDone(runId: string, pagesDone: number): Promise<void>;
  setCounts(runId: string, counts: Record<string, number>): Promise<void>;
  finish(runId: string, status: Exclude<RunStatus, 'running'>, error?: string): Promise<void>;
  /** Failures of a run grouped by code: how many, and a few examples. */
  failureSummary(runId: string, examples?: number): Promise<FailureGroup[]>;
  /** A run's failures, oldest first. */
  failures(runId: string, limit: number): Promise<(FailureRecord & { page: number | null; createdAt: Date })[]>;
  /** Near-duplicate groups found by a run (from its items' image decisions), largest first. */
  nearDuplicateGroups(runId: string, limit: number): Promise<{ total: number; groups: NearDuplicateGroup[] }>;
  /** Products of a source that a completed run did not see: what --prune deletes. */
  unseenProductIds(runId: string, source: string): Promise<string[]>;
}

const asRun = (row: { status: string; counts: unknown }) => row as unknown as IngestRunRow;

/** A batch's items and failures, and the run's counts and progress, in the caller's transaction. */
export async function recordIngestItems(
  sql: DriverStatement,
  runId: string,
  page: number,
  items: ItemRecord[],
  failures: FailureRecord[],
  increments: Record<string, number>,
): Promise<void> {
  if (items.length) {
    await sql(Prisma.sql`
      INSERT INTO ingest_items (run_id, item_key, page, outcome, product_id, images)
      SELECT ${runId}::uuid, key, ${page}::int, outcome, "productId", images
      FROM jsonb_to_recordset(${JSON.stringify(items)}::jsonb) AS r(key text, outcome text, "productId" uuid, images jsonb)
      ON CONFLICT DO NOTHING`);
  }
  if (failures.length) {
    await sql(Prisma.sql`
      INSERT INTO ingest_failures (id, run_id, item_key, page, image, code, reason)
      SELECT id, ${runId}::uuid, "itemKey", ${page}::int, image, code, reason
      FROM jsonb_to_recordset(${JSON.stringify(failures.map((f) => ({ ...f, id: randomUUID() })))}::jsonb)
        AS r(id uuid, "itemKey" text, image text, code text, reason text)`);
  }
  // The run belongs to one ingest at a time (its lease), so reading its counts and writing them
  // back in one transaction loses no increment.
  const [run] = await sql<{ counts: Record<string, number> }>(Prisma.sql`SELECT counts FROM ingest_runs WHERE id = ${runId}::uuid`);
  if (!run) throw new Error(`ingest run ${runId} not found`);
  const counts = { ...run.counts };
  for (const [k, v] of Object.entries(increments)) counts[k] = (counts[k] ?? 0) + v;
  // The service's clock, as every other heartbeat of a run (src/ingest/run-lease.ts compares them).
  const now = new Date().toISOString();
  await sql(Prisma.sql`
    UPDATE ingest_runs SET counts = ${JSON.stringify(counts)}::jsonb, items_done = items_done + ${items.length}::int,
           heartbeat_at = ${now}::timestamptz, updated_at = ${now}::timestamptz
    WHERE id = ${runId}::uuid`);
}

export function ingestRunRepository(scope: Scope): IngestRunRepository {
  const { q } = scope;
  return {
    async create(run) {
      try {
        return asRun(await q.ingestRun.create({ data: { ...run, status: 'running', heartbeatAt: new Date() } }));
      } catch (error) {
        // The partial unique index on running runs: someone started the same ingest just now.
        if ((error as { code?: string }).code === 'P2002') return null;
        throw error;
      }
    },

    async open(fingerprint) {
      const row = await q.ingestRun.findFirst({ where: { fingerprint, status: { not: 'completed' } }, orderBy: { startedAt: 'desc' } });
      return row && asRun(row);
    },

    async claim(seen, owner) {
      const { count } = await q.ingestRun.updateMany({
        where: { id: seen.id, owner: seen.owner, heartbeatAt: seen.heartbeatAt },
        data: { owner, heartbeatAt: new Date(), status: 'running', error: null, finishedAt: null },
      });
      return count === 1;
    },

    async heartbeat(runId, owner) {
      await q.ingestRun.updateMany({ where: { id: runId, owner }, data: { heartbeatAt: new Date() } });
    },

    async get(runId) {
      const row = await q.ingestRun.findUnique({ where: { id: runId } });
      return row && asRun(row);
    },

    async list(limit) {
      return (await q.ingestRun.findMany({ orderBy: { startedAt: 'desc' }, take: limit })).map(asRun);
    },

    async items(runId) {
      const rows = await q.ingestItem.findMany({ where: { runId }, select: { itemKey: true, outcome: true } });
      return rows.map((r) => ({ key: r.itemKey, outcome: r.outcome as ItemRecord['outcome'] }));
    },

    async setItemsTotal(runId, itemsTotal) {
      await q.ingestRun.update({ where: { id: runId }, data: { itemsTotal } });
    },

    recordItems: (runId, page, items, failures, increments) =>
      scope.atomicSql((sql) => recordIngestItems(sql, runId, page, items, failures, increments)),

    async setPagesDone(runId, pagesDone) {
      await q.ingestRun.update({ where: { id: runId }, data: { pagesDone, heartbeatAt: new Date() } });
    },

    async setCounts(runId, counts) {
      await q.ingestRun.update({ where: { id: runId }, data: { counts } });
    },

    async finish(runId, status, error) {
      await q.ingestRun.update({
        where: { id: runId },
        data: { status, error: error ?? null, finishedAt: status === 'completed' ? new Date() : null },
      });
    },

    async failureSummary(runId, examples = 3) {
      const groups = await q.ingestFailure.groupBy({ by: ['code'], where: { runId }, _count: { _all: true }, orderBy: { code: 'asc' } });
      return Promise.all(
        groups.map(async (g) => ({
          code: g.code,
          count: g._count._all,
          examples: await q.ingestFailure.findMany({
            where: { runId, code: g.code },
            orderBy: { createdAt: 'asc' },
            take: examples,
            select: { itemKey: true, image: true, reason: true },
          }),
        })),
      );
    },

    failures: (runId, limit) =>
      q.ingestFailure.findMany({
        where: { runId },
        orderBy: { createdAt: 'asc' },
        take: limit,
        select: { itemKey: true, image: true, code: true, reason: true, page: true, createdAt: true },
      }),

    async nearDuplicateGroups(runId, limit) {
      const rows = await q.$queryRaw<{ imageId: string; externalId: string | null; members: string[]; total: number }[]>`
        WITH d AS (
          SELECT e->>'ofImageId' AS image_id, i.item_key
          FROM ingest_items i CROSS JOIN LATERAL jsonb_array_elements(i.images) e
          WHERE i.run_id = ${runId}::uuid AND e->>'decision' = 'near_duplicate'
        ), g AS (
          SELECT image_id, array_agg(DISTINCT item_key ORDER BY item_key) AS members FROM d GROUP BY image_id
        )
        SELECT g.image_id AS "imageId", p.external_id AS "externalId", g.members, (count(*) OVER ())::int AS total
        FROM g LEFT JOIN product_images pi ON pi.id::text = g.image_id LEFT JOIN products p ON p.id = pi.product_id
        ORDER BY cardinality(g.members) DESC, g.image_id
        LIMIT ${limit}`;
      return { total: rows[0]?.total ?? 0, groups: rows.map(({ total: _total, ...g }) => g) };
    },

    async unseenProductIds(runId, source) {
      const rows = await q.$queryRaw<{ id: string }[]>`
        SELECT p.id::text AS id FROM products p
        WHERE p.source = ${source}
          AND NOT EXISTS (SELECT 1 FROM ingest_items i WHERE i.run_id = ${runId}::uuid AND i.item_key = p.external_id)`;
      return rows.map((r) => r.id);
    },
  };
}
