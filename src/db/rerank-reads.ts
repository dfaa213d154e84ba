// Scorer feature maps of catalog images, read for re-ranking. Sent as base64 text rather than
// bytea: through the PGlite adapter a bytea column is parsed from hex in JavaScript, about 2 ms
// per 8 kB map, which alone would spend the re-rank budget at N=50; base64 decodes natively.
import type { PrismaClient } from '../../generated/prisma/client.js';
import { bytesToFloat32 } from './floats.js';
import type { VectorModel } from './types.js';

/** Feature maps of the given images under a model; images without one are absent. */
export async function featureMaps(prisma: PrismaClient, imageIds: string[], model: VectorModel): Promise<Map<string, Float32Array>> {
  const out = new Map<string, Float32Array>();
  if (imageIds.length === 0) return out;
  const rows = await prisma.$queryRaw<{ imageId: string; features: string }[]>`
    SELECT image_id::text AS "imageId", encode(features, 'base64') AS features
    FROM image_embeddings
    WHERE model_key = ${model.key} AND image_id = ANY(${[...new Set(imageIds)]}::uuid[])`;
  for (const r of rows) out.set(r.imageId, bytesToFloat32(Buffer.from(r.features, 'base64')));
  return out;
}
