// Searches as stored: the query's embedding and features, its parameters and hits, so that a
// later rerankSearch can score the same query again without the image.
import { base64ToFloat32, float32ToBytes } from './floats.js';
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
  return {
    async save(search) {
      const row = await q.search.create({ data: searchRow(search), select: { id: true } });
      return row.id;
    },

    async saveMany(searches) {
      if (searches.length) await q.search.createMany({ data: searches.map((s) => ({ id: s.id, ...searchRow(s) })), skipDuplicates: true });
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
}

function searchRow(search: NewSearch) {
  return {
    expiresAt: search.expiresAt,
    modelKey: search.modelKey,
    queryImageHash: search.queryImageHash,
    queryEmbedding: float32ToBytes(search.queryEmbedding),
    queryFeatures: float32ToBytes(search.queryFeatures),
    params: search.params as object,
    results: search.results as unknown as object,
    ...(search.reranked && { reranked: search.reranked as unknown as object }),
  };
}
