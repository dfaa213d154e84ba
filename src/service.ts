import { mkdir } from 'node:fs/promises';
import { createServer, type Server } from 'node:http';
import path from 'node:path';
import type { Logger } from 'pino';
import { AdaptationService, type ModelRegistrar } from './adapt/adaptation-service.js';
import { baseModelFrom } from './adapt/base-model.js';
import { CatalogService } from './catalog/catalog-service.js';
import { ProductImporter } from './catalog/product-importer.js';
import { imageLimits, type Config } from './config.js';
import { openDatabase, type Database, type VectorModel } from './db/index.js';
import { loadDemoCatalog } from './demo/load-demo.js';
import { createApp } from './http/app.js';
import { drainServer } from './http/drain.js';
import { buildApiSchema, createApollo } from './http/graphql.js';
import { AdminService } from './ingest/admin-service.js';
import { IngestService, ingestSettings } from './ingest/ingest-service.js';
import { loadModels, type Models } from './ml/index.js';
import type { Services } from './resolvers/context.js';
import { LoadShedder } from './search/load-shedder.js';
import { SearchService } from './search/search-service.js';
import { fetchImage } from './fetch/image-url.js';
import { MediaStore } from './storage/media-store.js';

export interface RunningService {
  server: Server;
  url: string;
  services: Services;
  importer: ProductImporter;
  ingest: IngestService;
  /** For integration tests that assert what was stored. */
  db: Database;
  close(): Promise<void>;
}

export interface Core {
  db: Database;
  /** Catalog adaptation jobs (npm run adapt, startAdaptation). */
  adaptation: AdaptationService;
  models: Models;
  media: MediaStore;
  mediaRoot: string;
  vectorModel: VectorModel;
  importer: ProductImporter;
  ingest: IngestService;
  close(): Promise<void>;
}

/**
 * Database (migrated), models, media and the catalog write path: what the service and the
 * command-line tools (npm run ingest) share.
 */
export async function openCore(config: Config, logger: Logger): Promise<Core> {
  const dataDir = path.resolve(config.DATA_DIR);
  const mediaRoot = path.join(dataDir, 'media');
  await mkdir(mediaRoot, { recursive: true });

  const models = await loadModels({
    modelsDir: path.resolve(config.MODELS_DIR),
    providers: config.ML_PROVIDERS,
    batchSize: config.ML_BATCH_SIZE,
    logger,
  });
  const db = await openDatabase({ url: config.DATABASE_URL, dataDir, efSearch: config.HNSW_EF_SEARCH, logger });
  const applied = await db.migrate();
  if (applied.length) logger.info({ applied }, 'database migrations applied');
  const vectorModel: VectorModel = { key: models.info.key, dim: models.info.dim, metric: models.info.metric };
  await db.models.ensure(vectorModel);

  const media = new MediaStore(mediaRoot);
  const tempFiles = await media.removeStaleTempFiles();
  if (tempFiles) logger.info({ removed: tempFiles }, 'removed temp files of interrupted media writes');
  const importer = new ProductImporter(db, models, media, vectorModel, {
    imageLimits: imageLimits(config),
    nearDuplicates: {
      action: config.NEAR_DUP_ACTION,
      maxHamming: config.NEAR_DUP_MAX_HAMMING,
      maxDistance: config.NEAR_DUP_MAX_DISTANCE,
    },
  });
  const ingest = new IngestService(db, importer, media, ingestSettings(config), logger.child({ component: 'ingest' }));
  // Registering an adapted folder as a model version belongs to the model-versions service; until
  // it exists, adaptation writes the folder and says how to register it.
  const registrar: ModelRegistrar | null = null;
  const adaptation = new AdaptationService(db, {
    dataDir,
    mediaRoot,
    base: () => baseModelFrom(config.MODELS_DIR),
    registrar,
    maxSteps: config.ADAPT_MAX_STEPS,
    nice: config.ADAPT_NICE,
    logger: logger.child({ component: 'adaptation' }),
  });
  await adaptation.recover();
  return {
    db,
    adaptation,
    models,
    media,
    mediaRoot,
    vectorModel,
    importer,
    ingest,
    async close() {
      await adaptation.close();
      await ingest.close();
      await models.close();
      await db.close();
    },
  };
}

/**
 * The composition root: database, models, media, services and the HTTP app, built once from
 * the validated config. `npm start` and the integration tests both start the service here.
 */
