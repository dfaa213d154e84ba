// Embedding I/O: each image's vector (searched) and scorer features (re-ranking), per model.
import { Prisma } from '../../generated/prisma/client.js';
import { base64ToFloat32, float32ToBase64, vectorFromSql, vectorToSql } from './floats.js';
import type { PlannerStats } from './planner-stats.js';
import type { DriverStatement, Scope } from './scope.js';
import type { VectorModel } from './types.js';
import { validateModel, type VectorStorage } from './vector-models.js';

export interface EmbeddingInput {
  imageId: string;
  vector: Float32Array;
  features: Float32Array;
}

export interface StoredEmbedding {
  vector: Float32Array;
  features: Float32Array;
}

export interface EmbeddingRepository {
  /** Inserts or replaces embeddings (multi-row INSERT … ON CONFLICT; the last item per image wins). */
  upsert(model: VectorModel, items: EmbeddingInput[]): Promise<void>;
  /** Stored embeddings of images, for "more like this" and re-ranking. */
  get(imageIds: string[], model: VectorModel): Promise<Map<string, StoredEmbedding>>;
  /** Embeddings stored under a model (all models when none is given). */
  count(modelKey?: string): Promise<number>;
}

const UPSERT_CHUNK = 500;

/** Stores (or replaces) embeddings of images under a model, in as few statements as the batch allows. */
export async function upsertEmbeddings(sql: DriverStatement, storage: VectorStorage, stats: PlannerStats, model: VectorModel, items: EmbeddingInput[]): Promise<void> {
  validateModel(model, storage);
  if (items.length === 0) return;
  // One statement can't update a row twice: the last item for an image wins.
  const unique = [...new Map(items.map((it) => [it.imageId, it])).values()];
  for (let i = 0; i < unique.length; i += UPSERT_CHUNK) {
    const rows = unique
      .slice(i, i + UPSERT_CHUNK)
      .map((it) => Prisma.sql`(${it.imageId}::uuid, ${model.key}, ${vectorToSql(it.vector, model.dim)}::vector, decode(${float32ToBase64(it.features)}, 'base64'))`);
    await sql(Prisma.sql`
      INSERT INTO image_embeddings (image_id, model_key, embedding, features)
      VALUES ${Prisma.join(rows)}
      ON CONFLICT (image_id, model_key) DO UPDATE
        SET embedding = EXCLUDED.embedding, features = EXCLUDED.features, created_at = CURRENT_TIMESTAMP`);
  }
  stats.wrote(items.length);
}

export function embeddingRepository(scope: Scope, storage: VectorStorage, stats: PlannerStats): EmbeddingRepository {
  return {
    upsert: (model, items) => scope.atomicSql((sql) => upsertEmbeddings(sql, storage, stats, model, items)),

    async get(imageIds, model) {
      const out = new Map<string, StoredEmbedding>();
      if (imageIds.length === 0) return out;
      // Features as base64: see base64ToFloat32.
      const rows = await scope.sql<{ imageId: string; embedding: string; features: string }>(Prisma.sql`
        SELECT image_id::text AS "imageId", embedding::text AS embedding, encode(features, 'base64') AS features
        FROM image_embeddings
        WHERE model_key = ${model.key} AND image_id = ANY(${[...new Set(imageIds)]}::uuid[])`);
      for (const r of rows) out.set(r.imageId, { vector: vectorFromSql(r.embedding), features: base64ToFloat32(r.features) });
      return out;
    },

    count: (modelKey) => scope.q.imageEmbedding.count(modelKey === undefined ? undefined : { where: { modelKey } }),
  };
}
