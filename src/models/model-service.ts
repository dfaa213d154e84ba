// Model versions: registering a models folder (its catalog re-embedded in the background),
// activating a ready one (atomically, for this process at once and for others at their next
// poll), retiring one, and listing them. The database holds the truth; MODELS_DIR is only the
// model a fresh database starts with.
import path from 'node:path';
import type { Logger } from 'pino';
import type { Database, ModelRow } from '../db/index.js';
import { VectorModelError } from '../db/index.js';
import { AppError } from '../errors.js';
import type { ValidateImageOptions } from '../images/index.js';
import { newOwnerId, ownerAlive } from '../ingest/run-lease.js';
import { loadManifest, ModelError, type LoadedManifest, type LoadedModels } from '../ml/index.js';
import type { MediaStore } from '../storage/media-store.js';
import type { ActiveModel, ModelEntry, ModelWriters } from './active-model.js';
import { reembedCatalog, type ReembedOutcome } from './reembed-job.js';
import { modelView, type ModelView } from './views.js';

/** A re-embedding lease whose heartbeat is older than this is taken to be dead. */
const LEASE_MS = 30_000;

export interface ModelServiceOptions {
  /** MODELS_DIR: the model a fresh database starts with. */
  modelsDir: string;
  /** Opens a models folder's sessions (the composition root binds providers and batch size). */
  load(dir: string): Promise<LoadedModels>;
  imageLimits: ValidateImageOptions;
  /** Images per re-embedding batch, and the pause after each (REEMBED_BATCH_SIZE, REEMBED_PAUSE_MS, REEMBED_PAUSE_FACTOR). */
  reembed: { batchSize: number; pauseMs: number; pauseFactor: number };
  /** How often a process looks for another process's activation and for orphaned re-embeddings (MODEL_POLL_MS). */
  pollMs: number;
  logger: Logger;
}

interface Job {
  abort: AbortController;
  done: Promise<ReembedOutcome>;
}

export class ModelService implements ActiveModel, ModelWriters {
  private active!: ModelEntry;
  /** Loaded models by key, and each one's status as last read. */
  private readonly entries = new Map<string, { entry: Promise<ModelEntry>; status: ModelRow['status'] }>();
  /** Models loaded and ready to use now (writers() must not wait). */
  private readonly loadedNow = new Map<string, ModelEntry>();
  private readonly jobs = new Map<string, Job>();
  private readonly owner = newOwnerId();
  private readonly log: Logger;
  private polling?: NodeJS.Timeout;
  private closed = false;

  private constructor(
    private readonly db: Database,
    private readonly media: MediaStore,
    private readonly opts: ModelServiceOptions,
  ) {
    this.log = opts.logger.child({ component: 'models' });
  }

  /** Loads the active model (on a fresh database: registers MODELS_DIR's as active) and the ones being indexed. */
  static async open(db: Database, media: MediaStore, opts: ModelServiceOptions): Promise<ModelService> {
    const service = new ModelService(db, media, opts);
    try {
      await service.bootstrap();
    } catch (err) {
      await service.close();
      throw err;
    }
    return service;
  }

  current(): ModelEntry {
    return this.active;
  }

  /** The folder of the active model (MODELS_DIR for one recorded before model versions kept folders). */
  async activeFolder(): Promise<string> {
    return (await this.db.modelVersions.active())?.path ?? this.opts.modelsDir;
  }

  writers(): ModelEntry[] {
    const others: ModelEntry[] = [];
    for (const [key, { status }] of this.entries) {
      const entry = this.loadedNow.get(key);
      if (entry && key !== this.active.vectorModel.key && (status === 'indexing' || status === 'ready')) others.push(entry);
    }
    return [this.active, ...others];
  }

  async list(): Promise<ModelView[]> {
    const [rows, total] = await Promise.all([this.db.modelVersions.list(), this.db.catalog.countImages()]);
    return rows.map((r) => modelView(r, r.imagesEmbedded, total));
  }

