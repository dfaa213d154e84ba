// The database edge's typed interface. Nothing here knows about GraphQL or ML runtimes.
import type { Prisma, PrismaClient } from '../../generated/prisma/client.js';

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

export interface Database {
  kind: DatabaseKind;
  prisma: PrismaClient;
  /** Applies pending SQL migrations (idempotent, safe with concurrent starters). Returns names applied. */
  migrate(): Promise<string[]>;
  /** Registers a model and creates its HNSW index if missing. */
  ensureVectorModel(model: VectorModel): Promise<void>;
  /** Top-k products by distance, one entry per product (its best image), filters applied in the scan. */
  nearestProducts(query: NearestQuery): Promise<NearestHit[]>;
  /**
   * Inserts or replaces the embedding (and scorer features) of an image under a model.
   * Pass `tx` (from prisma.$transaction(async (tx) => …)) to write inside your own transaction.
   */
  upsertEmbedding(
    imageId: string,
    model: VectorModel,
    vector: Float32Array,
    features: Float32Array,
    tx?: Prisma.TransactionClient,
  ): Promise<void>;
  /** Batch form of upsertEmbedding (multi-row INSERT … ON CONFLICT; the last item per image wins). */
  upsertEmbeddings(
    model: VectorModel,
    items: Array<{ imageId: string; vector: Float32Array; features: Float32Array }>,
    tx?: Prisma.TransactionClient,
  ): Promise<void>;
  /** Stored embeddings of images, for "more like this" and re-ranking. */
  getEmbeddings(
    imageIds: string[],
    model: VectorModel,
  ): Promise<Map<string, { vector: Float32Array; features: Float32Array }>>;
  /** HNSW parameters of a model's index (for catalogStats). */
  indexInfo(model: VectorModel): Promise<{ name: string; m: number; efConstruction: number; efSearch: number } | null>;
  /** EXPLAIN (COSTS OFF) of the statement nearestProducts runs for this query, same settings. */
  explainNearest(query: NearestQuery): Promise<string>;
  /** Server and pgvector versions, and whether filtered searches use iterative index scans. */
  serverInfo(): Promise<{ serverVersion: string; vectorVersion: string | null; iterativeScan: boolean }>;
  /**
   * Refreshes planner statistics (ANALYZE products, product_images, image_embeddings). Without
   * them the planner may skip the HNSW index, and PGlite never runs autovacuum. Searches run it
   * by themselves after 200+ (and 10%+) new embeddings written through this object, and, on the
   * embedded database, when pg_stat_user_tables shows big changes (checked every 10 s); call it
   * after a bulk load so that the very next search is planned well.
   */
  analyze(): Promise<void>;
  /** Cheap liveness check (SELECT 1) for /healthz; throws when the database is unreachable. */
  ping(): Promise<void>;
  /** Embedded only: the PGlite data folder (<dataDir>/pgdata). */
  pgdataDir?: string;
  close(): Promise<void>;
}
