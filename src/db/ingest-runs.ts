// Ingest runs in the database: progress (pages and items done) that a restarted ingest resumes
// from, the items each run finished with their image decisions, and the failures it recorded.
import type { PrismaClient } from '../../generated/prisma/client.js';
import type { Tx } from './product-writes.js';

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

const asRun = (row: { status: string; counts: unknown }) => row as unknown as IngestRunRow;

export async function createRun(
  prisma: PrismaClient,
  run: { fingerprint: string; kind: string; source: string; spec: object; owner: string },
): Promise<IngestRunRow> {
  return asRun(await prisma.ingestRun.create({ data: { ...run, status: 'running', heartbeatAt: new Date() } }));
}

/** The newest run of these arguments that did not complete: the one to resume. */
export async function openRun(prisma: PrismaClient, fingerprint: string): Promise<IngestRunRow | null> {
  const row = await prisma.ingestRun.findFirst({
    where: { fingerprint, status: { not: 'completed' } },
    orderBy: { startedAt: 'desc' },
  });
  return row && asRun(row);
}

/**
 * Takes a run over, but only if nobody else did since `seen` was read (compare-and-set on the
 * owner and heartbeat): two processes resuming the same run at once cannot both win.
 */
export async function claimRun(prisma: PrismaClient, seen: IngestRunRow, owner: string): Promise<boolean> {
  const { count } = await prisma.ingestRun.updateMany({
    where: { id: seen.id, owner: seen.owner, heartbeatAt: seen.heartbeatAt },
    data: { owner, heartbeatAt: new Date(), status: 'running', error: null, finishedAt: null },
  });
  return count === 1;
}

export async function heartbeat(prisma: PrismaClient, runId: string, owner: string): Promise<void> {
  await prisma.ingestRun.updateMany({ where: { id: runId, owner }, data: { heartbeatAt: new Date() } });
}

export async function getRun(prisma: PrismaClient, runId: string): Promise<IngestRunRow | null> {
  const row = await prisma.ingestRun.findUnique({ where: { id: runId } });
  return row && asRun(row);
}

export async function listRuns(prisma: PrismaClient, limit: number): Promise<IngestRunRow[]> {
  return (await prisma.ingestRun.findMany({ orderBy: { startedAt: 'desc' }, take: limit })).map(asRun);
}

export async function doneItemKeys(prisma: PrismaClient, runId: string): Promise<Set<string>> {
  const rows = await prisma.ingestItem.findMany({ where: { runId }, select: { itemKey: true } });
  return new Set(rows.map((r) => r.itemKey));
}

export async function setItemsTotal(prisma: PrismaClient, runId: string, itemsTotal: number | null): Promise<void> {
  await prisma.ingestRun.update({ where: { id: runId }, data: { itemsTotal } });
}

/**
 * Records finished items, their failures and the count increments in the caller's transaction,
 * so progress and the products it reports commit together.
 */
export async function recordItems(
  tx: Tx,
  runId: string,
  page: number,
  items: ItemRecord[],
  failures: FailureRecord[],
  increments: Record<string, number>,
): Promise<void> {
  if (items.length) {
    await tx.ingestItem.createMany({
      data: items.map((i) => ({ runId, itemKey: i.key, page, outcome: i.outcome, productId: i.productId, images: i.images as object[] })),
      skipDuplicates: true,
    });
  }
  if (failures.length) await tx.ingestFailure.createMany({ data: failures.map((f) => ({ ...f, runId, page })) });
  const run = await tx.ingestRun.findUniqueOrThrow({ where: { id: runId }, select: { counts: true } });
  const counts = { ...(run.counts as Record<string, number>) };
  for (const [k, v] of Object.entries(increments)) counts[k] = (counts[k] ?? 0) + v;
  await tx.ingestRun.update({
    where: { id: runId },
    data: { counts, itemsDone: { increment: items.length }, heartbeatAt: new Date() },
  });
}

export async function setPagesDone(prisma: PrismaClient, runId: string, pagesDone: number): Promise<void> {
  await prisma.ingestRun.update({ where: { id: runId }, data: { pagesDone, heartbeatAt: new Date() } });
}

export async function finishRun(prisma: PrismaClient, runId: string, status: Exclude<RunStatus, 'running'>, error?: string): Promise<void> {
  await prisma.ingestRun.update({
    where: { id: runId },
    data: { status, error: error ?? null, finishedAt: status === 'completed' ? new Date() : null },
  });
}

/** Failures of a run grouped by code: how many, and a few examples. */
export async function failureSummary(
  prisma: PrismaClient,
  runId: string,
  examples = 3,
): Promise<{ code: string; count: number; examples: { itemKey: string | null; image: string | null; reason: string }[] }[]> {
  const groups = await prisma.ingestFailure.groupBy({ by: ['code'], where: { runId }, _count: { _all: true }, orderBy: { code: 'asc' } });
  return Promise.all(
    groups.map(async (g) => ({
      code: g.code,
      count: g._count._all,
      examples: await prisma.ingestFailure.findMany({
        where: { runId, code: g.code },
        orderBy: { createdAt: 'asc' },
        take: examples,
        select: { itemKey: true, image: true, reason: true },
      }),
    })),
  );
}

export async function runFailures(prisma: PrismaClient, runId: string, limit: number) {
  return prisma.ingestFailure.findMany({ where: { runId }, orderBy: { createdAt: 'asc' }, take: limit });
}

export interface NearDuplicateGroup {
  /** The kept image and its product's external id. */
  imageId: string;
  externalId: string | null;
  /** External ids of the items whose images were found to duplicate it. */
  members: string[];
}

/** Near-duplicate groups found by a run (from its items' image decisions), largest first. */
export async function runNearDuplicateGroups(prisma: PrismaClient, runId: string, limit: number): Promise<{ total: number; groups: NearDuplicateGroup[] }> {
  const rows = await prisma.$queryRaw<{ imageId: string; externalId: string | null; members: string[]; total: number }[]>`
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
}

/** Products of a source that a completed run did not see: what --prune deletes. */
export async function unseenProductIds(prisma: PrismaClient, runId: string, source: string): Promise<string[]> {
  const rows = await prisma.$queryRaw<{ id: string }[]>`
    SELECT p.id::text AS id FROM products p
    WHERE p.source = ${source}
      AND NOT EXISTS (SELECT 1 FROM ingest_items i WHERE i.run_id = ${runId}::uuid AND i.item_key = p.external_id)`;
  return rows.map((r) => r.id);
}
