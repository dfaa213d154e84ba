import { randomBytes } from 'node:crypto';
import { hostname } from 'node:os';
import pLimit from 'p-limit';
import type { Logger } from 'pino';
import { isUuid } from '../catalog/catalog-service.js';
import type { ImageDecision, ImportItem, ImportResult, PreparedImage, ProductImporter } from '../catalog/product-importer.js';
import type { Config } from '../config.js';
import {
  claimRun,
  createRun,
  doneItemKeys,
  failureSummary,
  finishRun,
  getRun,
  heartbeat,
  listRuns,
  openRun,
  recordItems,
  runFailures,
  runNearDuplicateGroups,
  setItemsTotal,
  setPagesDone,
  unseenProductIds,
  type FailureRecord,
  type IngestRunRow,
  type ItemRecord,
  type NearDuplicateGroup,
} from '../db/ingest-state.js';
import { deleteProducts, type ProductRecord, type Tx } from '../db/product-writes.js';
import type { Database } from '../db/types.js';
import { AppError } from '../errors.js';
import { ImageError } from '../images/index.js';
import type { MediaStore } from '../storage/media-store.js';
import { FetchError, HttpClient } from '../fetch/http-client.js';
import { mapRecord, parseFieldMap } from './mapping.js';
import { apiSource } from './sources/api.js';
import { folderSource, manifestSource } from './sources/local.js';
import { RecordError, type Source, type SourcePage } from './sources/types.js';
import { fingerprint, parseIngestSpec, sourceName, type IngestSpec, type IngestSpecInput } from './spec.js';

/** Settings a run may override (CLI flags, startIngest arguments); defaults come from config. */
export interface IngestSettings {
  concurrency: number;
  ratePerSecond: number;
  timeoutMs: number;
  retries: number;
  userAgent: string;
  batchSize: number;
  maxImageBytes: number;
  nearDuplicates: 'link' | 'skip';
}

export function ingestSettings(config: Config): IngestSettings {
  return {
    concurrency: config.INGEST_CONCURRENCY,
    ratePerSecond: config.INGEST_RATE_PER_SECOND,
    timeoutMs: config.INGEST_TIMEOUT_MS,
    retries: config.INGEST_RETRIES,
    userAgent: config.INGEST_USER_AGENT,
    batchSize: config.INGEST_BATCH_SIZE,
    maxImageBytes: config.INGEST_MAX_IMAGE_BYTES,
    nearDuplicates: config.NEAR_DUP_ACTION,
  };
}

export interface IngestRunOptions extends Partial<IngestSettings> {
  /** Delete the source's products that this (completed) run did not see. */
  prune?: boolean;
  onProgress?: (progress: IngestProgress) => void;
  /** Aborting stops the run between batches; it stays resumable ('interrupted'). */
  signal?: AbortSignal;
}

export type IngestCounts = Record<(typeof COUNTS)[number], number>;

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

const IMAGE_COUNTS = ['newImages', 'unchangedImages', 'exactDuplicates', 'nearDuplicates', 'failedImages'] as const;

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
  failures: Awaited<ReturnType<typeof failureSummary>>;
  nearDuplicateGroups: { total: number; groups: NearDuplicateGroup[] };
  /** Wall time of this process's part of the run, and the images it handled in that time. */
  elapsedMs: number;
  imagesHandled: number;
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

/** A run whose heartbeat is older than this is taken to be dead, whoever owned it. */
const LEASE_MS = 60_000;
const HEARTBEAT_MS = 10_000;
const JOB_FAILURES_SHOWN = 100;

interface Prepared {
  key: string;
  product: ProductRecord | null;
  images: PreparedImage[];
  /** Images (or the whole item) that failed, with reasons. */
  failures: FailureRecord[];
}

interface PreparedPage {
  index: number;
  items: Prepared[];
}

interface Running {
  run: IngestRunRow;
  source: Source;
  settings: IngestSettings;
  options: IngestRunOptions;
  resumed: boolean;
}

/**
 * Catalog ingest: a source's pages → map records → fetch and validate images (concurrently,
 * one page ahead) → the importer's batch write path, which records progress in the same
 * transaction. Runs live in the database: the same arguments resume an unfinished run.
 */
export class IngestService {
  private readonly owner = `${hostname()}:${process.pid}:${randomBytes(4).toString('hex')}`;
  private readonly active = new Map<string, { controller: AbortController; done: Promise<unknown> }>();

