// The two reads of a re-rank: the stored query and the candidates' scorer feature maps. Float
// arrays come back as base64 text rather than bytea: through the PGlite adapter a bytea column is
// parsed from hex in JavaScript, about 2 ms per 8 kB, which alone would spend much of the re-rank
// budget at N=50 (18 kB maps); base64 decodes natively.
import type { PrismaClient } from '../../generated/prisma/client.js';
import { bytesToFloat32 } from './floats.js';
import type { VectorModel } from './types.js';

export interface SearchToRerank {
  id: string;
  expiresAt: Date;
  modelKey: string;
  queryEmbedding: Float32Array;
  queryFeatures: Float32Array;
  params: Record<string, unknown>;
}

const floats = (base64: string) => bytesToFloat32(Buffer.from(base64, 'base64'));

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
    queryEmbedding: floats(row.embedding),
    queryFeatures: floats(row.features),
    params: row.params,
  };
}

/** Feature maps of the given images under a model; images without one are absent. */
export async function featureMaps(prisma: PrismaClient, imageIds: string[], model: VectorModel): Promise<Map<string, Float32Array>> {
  const out = new Map<string, Float32Array>();
  if (imageIds.length === 0) return out;
  const rows = await prisma.$queryRaw<{ imageId: string; features: string }[]>`
    SELECT image_id::text AS "imageId", encode(features, 'base64') AS features
    FROM image_embeddings
    WHERE model_key = ${model.key} AND image_id = ANY(${[...new Set(imageIds)]}::uuid[])`;
  for (const r of rows) out.set(r.imageId, floats(r.features));
  return out;
}
