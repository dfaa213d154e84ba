// Near-duplicate images: a catalog image whose embedding is among the closest to a newcomer's
// (the model's HNSW index) and whose perceptual hash (64-bit dHash) differs in few bits; and the
// decisions taken about them.
import { Prisma } from '../../generated/prisma/client.js';
import { vectorToSql } from './floats.js';
import type { PlannerStats } from './planner-stats.js';
import type { DriverStatement, Scope } from './scope.js';
import type { VectorModel } from './types.js';
import { METRICS, storedType, type VectorStorage } from './vector-models.js';

export interface NearDuplicateProbe {
  phash: string;
  vector: Float32Array;
}

export interface NearDuplicateMatch {
  /** Index of the probe in the list asked about. */
  probe: number;
  imageId: string;
  productId: string;
  hamming: number;
  distance: number;
}

export interface NearDuplicateThresholds {
  maxHamming: number;
  maxDistance: number;
}

export interface NearDuplicateRecord {
  sha256: string;
  duplicateOf: string;
  /** The newcomer as stored (linked); null when it was skipped. */
  imageId: string | null;
  productId: string | null;
  hamming: number;
  distance: number;
  action: 'linked' | 'skipped';
  runId?: string | null;
}

export interface KnownNearDuplicate {
  duplicateOf: string;
  /** Product of the image it duplicates. */
  ofProductId: string;
  /** The newcomer as stored and its product (linked); null when it was skipped. */
  imageId: string | null;
  productId: string | null;
  action: 'linked' | 'skipped';
  hamming: number;
  distance: number;
}

export interface NearDuplicateRepository {
  /**
   * For each probe, the closest catalog image within maxDistance (embedding) and maxHamming
   * (perceptual hash), if any.
   */
  find(model: VectorModel, probes: NearDuplicateProbe[], limits: NearDuplicateThresholds): Promise<NearDuplicateMatch[]>;
  record(records: NearDuplicateRecord[]): Promise<void>;
  /** Decisions taken earlier about these bytes, by sha256 (so a second ingest reports them the same way). */
  known(sha256s: string[]): Promise<Map<string, KnownNearDuplicate>>;
  /** Decisions recorded in all. */
  count(): Promise<number>;
}

/** Nearest catalog images looked at per probe: a near-duplicate is among the very closest. */
const NEIGHBOURS = 10;

/** Records near-duplicate decisions; a sha256 decided before keeps its first decision. */
export async function recordNearDuplicates(sql: DriverStatement, records: NearDuplicateRecord[]): Promise<void> {
  if (records.length === 0) return;
  await sql(Prisma.sql`
    INSERT INTO near_duplicates (sha256, duplicate_of, image_id, product_id, hamming, distance, action, run_id)
    SELECT sha256, "duplicateOf", "imageId", "productId", hamming, distance, action, "runId"
    FROM jsonb_to_recordset(${JSON.stringify(records.map((r) => ({ ...r, runId: r.runId ?? null })))}::jsonb)
      AS r(sha256 text, "duplicateOf" uuid, "imageId" uuid, "productId" uuid, hamming int, distance real, action text, "runId" uuid)
    ON CONFLICT DO NOTHING`);
}

export function nearDuplicateRepository(scope: Scope, storage: VectorStorage, stats: PlannerStats): NearDuplicateRepository {
  const { q } = scope;
  return {
    async find(model, probes, limits) {
      if (probes.length === 0) return [];
      // Each probe's neighbours come from the HNSW index (a scan of the hashes would grow with
      // the catalog, batch after batch), so the planner needs fresh statistics to use it. The
      // probes' vectors are parsed once, in the unnest: a cast inside the lateral query would parse
      // the text again for every row a sequential scan visits (the planner's choice while the
      // catalog is small: 0.2 ms a row on PGlite, 90 % of an embedded ingest's time).
      await stats.fresh();
      const operator = Prisma.raw(METRICS[model.metric].operator);
      const type = Prisma.raw(storedType(storage, model.dim));
      return scope.sql<NearDuplicateMatch>(Prisma.sql`
        SELECT DISTINCT ON (q.i) (q.i - 1)::int AS probe, n.image_id::text AS "imageId", p.product_id::text AS "productId",
               bit_count(('x' || p.phash)::bit(64) # ('x' || q.h)::bit(64))::int AS hamming, n.distance
        FROM unnest(${probes.map((p) => p.phash)}::text[], ${probes.map((p) => vectorToSql(p.vector, model.dim))}::text[]::${type}[])
             WITH ORDINALITY AS q(h, v, i)
        CROSS JOIN LATERAL (
          SELECT e.image_id, (e.embedding::${type} ${operator} q.v)::float8 AS distance
          FROM image_embeddings e
          WHERE e.model_key = ${model.key}
          ORDER BY e.embedding::${type} ${operator} q.v
          LIMIT ${NEIGHBOURS}
        ) n
        JOIN product_images p ON p.id = n.image_id
        WHERE n.distance <= ${limits.maxDistance}
          AND bit_count(('x' || p.phash)::bit(64) # ('x' || q.h)::bit(64)) <= ${limits.maxHamming}
        ORDER BY q.i, n.distance, p.created_at`);
    },

    record: (records) => recordNearDuplicates(scope.sql, records),

    async known(sha256s) {
      if (sha256s.length === 0) return new Map();
      const rows = await scope.sql<KnownNearDuplicate & { sha256: string }>(Prisma.sql`
        SELECT n.sha256, n.duplicate_of::text AS "duplicateOf", p.product_id::text AS "ofProductId",
               n.image_id::text AS "imageId", n.product_id::text AS "productId", n.action, n.hamming, n.distance::float8 AS distance
        FROM near_duplicates n JOIN product_images p ON p.id = n.duplicate_of
        WHERE n.sha256 = ANY(${[...new Set(sha256s)]}::bpchar[])`);
      return new Map(rows.map(({ sha256, ...rest }) => [sha256.trim(), rest]));
    },

    count: () => q.nearDuplicate.count(),
  };
}