export async function startService(config: Config, logger: Logger): Promise<RunningService> {
  const core = await openCore(config, logger);
  const { db, models, media, mediaRoot, vectorModel, importer } = core;
  const catalog = new CatalogService(db, media, { info: models.info, provider: models.provider, vectorModel });
  const shedder = new LoadShedder({
    maxConcurrent: config.SEARCH_MAX_CONCURRENT,
    maxQueue: config.SEARCH_MAX_QUEUE,
    maxQueueWaitMs: config.SEARCH_MAX_QUEUE_WAIT_MS,
  });
  const search = new SearchService(db, models, catalog, vectorModel, {
    imageLimits: imageLimits(config),
    searchTtlMs: config.SEARCH_TTL_HOURS * 3600_000,
    autoRegion: config.AUTO_REGION,
    shedder,
  });
  const services: Services = {
    search,
    catalog,
    admin: new AdminService(db, importer, media, catalog, core.ingest, { enabled: Boolean(config.ADMIN_API_KEY) }),
    adaptation: core.adaptation,
    fetchImageUrl: (url) =>
      fetchImage(url, {
        timeoutMs: config.IMAGE_URL_TIMEOUT_MS,
        maxBytes: config.UPLOAD_MAX_BYTES,
        allowPrivate: config.IMAGE_URL_ALLOW_PRIVATE,
      }),
  };

  if (config.DEMO_CATALOG !== 'none' && (await db.catalog.countProducts()) === 0) {
    const started = Date.now();
    const count = await loadDemoCatalog(importer, logger, config.DEMO_CATALOG);
    logger.info({ products: count, ms: Date.now() - started }, 'demo catalog loaded');
  }
  // Embeddings are kept per model: a catalog stored under another model version finds nothing here.
  const [images, embedded] = await Promise.all([db.catalog.countImages(), db.vectors.count(vectorModel.key)]);
  if (images > 0 && embedded === 0) {
    logger.warn(
      { images, model: vectorModel.key },
      `none of the catalog's ${images} images has an embedding for ${vectorModel.key} (they were stored with another model version): searches find nothing until the catalog is embedded again (the embedded demo: delete ${config.DATA_DIR} and start again)`,
    );
  }

  const schema = await buildApiSchema();
  const apollo = await createApollo(schema, logger, {
    maxCost: config.QUERY_MAX_COST,
    maxSearches: config.QUERY_MAX_SEARCHES,
  });
  let stopping = false;
  const app = createApp({
    apollo,
    services,
    mediaRoot,
    adminApiKey: config.ADMIN_API_KEY,
    uploadMaxBytes: config.UPLOAD_MAX_BYTES,
    uploadMaxFiles: config.UPLOAD_MAX_FILES,
    rateLimitPerMinute: config.RATE_LIMIT_PER_MINUTE,
    refuseIfOverloaded: () => shedder.refuseIfSaturated(),
    health: {
      info: () => ({ database: db.kind, model: models.info.key, provider: models.provider }),
      checks: {
        // A stopping server finishes its requests but should get no new ones.
        server: async () => ({ ok: !stopping, ...(stopping && { stopping: true }), load: shedder.load }),
        database: async () => {
          await db.ping();
          return { ok: true, kind: db.kind };
        },
        migrations: async () => {
          const pending = await db.pendingMigrations();
          return { ok: pending.length === 0, pending };
        },
        models: async () => ({ ok: true, key: models.info.key, provider: models.provider }),
      },
    },
    logger,
  });
  // A slow or stalled request (headers or body) gets 408 and its socket back, instead of holding
  // it; the timeouts are checked every second (node's default: every 30 s).
  const server = createServer(
    {
      requestTimeout: config.REQUEST_TIMEOUT_MS,
      headersTimeout: Math.min(config.REQUEST_TIMEOUT_MS, 10_000),
      connectionsCheckingInterval: 1000,
    },
    app,
  );
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(config.PORT, config.HOST, () => resolve());
  });

  // Expired searches are of no use (rerankSearch refuses them) and ~20 KB each.
  const prune = () =>
    search.pruneExpired().then(
      (pruned) => pruned && logger.info({ pruned }, 'expired searches pruned'),
      (err) => logger.warn({ err }, 'pruning expired searches failed'),
    );
  void prune();
  const pruning = setInterval(prune, config.SEARCH_PRUNE_INTERVAL_MINUTES * 60_000).unref();
  const address = server.address();
  const port = typeof address === 'object' && address ? address.port : config.PORT;
  const url = (config.PUBLIC_URL ?? `http://localhost:${port}`).replace(/\/$/, '');

  return {
    server,
    url,
    services,
    importer,
    ingest: core.ingest,
    db,
    async close() {
      stopping = true;
      clearInterval(pruning);
      const drained = await drainServer(server, config.SHUTDOWN_TIMEOUT_MS);
      if (!drained)
        logger.warn(
          { timeoutMs: config.SHUTDOWN_TIMEOUT_MS },
          'requests still running at the shutdown deadline were cut off',
        );
      await apollo.stop();
      await core.close();
    },
  };
}