  /** Validates a models folder, records it (status indexing) with its own index and starts re-embedding the catalog into it. */
  async register(dir: string): Promise<ModelView> {
    const folder = path.resolve(dir);
    const manifest = await inspect(folder);
    const { info } = manifest;
    // The same embedder under the same name may be registered under its pre-model-versions key.
    const same = (await this.db.modelVersions.rows()).find(
      (r) =>
        r.key === info.key ||
        (r.embedderSha256 === manifest.manifest.files.embedder.sha256 && r.name === info.name && r.version === info.version && r.status !== 'retired'),
    );
    if (same && same.status !== 'retired') {
      if (same.status === 'indexing') await this.resume(same);
      return this.view(same.key);
    }
    // Sessions first: a folder whose files onnxruntime rejects is refused before anything is recorded.
    const entry = await this.open(folder, info.key);
    try {
      await this.db.modelVersions.add({
        key: info.key,
        name: info.name,
        version: info.version,
        dim: info.dim,
        metric: info.metric,
        status: 'indexing',
        path: folder,
        embedderSha256: manifest.manifest.files.embedder.sha256,
        training: manifest.manifest.training ?? null,
      });
    } catch (err) {
      if (err instanceof VectorModelError) throw new AppError('MODEL_INVALID', err.message);
      throw err;
    }
    this.entries.set(info.key, { entry: Promise.resolve(entry), status: 'indexing' });
    this.loadedNow.set(info.key, entry);
    this.log.info({ model: info.key, path: folder }, 'model registered: re-embedding the catalog into it');
    await this.resume((await this.db.modelVersions.get(info.key))!);
    return this.view(info.key);
  }

  /** Makes a ready model the one searches use; MODEL_NOT_READY while its catalog is not fully embedded. */
  async activate(key: string): Promise<ModelView> {
    const row = await this.row(key);
    if (row.status === 'retired') throw new AppError('MODEL_NOT_READY', `Model ${key} is retired: register its folder again first.`);
    const entry = await this.entryOf(row);
    const outcome = await this.db.modelVersions.activate(key);
    if (!outcome.ok) {
      if (outcome.status === 'indexing') await this.resume({ ...row, status: 'indexing' });
      throw new AppError(
        'MODEL_NOT_READY',
        `Model ${key} is ${outcome.status}: ${outcome.missing} catalog image(s) still lack its embedding. Activate it once models lists it as ready.`,
      );
    }
    this.swap(entry, 'activated');
    await this.refresh();
    return this.view(key);
  }

  /**
   * Deletes a model's embeddings and index; CONFLICT for the active one, and for the one active
   * until less than two polls ago (another process may still be searching with it).
   */
  async retire(key: string): Promise<ModelView> {
    await this.row(key);
    const active = await this.db.modelVersions.active();
    const since = active?.activatedAt ? Date.now() - active.activatedAt.getTime() : Infinity;
    if (active && active.key !== key && since < 2 * this.opts.pollMs) {
      throw new AppError(
        'CONFLICT',
        `Model ${active.key} was activated ${Math.round(since / 1000)} s ago; other processes may still search with the one before it. Retry in ${Math.ceil((2 * this.opts.pollMs - since) / 1000)} s.`,
      );
    }
    const job = this.jobs.get(key);
    job?.abort.abort();
    await job?.done;
    if (!(await this.db.modelVersions.retire(key))) {
      throw new AppError('CONFLICT', `Model ${key} is the active model: activate another one before retiring it.`);
    }
    this.unload(key);
    this.log.info({ model: key }, 'model retired: its embeddings and index are gone');
    return this.view(key);
  }

  /** Resolves when this process's re-embedding into the model ends (at once when none runs here). */
  async whenIndexed(key: string): Promise<ReembedOutcome | null> {
    return (await this.jobs.get(key)?.done) ?? null;
  }

  /** Resumes orphaned re-embeddings now, and polls for other processes' activations and registrations. */
  startBackground(): void {
    const tick = () =>
      this.refresh().catch((err: unknown) => this.log.warn({ err }, 'polling the model versions failed'));
    void tick();
    this.polling = setInterval(tick, this.opts.pollMs);
    this.polling.unref();
  }

  async close(): Promise<void> {
    this.closed = true;
    clearInterval(this.polling);
    for (const job of this.jobs.values()) job.abort.abort();
    await Promise.all([...this.jobs.values()].map((j) => j.done));
    const loaded = await Promise.allSettled([...this.entries.values()].map((e) => e.entry));
    await Promise.all(loaded.map((l) => (l.status === 'fulfilled' ? l.value.models.close() : undefined)));
    this.entries.clear();
  }

