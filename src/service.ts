import { mkdir } from 'node:fs/promises';
import type { Server } from 'node:http';
import path from 'node:path';
import type { Logger } from 'pino';
import { CatalogService } from './catalog/catalog-service.js';
import { ProductImporter } from './catalog/product-importer.js';
import type { Config } from './config.js';
import { openDatabase, type Database, type VectorModel } from './db/index.js';
import { loadDemoCatalog } from './demo/load-demo.js';
import { createApp } from './http/app.js';
import { buildApiSchema, createApollo } from './http/graphql.js';
import { AdminService } from './ingest/admin-service.js';
import { IngestService, ingestSettings } from './ingest/ingest-service.js';
import { loadModels, type Models } from './ml/index.js';
import type { Services } from './resolvers/context.js';
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
  const importer = new ProductImporter(db, models, media, vectorModel, {
    maxPixels: config.IMAGE_MAX_PIXELS,
    nearDuplicates: {
      action: config.NEAR_DUP_ACTION,
      maxHamming: config.NEAR_DUP_MAX_HAMMING,
      maxDistance: config.NEAR_DUP_MAX_DISTANCE,
    },
  });
  const ingest = new IngestService(db, importer, media, ingestSettings(config), logger.child({ component: 'ingest' }));
  return {
    db,
    models,
    media,
    mediaRoot,
    vectorModel,
    importer,
    ingest,
    async close() {
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
  const search = new SearchService(db, models, catalog, vectorModel, {
    maxPixels: config.IMAGE_MAX_PIXELS,
    searchTtlMs: config.SEARCH_TTL_HOURS * 3600_000,
    autoRegion: config.AUTO_REGION,
  });
  const services: Services = {
    search,
    catalog,
    admin: new AdminService(db, importer, media, catalog, core.ingest, { enabled: Boolean(config.ADMIN_API_KEY) }),
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

  const apollo = await createApollo(await buildApiSchema(), logger);
  const app = createApp({
    apollo,
    services,
    mediaRoot,
    adminApiKey: config.ADMIN_API_KEY,
    uploadMaxBytes: config.UPLOAD_MAX_BYTES,
    uploadMaxFiles: config.UPLOAD_MAX_FILES,
    health: async () => ({ database: db.kind, model: models.info.key, provider: models.provider }),
    logger,
  });
  const server = await new Promise<Server>((resolve, reject) => {
    const s = app.listen(config.PORT, config.HOST, () => resolve(s));
    s.once('error', reject);
  });
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
      await new Promise<void>((resolve) => server.close(() => resolve()));
      server.closeAllConnections();
      await apollo.stop();
      await core.close();
    },
  };
}
