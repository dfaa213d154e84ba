import type { Logger } from 'pino';
import type { Database, IngestRunRow } from '../db/index.js';
import type { MediaStore } from '../storage/media-store.js';

/** Deletes the source's products that a completed run did not see, and their media; returns how many. */
export async function pruneUnseen(db: Database, media: MediaStore, run: IngestRunRow, logger: Logger): Promise<number> {
  const ids = await db.ingestRuns.unseenProductIds(run.id, run.source);
  if (ids.length === 0) return 0;
  const { productIds, mediaPaths } = await db.catalog.deleteProducts(ids);
  await Promise.all(mediaPaths.map((p) => media.remove(p)));
  logger.info({ runId: run.id, pruned: productIds.length }, 'pruned products the source no longer lists');
  return productIds.length;
}
