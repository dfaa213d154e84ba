// The stored query of a search, read for re-ranking (the candidates' feature maps come from
// Database.getEmbeddings). Float arrays are selected as base64: see base64ToFloat32.
import type { PrismaClient } from '../../generated/prisma/client.js';
import { base64ToFloat32 } from './floats.js';

export interface SearchToRerank {
  id: string;
  expiresAt: Date;
  modelKey: string;
  queryEmbedding: Float32Array;
  queryFeatures: Float32Array;
  params: Record<string, unknown>;
}

/** What rerankSearch needs of a stored search (not its results); null when there is none. */
export async function searchToRerank(prisma: PrismaClient, id: string): Promise<SearchToRerank | null> {
  const [row] = await prisma.$queryRaw<{ expiresAt: Date; modelKey: string; embedding: string; features: string; params: Record<string, unknown> }[]>`
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
}
