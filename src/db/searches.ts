// Searches as stored: the query's embedding and features, its parameters and hits, so that a
// later rerankSearch can score the same query again without the image.
import { randomUUID } from 'node:crypto';
import { Prisma } from '../../generated/prisma/client.js';
import { base64ToFloat32, float32ToBase64 } from './floats.js';
import type { Scope } from './scope.js';

/** A hit as stored with a search. */
export interface StoredHit {
  productId: string;
  imageId: string;
  distance: number;
  score?: number;
}

export interface NewSearch {
  expiresAt: Date;
  modelKey: string;
  queryImageHash: string | null;
  queryEmbedding: Float32Array;
  queryFeatures: Float32Array;
  params: Record<string, unknown>;
  results: StoredHit[];
  /** The hits after re-ranking, when the search was re-ranked before it was stored. */
  reranked?: StoredHit[];
}

/** What rerankSearch needs of a stored search (not its results). */
export interface SearchToRerank {
  id: string;
  expiresAt: Date;
  modelKey: string;
  queryEmbedding: Float32Array;
  queryFeatures: Float32Array;
  params: Record<string, unknown>;
}

export interface SearchRepository {
  /** Stores a search; returns its id. */
  save(search: NewSearch): Promise<string>;
  /** Stores several searches in one statement, under ids of the caller's (one already stored is left as it is). */
  saveMany(searches: (NewSearch & { id: string })[]): Promise<void>;
  saveRerank(id: string, reranked: StoredHit[]): Promise<void>;
  /** null when there is no such search. */
  toRerank(id: string): Promise<SearchToRerank | null>;
  /** Deletes searches that expired before `now`; returns how many. */
  prune(now?: Date): Promise<number>;
}

export function searchRepository(scope: Scope): SearchRepository {
  const { q } = scope;
  const repository: SearchRepository = {
    async save(search) {
      const id = randomUUID();
      await repository.saveMany([{ ...search, id }]);
      return id;
    },

    async saveMany(searches) {
      if (!searches.length) return;
      // One JSON parameter, float arrays in base64: through Prisma's createMany a 51 kB bytea took
      // ~15 ms per search on the embedded database (its Bytes serialisation, then PGlite's own for
      // a binary parameter), on the event loop's thread; this takes ~2.5 ms.
      const rows = searches.map((s) => ({
        id: s.id,
        expires_at: s.expiresAt.toISOString(),
        query_image_hash: s.queryImageHash,
        model_key: s.modelKey,
        embedding: float32ToBase64(s.queryEmbedding),
        features: float32ToBase64(s.queryFeatures),
        params: s.params,
        results: s.results,
        reranked: s.reranked ?? null,
      }));
      await scope.sql(Prisma.sql`
        INSERT INTO searches (id, expires_at, query_image_hash, model_key, query_embedding, query_features, params, results, reranked)
        SELECT r.id::uuid, r.expires_at::timestamptz, r.query_image_hash, r.model_key,
               decode(r.embedding, 'base64'), decode(r.features, 'base64'), r.params, r.results, r.reranked
        FROM json_to_recordset(${JSON.stringify(rows)}::json) AS r(
          id text, expires_at text, query_image_hash text, model_key text, embedding text, features text,
          params jsonb, results jsonb, reranked jsonb)
        ON CONFLICT (id) DO NOTHING`);
    },

    async saveRerank(id, reranked) {
      await q.search.update({ where: { id }, data: { reranked: reranked as unknown as object } });
    },

    async toRerank(id) {
      // Float arrays as base64: see base64ToFloat32.
      const [row] = await q.$queryRaw<{ expiresAt: Date; modelKey: string; embedding: string; features: string; params: Record<string, unknown> }[]>`
        SELECT expires_at AS "expiresAt", model_key AS "modelKey", params,
               encode(query_embedding, 'base64') AS embedding, encode(query_features, 'base64') AS features
        FROM searches WHERE id = ${id}::uuid`;
      if (!row) return null;
      return {
        id,
        expiresAt: new Date(row.expiresAt),
        modelKey: row.modelKey,
        queryEmbedding: base64ToFloat32(row.embedding),
        queryFeatures: base64ToFloat32(row.features),
        params: row.params,
      };
    },

    async prune(now = new Date()) {
      return (await q.search.deleteMany({ where: { expiresAt: { lt: now } } })).count;
    },
  };
  return repository;
}
