import type { PrismaClient } from '../../generated/prisma/client.js';
import { float32ToBytes } from './floats.js';

/** A hit as stored with a search. */
export interface StoredHit {
  productId: string;
  imageId: string;
  distance: number;
  score?: number;
}

/** A search as written; src/db/rerank-reads.ts reads it back for re-ranking. */
export interface NewSearch {
  expiresAt: Date;
  modelKey: string;
  queryImageHash: string | null;
  queryEmbedding: Float32Array;
  queryFeatures: Float32Array;
  params: Record<string, unknown>;
  results: StoredHit[];
}

export async function saveSearch(prisma: PrismaClient, search: NewSearch): Promise<string> {
  const row = await prisma.search.create({
    data: {
      expiresAt: search.expiresAt,
      modelKey: search.modelKey,
      queryImageHash: search.queryImageHash,
      queryEmbedding: float32ToBytes(search.queryEmbedding),
      queryFeatures: float32ToBytes(search.queryFeatures),
      params: search.params as object,
      results: search.results as unknown as object,
    },
    select: { id: true },
  });
  return row.id;
}

export async function saveRerank(prisma: PrismaClient, id: string, reranked: StoredHit[]): Promise<void> {
  await prisma.search.update({ where: { id }, data: { reranked: reranked as unknown as object } });
}

/** Deletes expired searches; returns how many. */
export async function pruneSearches(prisma: PrismaClient, now = new Date()): Promise<number> {
  return (await prisma.search.deleteMany({ where: { expiresAt: { lt: now } } })).count;
}
