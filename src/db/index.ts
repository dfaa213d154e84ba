// The database edge: openDatabase() gives the Database the rest of the service uses, its
// repositories built over the client, or over a transaction for a unit of work.
import type pino from 'pino';
import { adaptationJobRepository } from './adaptation-jobs.js';
import { catalogReads } from './catalog-reads.js';
import { catalogWrites } from './catalog-writes.js';
import { createClient, safeHost, type Client } from './client.js';
import { embeddingRepository } from './embeddings.js';
import { ingestRunRepository } from './ingest-runs.js';
import { defaultMigrationsDir, migrate as runMigrations, readMigrations } from './migrator.js';
import { withOutageErrors } from './outages.js';
import { nearDuplicateRepository } from './near-duplicates.js';
import { plannerStats, staleTables } from './planner-stats.js';
import { clientScope, transactionScope, type Scope } from './scope.js';
import { searchRepository } from './searches.js';
import { searchSettingsOf, serverInfo } from './server-info.js';
import type { Database, Repositories } from './types.js';
import { vectorModelRepository } from './vector-models.js';
import { vectorSearch } from './vector-search.js';

export type * from './types.js';
export type { AdaptationJobRow, AdaptationJobUpdate, AdaptationStatus, TrainingImage } from './adaptation-jobs.js';
export type { KnownImage, StoredImage, StoredProduct } from './catalog-reads.js';
export type { ImageRecord, ProductWrite, SavedProduct } from './catalog-writes.js';
export type { ProductPatch, ProductRecord } from './product-fields.js';
export type { FailureRecord, IngestRunRow, ItemRecord, NearDuplicateGroup } from './ingest-runs.js';
export type { KnownNearDuplicate, NearDuplicateRecord } from './near-duplicates.js';
export type { NewSearch, StoredHit } from './searches.js';
export type { SearchSettings } from './server-info.js';
export { MigrationError } from './migrator.js';
export { isOutage } from './outages.js';
export { VectorModelError, indexName } from './vector-models.js';
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
  logger.info(
    client.kind === 'embedded' ? { kind: client.kind, pgdataDir: client.pgdataDir } : { kind: client.kind, host: safeHost(opts.url!) },
    'database opened',
  );
  return databaseOver(client, opts, logger);
}

/** The Database over an open client (tests that also need the client's raw connections use it). */
export function databaseOver(client: Client, opts: Pick<OpenDatabaseOptions, 'efSearch' | 'migrationsDir'>, logger: pino.Logger): Database {
  const { prisma } = client;
  const stats = plannerStats(prisma, client.kind, logger);
  const settings = searchSettingsOf(prisma, opts.efSearch, logger);
  const repositories = (scope: Scope): Repositories => ({
    catalog: { ...catalogReads(scope), ...catalogWrites(scope, stats) },
    vectors: { ...embeddingRepository(scope, stats), ...vectorSearch(scope, stats, settings) },
    searches: searchRepository(scope),
    ingestRuns: ingestRunRepository(scope),
    nearDuplicates: nearDuplicateRepository(scope, stats),
  });
  let migrationNames: Promise<string[]> | undefined;
  // Every call that fails because the database is unreachable throws DATABASE_UNAVAILABLE.
  return withOutageErrors<Database>({
    kind: client.kind,
    pgdataDir: client.pgdataDir,
    ...repositories(clientScope(prisma)),
    models: vectorModelRepository(clientScope(prisma), opts.efSearch, logger),
    adaptationJobs: adaptationJobRepository(clientScope(prisma)),
    transaction: (work) => prisma.$transaction((tx) => work(repositories(transactionScope(tx)))),
    migrate: async () => {
      const applied = await runMigrations({ connect: client.connectForMigrations, logger, migrationsDir: opts.migrationsDir });
      if (applied.length === 0) logger.debug('database schema up to date');
      return applied;
    },
    serverInfo: () => serverInfo(prisma),
    analyze: () => stats.analyze('requested'),
    staleTables: () => staleTables(prisma),
    ping: async () => {
      await prisma.$queryRaw`SELECT 1`;
    },
    pendingMigrations: async () => {
      migrationNames ??= readMigrations(opts.migrationsDir ?? defaultMigrationsDir()).then((files) => files.map((f) => f.name));
      const done = await prisma.$queryRaw<{ name: string }[]>`
        SELECT migration_name AS name FROM "_prisma_migrations" WHERE finished_at IS NOT NULL AND rolled_back_at IS NULL`;
      const applied = new Set(done.map((r) => r.name));
      return (await migrationNames).filter((name) => !applied.has(name));
    },
    close: () => client.close(),
  });
}
