// The database edge: openDatabase() gives the Database the rest of the service uses, its
// repositories built over the client, or over a transaction for a unit of work.
import type pino from 'pino';
import { adaptationJobRepository } from './adaptation-jobs.js';
import { catalogReads } from './catalog-reads.js';
import { catalogWrites, saveProducts } from './catalog-writes.js';
import { createClient, createPostgresClient, safeHost, type Client } from './client.js';
import { embeddingRepository, upsertEmbeddings } from './embeddings.js';
import { ingestRunRepository, recordIngestItems } from './ingest-runs.js';
import { modelVersionRepository } from './model-versions.js';
import { defaultMigrationsDir, migrate as runMigrations, readMigrations } from './migrator.js';
import { withOutageErrors } from './outages.js';
import { nearDuplicateRepository, recordNearDuplicates } from './near-duplicates.js';
import { plannerStats, staleTables, type PlannerStats } from './planner-stats.js';
import { firstLine, replicaRouter, routedReads, type DatabaseStatus, type Replica } from './replicas.js';
import { clientScope, type DriverStatement, type Scope } from './scope.js';
import { searchRepository } from './searches.js';
import { searchSettingsOf, serverInfo, type SearchSettings } from './server-info.js';
import type { Database, Repositories, UnitOfWork } from './types.js';
import { vectorModelRepository, type VectorStorage } from './vector-models.js';
import { searchSessionSettings, vectorSearch } from './vector-search.js';

export type * from './types.js';
export type { AdaptationJobRow, AdaptationJobUpdate, AdaptationStatus, TrainingImage } from './adaptation-jobs.js';
export type { CatalogReads, KnownImage, StoredImage, StoredProduct } from './catalog-reads.js';
export type { ImageRecord, ProductWrite, SavedProduct } from './catalog-writes.js';
export type { ProductPatch, ProductRecord } from './product-fields.js';
export type { FailureRecord, IngestRunRow, ItemRecord, NearDuplicateGroup } from './ingest-runs.js';
export type { KnownNearDuplicate, NearDuplicateRecord } from './near-duplicates.js';
export type { NewSearch, SearchRepository, SearchToRerank, StoredHit } from './searches.js';
export type { SearchSettings } from './server-info.js';
export type { ActivateOutcome, ModelRow, ModelStatus, NewModel } from './model-versions.js';
export type { DatabaseStatus } from './replicas.js';
export { MigrationError } from './migrator.js';
export { isOutage } from './outages.js';
export { VECTOR_STORAGES, VectorModelError, indexName, type VectorStorage } from './vector-models.js';

export interface OpenDatabaseOptions {
  /** postgresql://… ; absent: the embedded PGlite database in <dataDir>/pgdata. */
  url?: string;
  /** postgresql://… of hot standbys of `url` (DATABASE_REPLICA_URLS): lag-tolerant reads go there. */
  replicaUrls?: string[];
  dataDir: string;
  /** hnsw.ef_search for ANN searches (HNSW_EF_SEARCH). */
  efSearch: number;
  /** How the HNSW indexes hold embeddings (VECTOR_STORAGE); default `vector`. */
  vectorStorage?: VectorStorage;
  logger: pino.Logger;
  /** Folder of <name>/migration.sql; default: this package's prisma/migrations. */
  migrationsDir?: string;
}

export async function openDatabase(opts: OpenDatabaseOptions): Promise<Database> {
  const logger = opts.logger.child({ component: 'db' });
  const replicaUrls = opts.replicaUrls ?? [];
  if (replicaUrls.length && !opts.url) throw new Error('read replicas need a primary: set DATABASE_URL with DATABASE_REPLICA_URLS');
  const sessionSettings = searchSessionSettings(opts.efSearch);
  const client = await createClient({ url: opts.url, dataDir: opts.dataDir, logger, sessionSettings });
  logger.info(
    client.kind === 'embedded' ? { kind: client.kind, pgdataDir: client.pgdataDir } : { kind: client.kind, host: safeHost(opts.url!) },
    'database opened',
  );
  const replicas = await Promise.all(
    replicaUrls.map(async (url): Promise<Replica> => ({ host: safeHost(url), client: await createPostgresClient(url, sessionSettings, logger, 'vps-replica-reads', false) })),
  );
  if (replicas.length) logger.info({ replicas: replicas.map((r) => r.host) }, 'read replicas');
  return databaseOver(client, opts, logger, replicas);
}

async function appliedMigrations(q: Client['prisma']): Promise<Set<string>> {
  const done = await q.$queryRaw<{ name: string }[]>`
    SELECT migration_name AS name FROM "_prisma_migrations" WHERE finished_at IS NOT NULL AND rolled_back_at IS NULL`;
  return new Set(done.map((r) => r.name));
}

