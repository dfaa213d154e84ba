import { mkdir } from 'node:fs/promises';
import { createServer, type Server } from 'node:http';
import path from 'node:path';
import type { Logger } from 'pino';
import { AdaptationService, type ModelRegistrar } from './adapt/adaptation-service.js';
import { baseModelFrom } from './adapt/base-model.js';
import { CatalogService } from './catalog/catalog-service.js';
import { ProductImporter } from './catalog/product-importer.js';
import { imageLimits, type Config } from './config.js';
import { openDatabase, type Database } from './db/index.js';
import { loadDemoCatalog } from './demo/load-demo.js';
import { createApp } from './http/app.js';
import { drainServer } from './http/drain.js';
import { Metrics } from './http/metrics.js';
import { buildApiSchema, createApollo } from './http/graphql.js';
import { AdminService } from './ingest/admin-service.js';
import { IngestService, ingestSettings } from './ingest/ingest-service.js';
import { loadModels } from './ml/index.js';
import { ModelService } from './models/model-service.js';
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
  /** Model versions; current() is the active model, the one searches use. */
  models: ModelService;
  /** Catalog adaptation jobs (npm run adapt, startAdaptation). */
  adaptation: AdaptationService;
  media: MediaStore;
  mediaRoot: string;
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

  const db = await openDatabase({
    url: config.DATABASE_URL,
    replicaUrls: config.DATABASE_REPLICA_URLS,
    dataDir,
    efSearch: config.HNSW_EF_SEARCH,
    vectorStorage: config.VECTOR_STORAGE,
    logger,
  });
  const applied = await db.migrate();
  if (applied.length) logger.info({ applied }, 'database migrations applied');
  const indexes = await db.modelVersions.syncIndexes();
  if (indexes.created.length || indexes.dropped.length) logger.info({ ...indexes, storage: config.VECTOR_STORAGE }, 'vector indexes rebuilt for VECTOR_STORAGE');

  const media = new MediaStore(mediaRoot);
  const tempFiles = await media.removeStaleTempFiles();
  if (tempFiles) logger.info({ removed: tempFiles }, 'removed temp files of interrupted media writes');
  let models: ModelService;
  try {
    models = await ModelService.open(db, media, {
      modelsDir: path.resolve(config.MODELS_DIR),
      load: (modelsDir) =>
        loadModels({ modelsDir, providers: config.ML_PROVIDERS, batchSize: config.ML_BATCH_SIZE, workers: config.ML_WORKERS, ...(config.ML_THREADS ? { threads: config.ML_THREADS } : {}), logger }),
      imageLimits: imageLimits(config),
      reembed: { batchSize: config.REEMBED_BATCH_SIZE, pauseMs: config.REEMBED_PAUSE_MS, pauseFactor: config.REEMBED_PAUSE_FACTOR },
      pollMs: config.MODEL_POLL_MS,
      logger,
    });
  } catch (err) {
    await db.close();
    throw err;
  }
  const importer = new ProductImporter(db, models, media, {
    imageLimits: imageLimits(config),
    nearDuplicates: {
      action: config.NEAR_DUP_ACTION,
      maxHamming: config.NEAR_DUP_MAX_HAMMING,
      maxDistance: config.NEAR_DUP_MAX_DISTANCE,
    },
  });
  const ingest = new IngestService(db, importer, media, ingestSettings(config), logger.child({ component: 'ingest' }));
  // An adapted folder becomes a model version: registered (the catalog is re-embedded into it) and,
  // when asked, activated once that is done.
  const registrar: ModelRegistrar = {
    register: async (dir) => ({ key: (await models.register(dir)).key }),
    activate: async (key) => {
      await models.whenIndexed(key);
      await models.activate(key);
    },
  };
  const adaptation = new AdaptationService(db, {
    dataDir,
    mediaRoot,
    // Adaptation starts from the model searches use now.
    base: async () => baseModelFrom(await models.activeFolder()),
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
  const { db, models, media, mediaRoot, importer } = core;
  // Shoppers read from the replicas (when configured); admin mutations read back from the primary.
  const catalog = new CatalogService(db, media, models, db.replicaCatalog);
  const primaryCatalog = new CatalogService(db, media, models);
  const shedder = new LoadShedder({
    maxConcurrent: config.SEARCH_MAX_CONCURRENT,
    maxQueue: config.SEARCH_MAX_QUEUE,
    maxQueueWaitMs: config.SEARCH_MAX_QUEUE_WAIT_MS,
  });
  const metrics = new Metrics();
  const search = new SearchService(db, models, catalog, {
    imageLimits: imageLimits(config),
    searchTtlMs: config.SEARCH_TTL_HOURS * 3600_000,
    autoRegion: config.AUTO_REGION,
    shedder,
    recentSearchBytes: Math.round(config.SEARCH_MEMORY_MB * 2 ** 20),
    onRecordWriteFailed: (err, searches) => {
      metrics.recordWriteFailed(searches);
      logger.warn({ err, searches }, 'search records could not be written (they stay re-rankable from memory)');
    },
  });
  const services: Services = {
    search,
    catalog,
    models,
    admin: new AdminService(db, importer, media, primaryCatalog, core.ingest, { enabled: Boolean(config.ADMIN_API_KEY) }),
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
  // Registered models re-embed the catalog in the background; another process's activation is picked up here.
  models.startBackground();

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
    uploadMemoryBytes: config.UPLOAD_MEMORY_MB * 2 ** 20,
    rateLimitPerMinute: config.RATE_LIMIT_PER_MINUTE,
    trustProxy: config.TRUST_PROXY,
    refuseIfOverloaded: () => shedder.refuseIfSaturated(),
    metrics,
    health: {
      info: () => ({ database: db.kind, model: models.current().vectorModel.key, provider: models.current().models.provider }),
      checks: {
        // A stopping server finishes its requests but should get no new ones.
        server: async () => ({ ok: !stopping, ...(stopping && { stopping: true }), load: shedder.load }),
        // Ready while any database answers: with the primary down, replicas still serve searches.
        database: async () => {
          const databases = await db.databases();
          return { ok: databases.some((d) => d.reachable), kind: db.kind, databases };
        },
        migrations: async () => {
          const pending = await db.pendingMigrations();
          return { ok: pending.length === 0, pending };
        },
        models: async () => ({ ok: true, key: models.current().vectorModel.key, provider: models.current().models.provider }),
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
      await search.flushRecords();
      await core.close();
    },
  };
}
