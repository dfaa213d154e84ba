import type { PrismaClient } from '../../generated/prisma/client.js';
import { bytesToFloat32, float32ToBytes } from './floats.js';

/** A hit as stored with a search. */
export interface StoredHit {
  productId: string;
  imageId: string;
  distance: number;
  score?: number;
}

export interface StoredSearch {
  id: string;
  createdAt: Date;
  expiresAt: Date;
  modelKey: string;
  queryImageHash: string | null;
  queryEmbedding: Float32Array;
  queryFeatures: Float32Array;
  params: Record<string, unknown>;
  results: StoredHit[];
  reranked: StoredHit[] | null;
}

export type NewSearch = Omit<StoredSearch, 'id' | 'createdAt' | 'reranked'>;

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

export async function findSearch(prisma: PrismaClient, id: string): Promise<StoredSearch | null> {
  const row = await prisma.search.findUnique({ where: { id } });
  if (!row) return null;
  return {
    ...row,
    queryEmbedding: bytesToFloat32(row.queryEmbedding),
    queryFeatures: bytesToFloat32(row.queryFeatures),
    params: row.params as Record<string, unknown>,
    results: row.results as unknown as StoredHit[],
    reranked: (row.reranked as unknown as StoredHit[] | null) ?? null,
  };
}

export async function saveRerank(prisma: PrismaClient, id: string, reranked: StoredHit[]): Promise<void> {
  await prisma.search.update({ where: { id }, data: { reranked: reranked as unknown as object } });
}

/** Deletes expired searches; returns how many. */
export async function pruneSearches(prisma: PrismaClient, now = new Date()): Promise<number> {
  return (await prisma.search.deleteMany({ where: { expiresAt: { lt: now } } })).count;
}
