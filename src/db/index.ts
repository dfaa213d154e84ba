// The database edge: openDatabase() gives the Database the rest of the service uses.
import type pino from 'pino';
import { createClient, safeHost } from './client.js';
import { migrate as runMigrations } from './migrator.js';
import type { Database } from './types.js';
import * as vectors from './vectors.js';

export type * from './types.js';
export { MigrationError } from './migrator.js';
export { VectorModelError, indexName } from './vectors.js';
export { bytesToFloat32, float32ToBytes } from './floats.js';

export interface OpenDatabaseOptions {
  /** postgresql://… ; absent: the embedded PGlite database in <dataDir>/pgdata. */
  url?: string;
  dataDir: string;
  /** hnsw.ef_search for ANN searches (HNSW_EF_SEARCH). */
  efSearch: number;
  logger: pino.Logger;
  /** Folder of <name>/migration.sql; default: this package's prisma/migrations. */
  migrationsDir?: string;
}

export async function openDatabase(opts: OpenDatabaseOptions): Promise<Database> {
  const logger = opts.logger.child({ component: 'db' });
  const client = await createClient({ url: opts.url, dataDir: opts.dataDir, logger });
  const { prisma } = client;
  logger.info(
    client.kind === 'embedded' ? { kind: client.kind, pgdataDir: client.pgdataDir } : { kind: client.kind, host: safeHost(opts.url!) },
    'database opened',
  );

  // What the server's pgvector can do; read once the extension exists (after migrating).
  let settings: Promise<vectors.SearchSettings> | undefined;
  const searchSettings = () =>
    (settings ??= vectors
      .serverInfo(prisma)
      .then((info) => {
        if (!info.vectorVersion) {
          throw new Error('the vector extension is not installed in this database: run the migrations first (db.migrate())');
        }
        if (!info.iterativeScan) {
          logger.warn({ vectorVersion: info.vectorVersion }, 'pgvector < 0.8: no iterative index scans; filtered searches use ef_search=1000');
        }
        return { efSearch: opts.efSearch, iterativeScan: info.iterativeScan };
      })
      .catch((err: unknown) => {
        settings = undefined; // ask again next time
        throw err;
      }));

  // Planner statistics after writes. Without them the planner may skip the HNSW index; PGlite has
  // no autovacuum. Before a search: ANALYZE when many embeddings were written through this object,
  // or (embedded, checked every 10 s) when pg_stat_user_tables says the tables changed a lot.
  let written = 0;
  let writtenAtAnalyze = 0;
  let lastStatsCheck = 0;
  let analyzing: Promise<void> | undefined;
  const runAnalyze = (reason: string) =>
    (analyzing ??= (async () => {
      const started = Date.now();
      writtenAtAnalyze = written;
      lastStatsCheck = started;
      await vectors.analyze(prisma);
      logger.debug({ reason, ms: Date.now() - started }, 'tables analyzed');
    })().finally(() => {
      analyzing = undefined;
    }));
  const freshStats = async () => {
    if (analyzing) return analyzing;
    if (written - writtenAtAnalyze >= Math.max(200, writtenAtAnalyze * 0.1)) return runAnalyze('embeddings written');
    if (client.kind === 'embedded' && Date.now() - lastStatsCheck > 10_000) {
      lastStatsCheck = Date.now();
      const stale = await vectors.staleTables(prisma);
      if (stale.length) return runAnalyze(`changed: ${stale.join(', ')}`);
    }
  };
  const wrote = (n: number) => {
    written += n;
  };

  return {
    kind: client.kind,
    prisma,
    pgdataDir: client.pgdataDir,
    migrate: async () => {
      const applied = await runMigrations({ connect: client.connectForMigrations, logger, migrationsDir: opts.migrationsDir });
      if (applied.length === 0) logger.debug('database schema up to date');
      return applied;
    },
    ensureVectorModel: (model) => vectors.ensureVectorModel(prisma, model, logger),
    nearestProducts: async (query) => {
      const settings = await searchSettings();
      await freshStats();
      return vectors.nearestProducts(prisma, query, settings);
    },
    explainNearest: async (query) => {
      const settings = await searchSettings();
      await freshStats();
      return vectors.explainNearest(prisma, query, settings);
    },
    upsertEmbedding: async (imageId, model, vector, features, tx) => {
      await vectors.upsertEmbeddings(tx ?? prisma, model, [{ imageId, vector, features }]);
      wrote(1);
    },
    upsertEmbeddings: async (model, items, tx) => {
      await vectors.upsertEmbeddings(tx ?? prisma, model, items);
      wrote(items.length);
    },
    getEmbeddings: (imageIds, model) => vectors.getEmbeddings(prisma, imageIds, model),
    indexInfo: (model) => vectors.indexInfo(prisma, model, opts.efSearch),
    serverInfo: () => vectors.serverInfo(prisma),
    analyze: () => runAnalyze('requested'),
    ping: async () => {
      await prisma.$queryRaw`SELECT 1`;
    },
    close: () => client.close(),
  };
}