/** Replicas never ANALYZE (a hot standby cannot; the primary's statistics arrive with the WAL). */
const replicaStats = (primary: PlannerStats): PlannerStats => ({
  wrote: () => undefined,
  // Searches run on replicas now: they still ask the primary to refresh statistics after bulk writes.
  fresh: async () => void primary.fresh().catch(() => undefined),
  analyze: () => primary.analyze('requested'),
});

/** The Database over an open client (tests that also need the client's raw connections use it). */
export function databaseOver(
  client: Client,
  opts: Pick<OpenDatabaseOptions, 'efSearch' | 'migrationsDir' | 'vectorStorage'>,
  logger: pino.Logger,
  replicas: Replica[] = [],
): Database {
  const { prisma } = client;
  const storage = opts.vectorStorage ?? 'vector';
  const stats = plannerStats(prisma, logger);
  const settings = searchSettingsOf(prisma, opts.efSearch, logger);
  const repositories = (scope: Scope): Repositories => ({
    catalog: { ...catalogReads(scope), ...catalogWrites(scope, storage, stats) },
    vectors: { ...embeddingRepository(scope, storage, stats), ...vectorSearch(scope, storage, stats, settings, client.sessionSettings) },
    searches: searchRepository(scope),
    ingestRuns: ingestRunRepository(scope),
    nearDuplicates: nearDuplicateRepository(scope, storage, stats),
  });
  // A unit of work's writes, bound to its transaction's statements (the repositories run the same
  // functions, each in a transaction of its own).
  const unitOfWork = (sql: DriverStatement): UnitOfWork => ({
    catalog: { saveProducts: (model, writes) => saveProducts(sql, storage, stats, model, writes) },
    vectors: { upsert: (model, items) => upsertEmbeddings(sql, storage, stats, model, items) },
    nearDuplicates: { record: (records) => recordNearDuplicates(sql, records) },
    ingestRuns: { recordItems: (...args) => recordIngestItems(sql, ...args) },
  });
  // Lag-tolerant reads: on the replicas in turn, on the primary when none answers.
  const router = replicaRouter(replicas, logger);
  const primary = repositories(clientScope(client));
  // What a search reads: the nearest-neighbour SQL, and stored embeddings (re-rank, "more like this").
  const searchReadsOf = (c: Client, st: PlannerStats, set: () => Promise<SearchSettings>) => {
    const { get, count } = embeddingRepository(clientScope(c), storage, st);
    // Replicas' connections start with the primary's session settings: the fast path holds there too.
    return { ...vectorSearch(clientScope(c), storage, st, set, client.sessionSettings), get, count };
  };
  const onReplicas = replicas.map(({ client: r }) => ({
    catalog: catalogReads(clientScope(r)),
    vectors: searchReadsOf(r, replicaStats(stats), searchSettingsOf(r.prisma, opts.efSearch, logger)),
  }));
  const searchReads = routedReads(router, searchReadsOf(client, stats, settings), onReplicas.map((r) => r.vectors));
  let migrationNames: Promise<string[]> | undefined;
  // Every call that fails because the database is unreachable throws DATABASE_UNAVAILABLE.
  return withOutageErrors<Database>({
    kind: client.kind,
    pgdataDir: client.pgdataDir,
    ...primary,
    // Searches read from the replicas; embedding writes stay on the primary.
    vectors: { ...primary.vectors, ...searchReads },
    replicaCatalog: routedReads(router, catalogReads(clientScope(client)), onReplicas.map((r) => r.catalog)),
    models: vectorModelRepository(clientScope(client), storage, opts.efSearch, logger),
    modelVersions: modelVersionRepository(clientScope(client), storage),
    adaptationJobs: adaptationJobRepository(clientScope(client)),
    transaction: (work) => client.driverTransaction((sql) => work(unitOfWork(sql))),
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
    // A lag-tolerant read: readiness keeps answering from a replica while the primary is down.
    pendingMigrations: async () => {
      migrationNames ??= readMigrations(opts.migrationsDir ?? defaultMigrationsDir()).then((files) => files.map((f) => f.name));
      const done = await router.read((i) => appliedMigrations(replicas[i]!.client.prisma), () => appliedMigrations(prisma));
      return (await migrationNames).filter((name) => !done.has(name));
    },
    databases: async () => {
      const primaryStatus: Promise<DatabaseStatus> = prisma.$queryRaw`SELECT 1`.then(
        () => ({ role: 'primary', host: client.host, reachable: true }),
        (error: unknown) => ({ role: 'primary', host: client.host, reachable: false, error: firstLine(error) }),
      );
      return [await primaryStatus, ...(await router.status())];
    },
    close: async () => {
      await router.close();
      await client.close();
    },
  });
}
