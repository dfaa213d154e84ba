// What a run counts and reports: the counters, their increments per committed batch, the final
// report and the job view that startIngest / ingestJob return.
import type { ImageDecision, ImportResult } from '../catalog/import-types.js';
import type { Database, IngestRunRow, ItemRecord, NearDuplicateGroup } from '../db/index.js';
import type { StageRate } from './stage-clock.js';

export const COUNTS = [
  'created',
  'updated',
  'unchanged',
  'failed',
  'newImages',
  'unchangedImages',
  'exactDuplicates',
  'nearDuplicates',
  'failedImages',
  'pruned',
] as const;

export type IngestCounts = Record<(typeof COUNTS)[number], number>;

/** The counters of images handled (for the images/s rate). */
export const IMAGE_COUNTS = ['newImages', 'unchangedImages', 'exactDuplicates', 'nearDuplicates', 'failedImages'] as const;

export interface IngestProgress {
  runId: string;
  source: string;
  resumed: boolean;
  pagesDone: number;
  itemsDone: number;
  itemsTotal: number | null;
  counts: IngestCounts;
}

export interface IngestReport extends IngestProgress {
  status: IngestRunRow['status'];
  error: string | null;
  failures: Awaited<ReturnType<Database['ingestRuns']['failureSummary']>>;
  nearDuplicateGroups: { total: number; groups: NearDuplicateGroup[] };
  /** Wall time of this process's part of the run, and the images it handled in that time. */
  elapsedMs: number;
  imagesHandled: number;
  /** Where this process's part of the run spent its time (stage-clock.ts). */
  stages: StageRate[];
}

export interface IngestJobView {
  id: string;
  kind: string;
  source: string;
  status: IngestRunRow['status'];
  pagesDone: number;
  itemsDone: number;
  itemsTotal: number | null;
  counts: IngestCounts;
  error: string | null;
  startedAt: Date;
  updatedAt: Date;
  finishedAt: Date | null;
  failures: { itemKey: string | null; image: string | null; code: string; reason: string }[];
}

const JOB_FAILURES_SHOWN = 100;
const NEAR_DUPLICATE_GROUPS_SHOWN = 10;

/** The count increments of a committed batch: item outcomes and image decisions. */
export function countsOf(items: ItemRecord[], results: ImportResult[]): Record<string, number> {
  const counts: Record<string, number> = {};
  const bump = (k: string, n = 1) => (counts[k] = (counts[k] ?? 0) + n);
  for (const item of items) bump(item.outcome);
  const byDecision: Record<ImageDecision['decision'], string> = {
    new: 'newImages',
    unchanged: 'unchangedImages',
    exact_duplicate: 'exactDuplicates',
    near_duplicate: 'nearDuplicates',
  };
  for (const result of results) for (const d of result.images) bump(byDecision[d.decision]);
  for (const item of items) bump('failedImages', (item.images as { decision: string }[]).filter((d) => d.decision === 'failed').length);
  return counts;
}

export function addCounts(into: Record<string, number>, add: Record<string, number>): void {
  for (const [k, v] of Object.entries(add)) into[k] = (into[k] ?? 0) + v;
}

export function withAllCounts(counts: Record<string, number>): IngestCounts {
  return Object.fromEntries(COUNTS.map((k) => [k, counts[k] ?? 0])) as IngestCounts;
}

export async function runReport(
  db: Database,
  progress: IngestProgress,
  elapsedMs: number,
  imagesHandled: number,
  stages: StageRate[],
): Promise<IngestReport> {
  const run = (await db.ingestRuns.get(progress.runId))!;
  return {
    ...progress,
    status: run.status,
    error: run.error,
    failures: await db.ingestRuns.failureSummary(run.id),
    nearDuplicateGroups: await db.ingestRuns.nearDuplicateGroups(run.id, NEAR_DUPLICATE_GROUPS_SHOWN),
    elapsedMs,
    imagesHandled,
    stages,
  };
}

export async function jobView(db: Database, runId: string): Promise<IngestJobView | null> {
  const run = await db.ingestRuns.get(runId);
  if (!run) return null;
  const failures = await db.ingestRuns.failures(run.id, JOB_FAILURES_SHOWN);
  return {
    ...run,
    counts: withAllCounts(run.counts),
    failures: failures.map((f) => ({ itemKey: f.itemKey, image: f.image, code: f.code, reason: f.reason })),
  };
}
