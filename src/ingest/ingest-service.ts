import type { Logger } from 'pino';
import { isUuid } from '../catalog/catalog-service.js';
import type { ProductImporter } from '../catalog/product-importer.js';
import type { Database, IngestRunRow } from '../db/index.js';
import { HttpClient } from '../fetch/http-client.js';
import type { MediaStore } from '../storage/media-store.js';
import { BatchCommit } from './batch-commit.js';
import { parseFieldMap } from './mapping.js';
import { PagePipeline, type PreparedItem, type PreparedPage } from './page-pipeline.js';
import { pruneUnseen } from './prune.js';
import { RunLease } from './run-lease.js';
import { StageClock } from './stage-clock.js';
import { addCounts, IMAGE_COUNTS, jobView, runReport, withAllCounts, type IngestJobView, type IngestProgress, type IngestReport } from './run-report.js';
import { withOverrides, type IngestSettings } from './settings.js';
import { apiSource } from './sources/api.js';
import { folderSource, manifestSource } from './sources/local.js';
import type { Source } from './sources/types.js';
import { parseIngestSpec, sourceName, type IngestSpec, type IngestSpecInput } from './spec.js';

export type { IngestJobView, IngestProgress, IngestReport } from './run-report.js';
export { ingestSettings, type IngestSettings } from './settings.js';

export interface IngestRunOptions extends Partial<IngestSettings> {
  /** Delete the source's products that this (completed) run did not see. */
  prune?: boolean;
  onProgress?: (progress: IngestProgress) => void;
  /** Aborting stops the run between batches; it stays resumable ('interrupted'). */
  signal?: AbortSignal;
}

interface Running {
  run: IngestRunRow;
  source: Source;
  settings: IngestSettings;
  options: IngestRunOptions;
  resumed: boolean;
}

/**
 * Catalog ingest: the run lease (run-lease.ts) → the page pipeline (page-pipeline.ts: map
 * records, load and validate images, one page ahead) → batch commits (batch-commit.ts: the
 * importer's write path, progress recorded in the same transaction) → prune and report. Runs
 * live in the database: the same arguments resume an unfinished run.
 */
export class IngestService {
  private readonly active = new Map<string, { controller: AbortController; done: Promise<unknown> }>();
  private readonly lease: RunLease;

  constructor(
    private readonly db: Database,
    private readonly importer: ProductImporter,
    private readonly media: MediaStore,
    private readonly defaults: IngestSettings,
    private readonly logger: Logger,
  ) {
    this.lease = new RunLease(db, logger, (runId) => this.active.has(runId));
  }

  /** Runs (or resumes) an ingest to the end. */
  async run(input: IngestSpecInput, options: IngestRunOptions = {}): Promise<IngestReport> {
    const { done } = await this.begin(input, options);
    return done;
  }

  /** Starts (or resumes) an ingest in the background; its progress is read with job(). */
  async start(input: IngestSpecInput, options: IngestRunOptions = {}): Promise<IngestJobView> {
    const { runId, done } = await this.begin(input, options);
    done.catch((err: unknown) => this.logger.warn({ runId, err }, 'ingest job stopped'));
    return (await this.job(runId))!;
  }

  async job(runId: string): Promise<IngestJobView | null> {
    return isUuid(runId) ? jobView(this.db, runId) : null;
  }

  async jobs(limit: number): Promise<IngestJobView[]> {
    const runs = await this.db.ingestRuns.list(limit);
    return Promise.all(runs.map(async (r) => (await this.job(r.id))!));
  }

  /** Stops this process's runs between batches (they stay resumable) and waits for them. */
  async close(): Promise<void> {
    for (const { controller } of this.active.values()) controller.abort(new Error('the service is stopping'));
    await Promise.allSettled([...this.active.values()].map((a) => a.done));
  }

  private async begin(input: IngestSpecInput, options: IngestRunOptions): Promise<{ runId: string; done: Promise<IngestReport> }> {
    const spec = parseIngestSpec(input);
    const settings = withOverrides(this.defaults, options);
    const controller = new AbortController();
    const signal = options.signal ? AbortSignal.any([options.signal, controller.signal]) : controller.signal;
    const http = new HttpClient({ ...settings, maxBytes: settings.maxImageBytes, signal });
    const source = await openSource(spec, http, settings.maxImageBytes);
    const { run, resumed } = await this.lease.claim(spec, source.name);
    const running: Running = { run, source, settings, options: { ...options, signal }, resumed };
    const done = this.execute(running).finally(() => this.active.delete(run.id));
    this.active.set(run.id, { controller, done });
    return { runId: run.id, done };
  }