  constructor(
    private readonly db: Database,
    private readonly importer: ProductImporter,
    private readonly media: MediaStore,
    private readonly defaults: IngestSettings,
    private readonly logger: Logger,
  ) {}

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
    const run = isUuid(runId) ? await getRun(this.db.prisma, runId) : null;
    if (!run) return null;
    const failures = await runFailures(this.db.prisma, run.id, JOB_FAILURES_SHOWN);
    return {
      ...run,
      counts: withAllCounts(run.counts),
      failures: failures.map((f) => ({ itemKey: f.itemKey, image: f.image, code: f.code, reason: f.reason })),
    };
  }

  async jobs(limit: number): Promise<IngestJobView[]> {
    const runs = await listRuns(this.db.prisma, limit);
    return Promise.all(runs.map(async (r) => (await this.job(r.id))!));
  }

  /** Stops this process's runs between batches (they stay resumable) and waits for them. */
  async close(): Promise<void> {
    for (const { controller } of this.active.values()) controller.abort(new Error('the service is stopping'));
    await Promise.allSettled([...this.active.values()].map((a) => a.done));
  }

  private async begin(input: IngestSpecInput, options: IngestRunOptions): Promise<{ runId: string; done: Promise<IngestReport> }> {
    const spec = parseIngestSpec(input);
    const settings: IngestSettings = { ...this.defaults, ...definedOnly(pickSettings(options)) };
    const controller = new AbortController();
    const signal = options.signal ? AbortSignal.any([options.signal, controller.signal]) : controller.signal;
    const http = new HttpClient({ ...settings, maxBytes: settings.maxImageBytes, signal });
    const source = await openSource(spec, http, settings.maxImageBytes);
    const { run, resumed } = await this.claim(spec, source);
    const running: Running = { run, source, settings, options: { ...options, signal }, resumed };
    const done = this.execute(running).finally(() => this.active.delete(run.id));
    this.active.set(run.id, { controller, done });
    return { runId: run.id, done };
  }

  /** The unfinished run of these arguments if its owner is gone, else a new one. */
  private async claim(spec: IngestSpec, source: Source): Promise<{ run: IngestRunRow; resumed: boolean }> {
    const print = fingerprint(spec);
    const open = await openRun(this.db.prisma, print);
    if (open) {
      if (open.status === 'running' && this.isAlive(open)) {
        throw new AppError('CONFLICT', `An ingest of this source is already running (run ${open.id}, ${open.itemsDone} items done).`);
      }
      if (!(await claimRun(this.db.prisma, open, this.owner))) {
        throw new AppError('CONFLICT', `Another process has just resumed this ingest (run ${open.id}).`);
      }
      this.logger.info({ runId: open.id, pagesDone: open.pagesDone, itemsDone: open.itemsDone }, 'resuming ingest');
      return { run: (await getRun(this.db.prisma, open.id))!, resumed: true };
    }
    try {
      const run = await createRun(this.db.prisma, { fingerprint: print, kind: spec.kind, source: source.name, spec, owner: this.owner });
      return { run, resumed: false };
    } catch (error) {
      // The partial unique index on running runs: someone started the same ingest just now.
      if ((error as { code?: string }).code === 'P2002') throw new AppError('CONFLICT', 'An ingest of this source has just been started.');
      throw error;
    }
  }

  /** Is the process that owns this run still working on it? */
  private isAlive(run: IngestRunRow): boolean {
    if (run.owner === this.owner) return this.active.has(run.id);
    const fresh = run.heartbeatAt !== null && Date.now() - run.heartbeatAt.getTime() < LEASE_MS;
    const [host, pid] = (run.owner ?? '').split(':');
    if (!fresh || host !== hostname() || pid === String(process.pid)) return fresh;
    // Same machine: a killed owner is known at once, without waiting for the lease to expire.
    try {
      process.kill(Number(pid), 0);
      return true;
    } catch (error) {
      return (error as NodeJS.ErrnoException).code === 'EPERM';
    }
  }

  private async execute(job: Running): Promise<IngestReport> {
    const { run, source, settings, options } = job;
    const prisma = this.db.prisma;
    const started = Date.now();
    const progress: IngestProgress = {
      runId: run.id,
      source: source.name,
      resumed: job.resumed,
      pagesDone: run.pagesDone,
      itemsDone: run.itemsDone,
      itemsTotal: source.total,
      counts: withAllCounts(run.counts),
    };
    const beat = setInterval(() => void heartbeat(prisma, run.id, this.owner).catch(() => undefined), HEARTBEAT_MS);
    beat.unref();
    try {
      if (run.itemsTotal !== source.total) await setItemsTotal(prisma, run.id, source.total);
      options.onProgress?.({ ...progress });
      const seen = await doneItemKeys(prisma, run.id);
      const map = parseFieldMap((run.spec as IngestSpec).map);
      const limit = pLimit(settings.concurrency);
      const pages = source.pages(run.pagesDone)[Symbol.asyncIterator]();
      const prepareNext = async (): Promise<PreparedPage | null> => {
        const next = await pages.next();
        return next.done ? null : this.preparePage(next.value, source, map, seen, limit);
      };
      const analyzeStats = planStats(this.db);
      // One page is fetched and validated while the previous one is embedded and written.
      let upcoming = prepareNext();
      for (let page = await upcoming; page; page = await upcoming) {
        upcoming = prepareNext();
        upcoming.catch(() => undefined);
        for (let i = 0; i < page.items.length; i += settings.batchSize) {
          options.signal?.throwIfAborted();
          const batch = page.items.slice(i, i + settings.batchSize);
          const increments = await this.commit(run.id, page.index, batch, settings);
          addCounts(progress.counts, increments);
          progress.itemsDone += batch.length;
          options.onProgress?.({ ...progress });
        }
        progress.pagesDone = page.index + 1;
        await setPagesDone(prisma, run.id, progress.pagesDone);
        await analyzeStats(progress.counts.newImages + progress.counts.nearDuplicates);
        this.logger.debug({ runId: run.id, pagesDone: progress.pagesDone, itemsDone: progress.itemsDone }, 'ingest page done');
        options.onProgress?.({ ...progress });
      }
      if (options.prune) progress.counts.pruned += await this.prune(run);
      await prisma.ingestRun.update({ where: { id: run.id }, data: { counts: progress.counts } });
      await finishRun(prisma, run.id, 'completed');
    } catch (error) {
      const aborted = options.signal?.aborted ?? false;
      await finishRun(prisma, run.id, aborted ? 'interrupted' : 'failed', (error as Error).message).catch(() => undefined);
      throw error;
    } finally {
      clearInterval(beat);
    }
    const handled = IMAGE_COUNTS.reduce((n, k) => n + progress.counts[k] - (run.counts[k] ?? 0), 0);
    return this.report(run.id, progress, Date.now() - started, handled);
  }

  /** Maps a page's records and loads and validates their images, concurrently. */
  private async preparePage(
    page: SourcePage,
    source: Source,
    map: ReturnType<typeof parseFieldMap>,
    seen: Set<string>,
    limit: ReturnType<typeof pLimit>,
  ): Promise<PreparedPage> {
    const items: Promise<Prepared>[] = [];
    page.records.forEach((record, i) => {
      const fallbackKey = `@p${page.index}#${i}`;
      if (record instanceof RecordError) {
        if (seen.has(fallbackKey)) return;
        seen.add(fallbackKey);
        items.push(Promise.resolve(failedItem(fallbackKey, 'BAD_RECORD', record.message)));
        return;
      }
      const mapped = mapRecord(record, map, source.name);
      const key = mapped.key ?? fallbackKey;
      // Done in an earlier attempt of this run (resume), or an id the source repeats.
      if (seen.has(key)) return;
      seen.add(key);
      if (!mapped.ok) return void items.push(Promise.resolve(failedItem(key, mapped.code, mapped.reason)));
      const locations = page.resolveImages(mapped);
      if (locations.length === 0) return void items.push(Promise.resolve(failedItem(key, 'NO_IMAGES', 'the item names no image')));
      items.push(
        (async () => {
          const loaded = await Promise.all(locations.map((location) => limit(() => this.loadImage(source, location))));
          return {
            key,
            product: mapped.product,
            images: loaded.flatMap((l) => ('image' in l ? [l.image] : [])),
            failures: loaded.flatMap((l) => ('failure' in l ? [{ ...l.failure, itemKey: key }] : [])),
          };
        })(),
      );
    });
    return { index: page.index, items: await Promise.all(items) };
  }

  private async loadImage(source: Source, location: string): Promise<{ image: PreparedImage } | { failure: FailureRecord }> {
    try {
      return { image: await this.importer.prepare(await source.load(location), location) };
    } catch (error) {
      if (error instanceof FetchError) return { failure: { itemKey: null, image: location, code: 'IMAGE_FETCH_FAILED', reason: error.message } };
      if (error instanceof ImageError) return { failure: { itemKey: null, image: location, code: error.code, reason: error.message } };
      throw error;
    }
  }

  /**
   * Writes a batch and records it as done, in one transaction. If the batch fails as a whole
   * (one item's write breaks it), each item is retried alone, so only the bad one fails.
   */
  private async commit(runId: string, page: number, batch: Prepared[], settings: IngestSettings): Promise<Record<string, number>> {
    const writable = batch.filter((item) => item.product && item.images.length > 0);
    const failedItems = batch.filter((item) => !writable.includes(item));
    let increments: Record<string, number> = {};
    const record = async (tx: Tx, results: ImportResult[]) => {
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
      await recordItems(tx, runId, page, items, batch.flatMap((item) => item.failures), increments);
    };
    const items: ImportItem[] = writable.map((item) => ({ product: item.product!, images: item.images }));
    try {
      await this.importer.importBatch(items, {
        nearDuplicates: { ...this.importer.nearDuplicatePolicy, action: settings.nearDuplicates },
        runId,
        alsoInTx: record,
      });
      return increments;
    } catch (error) {
      if (batch.length > 1) {
        const total: Record<string, number> = {};
        for (const item of batch) addCounts(total, await this.commit(runId, page, [item], settings));
        return total;
      }
      const item = batch[0]!;
      // Recording a failed item wrote no product: what broke is the database itself.
      if (!item.product) throw error;
      if (!(error instanceof ImageError)) this.logger.warn({ err: error, item: item.key }, 'ingest: item could not be written');
      const code = error instanceof ImageError ? error.code : 'WRITE_FAILED';
      const failed = { ...item, product: null, failures: [...item.failures, { itemKey: item.key, image: null, code, reason: (error as Error).message }] };
      return this.commit(runId, page, [failed], settings);
    }
  }

  /** Deletes the source's products this completed run did not see, and their media. */
  private async prune(run: IngestRunRow): Promise<number> {
    const ids = await unseenProductIds(this.db.prisma, run.id, run.source);
    if (ids.length === 0) return 0;
    const { productIds, mediaPaths } = await deleteProducts(this.db.prisma, { id: { in: ids } });
    await Promise.all(mediaPaths.map((p) => this.media.remove(p)));
    this.logger.info({ runId: run.id, pruned: productIds.length }, 'pruned products the source no longer lists');
    return productIds.length;
  }

  private async report(runId: string, progress: IngestProgress, elapsedMs: number, imagesHandled: number): Promise<IngestReport> {
    const run = (await getRun(this.db.prisma, runId))!;
    return {
      ...progress,
      status: run.status,
      error: run.error,
      failures: await failureSummary(this.db.prisma, runId),
      nearDuplicateGroups: await runNearDuplicateGroups(this.db.prisma, runId, 10),
      elapsedMs,
      imagesHandled,
    };
  }
}