  private async bootstrap(): Promise<void> {
    let active = await this.db.modelVersions.active();
    const seed = await inspect(this.opts.modelsDir);
    if (active && this.replacedInPlace(active, seed)) active = await this.upgradeInPlace(active, seed);
    if (!active) {
      // A fresh database: MODELS_DIR's model is its first, active model.
      await this.db.modelVersions.add({
        key: seed.info.key,
        name: seed.info.name,
        version: seed.info.version,
        dim: seed.info.dim,
        metric: seed.info.metric,
        status: 'active',
        path: this.opts.modelsDir,
        embedderSha256: seed.manifest.files.embedder.sha256,
        training: seed.manifest.training ?? null,
      });
      active = await this.db.modelVersions.active();
      if (!active) throw new Error(`MODELS_DIR's model ${seed.info.key} is registered but not active: activate a model with npm run models -- activate KEY`);
    } else if (active.path === null) {
      // Registered before model versions under name@version, which MODELS_DIR still holds (else: upgradeInPlace).
      await this.db.modelVersions.adopt(active.key, {
        path: this.opts.modelsDir,
        embedderSha256: seed.manifest.files.embedder.sha256,
        training: seed.manifest.training ?? null,
      });
      active = (await this.db.modelVersions.get(active.key))!;
    } else if (active.embedderSha256 !== seed.manifest.files.embedder.sha256) {
      this.log.info(
        { active: active.key, modelsDir: seed.info.key },
        `the database's active model is ${active.key}; MODELS_DIR holds ${seed.info.key}, used only by a fresh database (register it with npm run models -- register DIR)`,
      );
    }
    this.active = await this.entryOf(active);
    this.entries.get(active.key)!.status = 'active';
    await this.refresh(false);
  }

  /**
   * MODELS_DIR now holds another model than the active one, whose files lived there (an upgrade of
   * the project, or a retrain written over the folder): the active model cannot run any more.
   */
  private replacedInPlace(active: ModelRow, seed: Awaited<ReturnType<typeof inspect>>): boolean {
    if (active.path === null) return active.key !== `${seed.info.name}@${seed.info.version}`;
    return path.resolve(active.path) === path.resolve(this.opts.modelsDir) && active.embedderSha256 !== seed.manifest.files.embedder.sha256;
  }

  /**
   * Re-embeds the catalog into MODELS_DIR's model before serving (resumable like any registration),
   * makes it active and retires the one whose files are gone: searches must never mix two models.
   */
  private async upgradeInPlace(old: ModelRow, seed: Awaited<ReturnType<typeof inspect>>): Promise<ModelRow> {
    const key = seed.info.key;
    this.log.warn(
      { previous: old.key, model: key },
      `MODELS_DIR now holds ${key} instead of the active model ${old.key}, whose files are gone: re-embedding the catalog into it before serving`,
    );
    await this.register(this.opts.modelsDir);
    const outcome = await this.whenIndexed(key);
    if (outcome !== null && outcome !== 'done') throw new Error(`re-embedding the catalog into ${key} stopped (${outcome}); start again to resume it`);
    const activated = await this.db.modelVersions.activate(key);
    if (!activated.ok) throw new Error(`${key} cannot serve yet: ${activated.missing} catalog image(s) lack its embedding (see the log); start again to retry`);
    await this.db.modelVersions.retire(old.key);
    this.unload(old.key);
    this.log.info({ model: key, retired: old.key }, 'model upgraded in place: the catalog is embedded with the new model');
    return (await this.db.modelVersions.get(key))!;
  }

  /** Reads the statuses; picks up another process's activation; loads models being indexed; resumes orphaned jobs. */
  private async refresh(resumeJobs = true): Promise<void> {
    if (this.closed) return;
    for (const row of await this.db.modelVersions.rows()) {
      const known = this.entries.get(row.key);
      if (known) known.status = row.status;
      if (row.status === 'retired') {
        if (known) this.unload(row.key);
        continue;
      }
      if (row.status === 'active' && row.key !== this.active?.vectorModel.key) {
        this.swap(await this.entryOf(row), 'activated by another process');
      } else if ((row.status === 'indexing' || row.status === 'ready') && row.path) {
        await this.entryOf(row).catch((err: unknown) => this.log.error({ err, model: row.key }, 'a registered model cannot be loaded'));
        if (resumeJobs && row.status === 'indexing') await this.resume(row);
      }
    }
  }

