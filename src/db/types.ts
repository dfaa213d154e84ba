// The database edge's typed interface: the Database and the repositories behind it, the only
// code that touches Prisma or SQL. Nothing here knows about GraphQL or ML runtimes.
import type { AdaptationJobRepository } from './adaptation-jobs.js';
import type { CatalogReads } from './catalog-reads.js';
import type { DatabaseStatus } from './replicas.js';
import type { CatalogWrites } from './catalog-writes.js';
import type { EmbeddingRepository } from './embeddings.js';
import type { IngestRunRepository } from './ingest-runs.js';
import type { ModelVersionRepository } from './model-versions.js';
import type { NearDuplicateRepository } from './near-duplicates.js';
import type { SearchRepository } from './searches.js';
import type { ServerInfo } from './server-info.js';
import type { VectorModelRepository } from './vector-models.js';
import type { VectorSearch } from './vector-search.js';

export type DatabaseKind = 'embedded' | 'postgres';

/** Filters shared by vector search and catalog listing. All optional; combined with AND. */
export interface ProductFilter {
  category?: string[];
  colour?: string[];
  brand?: string[];
  minPrice?: number;
  maxPrice?: number;
  /** Case-insensitive substring match over the title. */
  keyword?: string;
}

/** A model the catalog holds embeddings for (one partial HNSW index each). */
export interface VectorModel {
  key: string;
  dim: number;
  metric: 'l2' | 'cosine' | 'ip';
  /** Stored in vector_models when the model is first registered (defaults: key, ''). */
  name?: string;
  version?: string;
}

export interface NearestQuery {
  model: VectorModel;
  vector: Float32Array;
  k: number;
  filter?: ProductFilter;
  /** Leave this product out (the "more like this" source). */
  excludeProductId?: string;
  /** true: sequential exact scan, no index (evaluation baseline). */
  exact?: boolean;
}

/** One product, with its closest image. */
export interface NearestHit {
  productId: string;
  imageId: string;
  distance: number;
}

export type CatalogRepository = CatalogReads & CatalogWrites;
export type VectorRepository = EmbeddingRepository & VectorSearch;

/** The repositories, on the client: each call is its own statement or transaction. */
export interface Repositories {
  /** Products and images. */
  catalog: CatalogRepository;
  /** Embeddings and nearest-neighbour search. */
  vectors: VectorRepository;
  searches: SearchRepository;
  ingestRuns: IngestRunRepository;
  nearDuplicates: NearDuplicateRepository;
}

/**
 * What a unit of work writes, bound to its transaction: the catalog's batch writes, which run on
 * the driver as plain SQL (Prisma's engine cost ~3 ms of CPU per product on the service's thread).
 */
export interface UnitOfWork {
  catalog: Pick<CatalogWrites, 'saveProducts'>;
  vectors: Pick<EmbeddingRepository, 'upsert'>;
  nearDuplicates: Pick<NearDuplicateRepository, 'record'>;
  ingestRuns: Pick<IngestRunRepository, 'recordItems'>;
}

export interface Database extends Repositories {
  kind: DatabaseKind;
  /** Embedded only: the PGlite data folder (<dataDir>/pgdata). */
  pgdataDir?: string;
  /**
   * The catalog reads that tolerate replication lag (browsing, search results): on a read replica
   * when DATABASE_REPLICA_URLS names any, else the same as `catalog`. Read back what you just
   * wrote through `catalog` (the primary). (`vectors.nearest` and `explain` route the same way.)
   */
  replicaCatalog: CatalogReads;
  /** Each database server: the primary (or embedded database) first, then the replicas, with reachability and lag. */
  databases(): Promise<DatabaseStatus[]>;
  /** Vector models and their HNSW indexes (registration runs its own transaction). */
  models: VectorModelRepository;
  /** Model versions: status, re-embedding progress and lease, activation, retirement. */
  modelVersions: ModelVersionRepository;
  /** Catalog adaptation jobs (src/adapt) and the catalog photos they train on. */
  adaptationJobs: AdaptationJobRepository;
  /**
   * Runs `work` in one transaction: what it writes through the repositories it is given commits
   * together or not at all. Keep it short (PGlite has one connection).
   */
  transaction<T>(work: (tx: UnitOfWork) => Promise<T>): Promise<T>;
  /** Applies pending SQL migrations (idempotent, safe with concurrent starters). Returns names applied. */
  migrate(): Promise<string[]>;
  /** Server and pgvector versions, and whether filtered searches use iterative index scans. */
  serverInfo(): Promise<ServerInfo>;
  /**
   * Refreshes planner statistics (ANALYZE products, product_images, image_embeddings). Searches
   * and near-duplicate lookups run it by themselves when the policy in planner-stats.ts says the
   * statistics are stale; call it after a bulk load so that the very next search is planned well.
   */
  analyze(): Promise<void>;
  /** The searched tables that changed enough since their last ANALYZE to need one (diagnostics). */
  staleTables(): Promise<string[]>;
  /** Cheap liveness check (SELECT 1); throws when the database is unreachable. */
  ping(): Promise<void>;
  /** The migrations in the migrations folder that this database has not applied (readiness). */
  pendingMigrations(): Promise<string[]>;
  close(): Promise<void>;
}