/**
 * Refreshes planner statistics as the catalog grows under a run (200, 400, 800 … images), so the
 * near-duplicate lookups keep using the vector index (PGlite has no autovacuum to do it).
 */
function planStats(db: Database): (imagesStored: number) => Promise<void> {
  let atLastAnalyze: number | undefined;
  return async (imagesStored) => {
    atLastAnalyze ??= imagesStored;
    if (imagesStored - atLastAnalyze < Math.max(200, atLastAnalyze)) return;
    atLastAnalyze = imagesStored;
    await db.analyze();
  };
}

async function openSource(spec: IngestSpec, http: HttpClient, maxBytes: number): Promise<Source> {
  const name = sourceName(spec);
  if (spec.kind === 'api') return apiSource(spec, name, http);
  if (spec.kind === 'folder') return folderSource(spec, name, http, maxBytes);
  return manifestSource(spec, name, http, maxBytes);
}

const failedItem = (key: string, code: string, reason: string): Prepared => ({
  key,
  product: null,
  images: [],
  failures: [{ itemKey: key, image: null, code, reason }],
});

/** An item's failed images, as entries of its image decisions (item-level failures are not images). */
const failedImages = (failures: FailureRecord[]) =>
  failures.filter((f) => f.image !== null).map((f) => ({ ref: f.image, decision: 'failed', code: f.code, reason: f.reason }));

function countsOf(items: ItemRecord[], results: ImportResult[]): Record<string, number> {
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

function addCounts(into: Record<string, number>, add: Record<string, number>): void {
  for (const [k, v] of Object.entries(add)) into[k] = (into[k] ?? 0) + v;
}

function withAllCounts(counts: Record<string, number>): IngestCounts {
  return Object.fromEntries(COUNTS.map((k) => [k, counts[k] ?? 0])) as IngestCounts;
}

function pickSettings(o: IngestRunOptions): Partial<IngestSettings> {
  const { concurrency, ratePerSecond, timeoutMs, retries, userAgent, batchSize, maxImageBytes, nearDuplicates } = o;
  return { concurrency, ratePerSecond, timeoutMs, retries, userAgent, batchSize, maxImageBytes, nearDuplicates };
}

function definedOnly<T extends object>(o: T): Partial<T> {
  return Object.fromEntries(Object.entries(o).filter(([, v]) => v !== undefined)) as Partial<T>;
}