  private async execute(job: Running): Promise<IngestReport> {
    const { run, source, settings, options } = job;
    const runs = this.db.ingestRuns;
    const started = Date.now();
    const clock = new StageClock();
    const progress: IngestProgress = {
      runId: run.id,
      source: source.name,
      resumed: job.resumed,
      pagesDone: run.pagesDone,
      itemsDone: run.itemsDone,
      itemsTotal: source.total,
      counts: withAllCounts(run.counts),
    };
    const stopBeating = this.lease.keepAlive(run.id);
    try {
      if (run.itemsTotal !== source.total) await runs.setItemsTotal(run.id, source.total);
      options.onProgress?.({ ...progress });
      const seen = new Set((await runs.items(run.id)).map((i) => i.key));
      const map = parseFieldMap((run.spec as IngestSpec).map);
      const pipeline = new PagePipeline(source, this.importer, map, seen, settings.concurrency, clock);
      const nearDuplicates = { ...this.importer.nearDuplicatePolicy, action: settings.nearDuplicates };
      const batches = new BatchCommit(this.importer, run.id, nearDuplicates, this.logger, clock);
      // Each batch is embedded while the one before it is written: the embedder's threads and
      // the database work side by side (near-duplicate and exact-duplicate decisions still see
      // every batch written before theirs: they are taken in commit). The next batch is never
      // waited for before a commit: its page may still be on its way from the source.
      const work = inBatches(pipeline.pages(run.pagesDone), settings.batchSize);
      const ahead = (step: Promise<IteratorResult<Batch>>) => {
        const embedded = step.then((s) => (s.done ? undefined : batches.embedAhead(s.value.batch)));
        // Awaited in turn below; until then a failure must not go unhandled.
        step.catch(() => undefined);
        embedded.catch(() => undefined);
        return { step, embedded };
      };
      let current = ahead(work.next());
      for (let next = await current.step; !next.done; ) {
        const { page, batch, lastOfPage } = next.value;
        options.signal?.throwIfAborted();
        const following = ahead(work.next());
        if (batch.length) addCounts(progress.counts, await batches.commit(page, batch, await current.embedded));
        progress.itemsDone += batch.length;
        options.onProgress?.({ ...progress });
        if (lastOfPage) {
          progress.pagesDone = page + 1;
          await runs.setPagesDone(run.id, progress.pagesDone);
          this.logger.debug({ runId: run.id, pagesDone: progress.pagesDone, itemsDone: progress.itemsDone }, 'ingest page done');
          options.onProgress?.({ ...progress });
        }
        current = following;
        next = await current.step;
      }
      if (options.prune) progress.counts.pruned += await pruneUnseen(this.db, this.media, run, this.logger);
      await runs.setCounts(run.id, progress.counts);
      await runs.finish(run.id, 'completed');
    } catch (error) {
      const aborted = options.signal?.aborted ?? false;
      await runs.finish(run.id, aborted ? 'interrupted' : 'failed', (error as Error).message).catch(() => undefined);
      throw error;
    } finally {
      stopBeating();
    }
    const handled = IMAGE_COUNTS.reduce((n, k) => n + progress.counts[k] - (run.counts[k] ?? 0), 0);
    return runReport(this.db, progress, Date.now() - started, handled, clock.rates());
  }
}

interface Batch {
  page: number;
  batch: PreparedItem[];
  /** The page is done once this batch is. */
  lastOfPage: boolean;
}

/** A run's pages cut into batches. */
async function* inBatches(pages: AsyncIterable<PreparedPage>, size: number): AsyncGenerator<Batch> {
  for await (const page of pages) {
    if (page.items.length === 0) yield { page: page.index, batch: [], lastOfPage: true };
    for (let i = 0; i < page.items.length; i += size) {
      yield { page: page.index, batch: page.items.slice(i, i + size), lastOfPage: i + size >= page.items.length };
    }
  }
}

async function openSource(spec: IngestSpec, http: HttpClient, maxBytes: number): Promise<Source> {
  const name = sourceName(spec);
  if (spec.kind === 'api') return apiSource(spec, name, http);
  if (spec.kind === 'folder') return folderSource(spec, name, http, maxBytes);
  return manifestSource(spec, name, http, maxBytes);
}
