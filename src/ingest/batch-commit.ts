// Batch commit: a batch of prepared items through the importer's write path, with the run's
// progress recorded in the same unit of work. When the batch fails as a whole (one item's write
// breaks it), each item is retried alone, so only the bad one fails.
import type { EmbeddedAhead, ImportItem, ImportResult, NearDuplicatePolicy } from '../catalog/import-types.js';
import type { ProductImporter } from '../catalog/product-importer.js';
import type { FailureRecord, ItemRecord, UnitOfWork } from '../db/index.js';
import { ImageError } from '../images/index.js';
import type { Logger } from 'pino';
import type { PreparedItem } from './page-pipeline.js';
import { addCounts, countsOf } from './run-report.js';
import type { StageClock } from './stage-clock.js';

/** The items that can be written: a product and at least one image. */
const writableItems = (batch: PreparedItem[]) => batch.filter((item) => item.product && item.images.length > 0);
/** Items as the importer takes them. */
const importItems = (items: PreparedItem[]): ImportItem[] => items.map((item) => ({ product: item.product!, images: item.images }));

/** An item's failed images, as entries of its image decisions (item-level failures are not images). */
const failedImages = (failures: FailureRecord[]) =>
  failures.filter((f) => f.image !== null).map((f) => ({ ref: f.image, decision: 'failed', code: f.code, reason: f.reason }));

export class BatchCommit {
  constructor(
    private readonly importer: ProductImporter,
    private readonly runId: string,
    private readonly nearDuplicates: NearDuplicatePolicy,
    private readonly logger: Logger,
    private readonly clock: StageClock,
  ) {}

  /**
   * Embeds a batch's images ahead of its commit; a failure here (a bad image) leaves it to
   * commit, which names the item.
   */
  embedAhead(batch: PreparedItem[]): Promise<EmbeddedAhead | undefined> {
    return this.importer.embedAhead(importItems(writableItems(batch)), this.clock).catch(() => undefined);
  }

  /** Writes a batch of one page and records it as done; returns the count increments. */
  async commit(page: number, batch: PreparedItem[], embedded?: EmbeddedAhead): Promise<Record<string, number>> {
    const writable = writableItems(batch);
    const failedItems = batch.filter((item) => !writable.includes(item));
    let increments: Record<string, number> = {};
    const record = async (tx: UnitOfWork, results: ImportResult[]) => {
      const items: ItemRecord[] = [
        ...writable.map((item, i) => ({
          key: item.key,
          outcome: results[i]!.change,
          productId: results[i]!.productId,
          images: [...results[i]!.images, ...failedImages(item.failures)],
        })),
        ...failedItems.map((item) => ({ key: item.key, outcome: 'failed' as const, productId: null, images: failedImages(item.failures) })),
      ];
      increments = countsOf(items, results);
      await tx.ingestRuns.recordItems(this.runId, page, items, batch.flatMap((item) => item.failures), increments);
    };
    try {
      await this.importer.importBatch(importItems(writable), { nearDuplicates: this.nearDuplicates, runId: this.runId, alsoInTx: record, embedded, clock: this.clock });
      return increments;
    } catch (error) {
      if (batch.length > 1) {
        const total: Record<string, number> = {};
        for (const item of batch) addCounts(total, await this.commit(page, [item], embedded));
        return total;
      }
      const item = batch[0]!;
      // Recording a failed item wrote no product: what broke is the database itself.
      if (!item.product) throw error;
      if (!(error instanceof ImageError)) this.logger.warn({ err: error, item: item.key }, 'ingest: item could not be written');
      const code = error instanceof ImageError ? error.code : 'WRITE_FAILED';
      const failed = { ...item, product: null, failures: [...item.failures, { itemKey: item.key, image: null, code, reason: (error as Error).message }] };
      return this.commit(page, [failed]);
    }
  }
}