  private swap(entry: ModelEntry, why: string): void {
    const previous = this.active?.vectorModel.key;
    this.active = entry;
    this.log.info({ model: entry.vectorModel.key, previous }, `model ${entry.vectorModel.key} ${why}: searches use it now`);
  }

  /** Starts re-embedding into the model here unless a live process holds its lease. */
  private async resume(row: ModelRow): Promise<void> {
    if (this.closed || this.jobs.has(row.key)) return;
    if (row.reembedOwner && row.reembedOwner !== this.owner && ownerAlive(row.reembedOwner, row.reembedHeartbeatAt, LEASE_MS)) return;
    const entry = await this.entryOf(row);
    if (!(await this.db.modelVersions.claimReembed(row.key, this.owner, row.reembedOwner))) return;
    const abort = new AbortController();
    const started = Date.now();
    const done = reembedCatalog({
      db: this.db,
      media: this.media,
      entry,
      owner: this.owner,
      batchSize: this.opts.reembed.batchSize,
      pauseMs: this.opts.reembed.pauseMs,
      pauseFactor: this.opts.reembed.pauseFactor,
      imageLimits: this.opts.imageLimits,
      signal: abort.signal,
      logger: this.log,
    })
      .catch((err: unknown) => {
        this.log.error({ err, model: row.key }, 're-embedding failed; another start or poll resumes it');
        return 'stopped' as const;
      })
      .then(async (outcome) => {
        this.jobs.delete(row.key);
        if (outcome !== 'lost') await this.db.modelVersions.releaseReembed(row.key, this.owner, outcome === 'done').catch(() => undefined);
        const known = this.entries.get(row.key);
        if (known && outcome === 'done' && known.status === 'indexing') known.status = 'ready';
        this.log.info({ model: row.key, outcome, ms: Date.now() - started }, 're-embedding ended');
        return outcome;
      });
    this.jobs.set(row.key, { abort, done });
  }

  private async row(key: string): Promise<ModelRow> {
    const row = await this.db.modelVersions.get(key);
    if (!row) throw new AppError('MODEL_NOT_FOUND', `No model with key ${JSON.stringify(key)}; npm run models -- list shows them.`);
    return row;
  }

  private async view(key: string): Promise<ModelView> {
    const view = (await this.list()).find((m) => m.key === key);
    if (!view) throw new AppError('MODEL_NOT_FOUND', `No model with key ${JSON.stringify(key)}.`);
    return view;
  }

  /** The model's loaded entry, loading it from its folder once. */
  private entryOf(row: ModelRow): Promise<ModelEntry> {
    const known = this.entries.get(row.key);
    if (known) return known.entry;
    if (!row.path) return Promise.reject(new AppError('MODEL_INVALID', `Model ${row.key} has no folder recorded.`));
    const entry = this.open(row.path, row.key, row);
    this.entries.set(row.key, { entry, status: row.status });
    entry.then(
      (e) => this.loadedNow.set(row.key, e),
      () => this.entries.delete(row.key),
    );
    return entry;
  }

  /** Loads a folder's sessions; the stored key may be a legacy name@version one. */
  private async open(folder: string, key: string, row?: ModelRow): Promise<ModelEntry> {
    let models: LoadedModels;
    try {
      models = await this.opts.load(folder);
    } catch (err) {
      if (err instanceof ModelError) throw new AppError('MODEL_INVALID', err.message);
      throw err;
    }
    if (row?.embedderSha256 && row.embedderSha256 !== models.manifest.files.embedder.sha256) {
      await models.close();
      throw new AppError('MODEL_INVALID', `The files in ${folder} are not model ${key}'s any more (its embedder changed): register the folder again.`);
    }
    const { info } = models;
    return { models, vectorModel: { key, dim: info.dim, metric: info.metric, name: info.name, version: info.version } };
  }

  private unload(key: string): void {
    const known = this.entries.get(key);
    this.entries.delete(key);
    this.loadedNow.delete(key);
    // A batch of the importer may still hold it: closing waits for its queued work.
    void known?.entry.then((e) => e.models.close()).catch(() => undefined);
  }
}

/** The manifest checks of a models folder, as a coded error. */
async function inspect(folder: string): Promise<LoadedManifest> {
  try {
    return await loadManifest(folder);
  } catch (err) {
    if (err instanceof ModelError) throw new AppError('MODEL_INVALID', err.message);
    throw err;
  }
}
