// The evaluation's own embedded database: the catalog ingested once by the ingest pipeline, kept
// in a folder with a marker file, and reused while the catalog listing and the model are the same.
import { readFile, rm, stat, writeFile } from 'node:fs/promises';
import path from 'node:path';
import type { Logger } from 'pino';
import { CatalogService } from '../catalog/catalog-service.js';
import { imageLimits, loadConfig, type Config } from '../config.js';
import { AppError } from '../errors.js';
import type { IngestProgress, IngestReport } from '../ingest/ingest-service.js';
import { loadManifest } from '../ml/manifest.js';
import { SearchService } from '../search/search-service.js';
import { openCore, type Core } from '../service.js';
import { EVAL_SOURCE, type CatalogFile } from './catalog-file.js';

const MARKER = 'eval-catalog.json';

interface Marker {
  digest: string;
  /** Model key (name@version+embedder hash). */
  model: string;
  complete: boolean;
  ingest?: IngestReport['counts'];
}

export interface EvalDatabase {
  core: Core;
  search: SearchService;
  /** Catalog id → product id, for products that have an image in the index. */
  products: Map<string, string>;
  /** Model key (name@version+embedder hash). */
  model: string;
  /** Whether this run ingested (false: reused as it was). */
  ingested: boolean;
  ingestCounts: IngestReport['counts'] | null;
  close(): Promise<void>;
}

export interface OpenEvalDatabaseOptions {
  dataDir: string;
  catalog: CatalogFile;
  /** The environment's settings (models, providers, limits); the database is always embedded here. */
  env: NodeJS.ProcessEnv;
  logger: Logger;
  onIngestProgress?: (progress: IngestProgress) => void;
}

export async function openEvalDatabase(opts: OpenEvalDatabaseOptions): Promise<EvalDatabase> {
  const config: Config = loadConfig({ ...opts.env, DATA_DIR: opts.dataDir, DATABASE_URL: '', DEMO_CATALOG: 'false' });
  const markerPath = path.join(opts.dataDir, MARKER);
  // The key holds the embedder's hash: a retrained model that keeps its name and version differs.
  const model = (await loadManifest(path.resolve(config.MODELS_DIR), { verify: false })).info.key;
  const marker = await readMarker(markerPath);
  const same = marker?.digest === opts.catalog.digest && marker.model === model;
  if (marker && !same) {
    opts.logger.info({ dataDir: opts.dataDir, model, was: marker.model }, 'evaluation database holds another catalog or model: rebuilding it');
    await Promise.all(['pgdata', 'media', MARKER].map((p) => rm(path.join(opts.dataDir, p), { recursive: true, force: true })));
  } else if (!marker && (await stat(path.join(opts.dataDir, 'pgdata')).catch(() => null))) {
    throw new AppError('BAD_USER_INPUT', `${opts.dataDir} holds a database that is not an evaluation database (no ${MARKER}); use another --data-dir.`);
  }

  const core = await openCore(config, opts.logger);
  try {
    let ingestCounts = same ? (marker.ingest ?? null) : null;
    const ingested = !(same && marker.complete);
    if (ingested) {
      await writeMarker(markerPath, { digest: opts.catalog.digest, model, complete: false });
      // An interrupted ingest resumes: the pipeline keeps its run state in this database.
      const report = await core.ingest.run(opts.catalog.spec, { onProgress: opts.onIngestProgress });
      if (report.status !== 'completed') throw new Error(`catalog ingest ended ${report.status}: ${report.error ?? ''}`);
      ingestCounts = report.counts;
      await writeMarker(markerPath, { digest: opts.catalog.digest, model, complete: true, ingest: report.counts });
    }
    // Searches of earlier runs are of no use and only make the database grow.
    await core.db.searches.prune(new Date(8.64e15));

    const catalog = new CatalogService(core.db, core.media, core.models);
    const search = new SearchService(core.db, core.models, catalog, {
      imageLimits: imageLimits(config),
      searchTtlMs: config.SEARCH_TTL_HOURS * 3600_000,
    });
    return {
      core,
      search,
      products: await core.db.catalog.embeddedProductIds(EVAL_SOURCE, core.models.current().vectorModel.key),
      model,
      ingested,
      ingestCounts,
      close: () => core.close(),
    };
  } catch (error) {
    await core.close();
    throw error;
  }
}

async function readMarker(file: string): Promise<Marker | null> {
  try {
    return JSON.parse(await readFile(file, 'utf8')) as Marker;
  } catch {
    return null;
  }
}

const writeMarker = (file: string, marker: Marker) => writeFile(file, `${JSON.stringify(marker, null, 2)}\n`);
