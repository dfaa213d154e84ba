// The near-duplicate step: the closest confirmed near-duplicate of each fresh image, among the
// catalog's images (one SQL statement through the vector index) and the fresh images before it
// in the same batch that are kept.
import type { Database, VectorModel } from '../db/index.js';
import { hammingDistance } from '../images/index.js';
import type { FreshImage, NearDuplicatePolicy } from './import-types.js';

export interface NearMatch {
  imageId: string;
  /** null: an image of this batch, whose product id is known only after the write. */
  productId: string | null;
  hamming: number;
  distance: number;
  action: 'linked' | 'skipped';
}

/** Matches by fresh image id. */
export async function findNearDuplicates(
  db: Database,
  model: VectorModel,
  fresh: FreshImage[],
  vectorOf: Map<string, { vector: Float32Array }>,
  policy: NearDuplicatePolicy,
): Promise<Map<string, NearMatch>> {
  const inCatalog = await db.nearDuplicates.find(
    model,
    fresh.map((f) => ({ phash: f.prepared.phash, vector: vectorOf.get(f.id)!.vector })),
    policy,
  );
  const best = new Map<string, NearMatch>();
  const action = policy.action === 'skip' ? 'skipped' : 'linked';
  for (const m of inCatalog) {
    best.set(fresh[m.probe]!.id, { imageId: m.imageId, productId: m.productId, hamming: m.hamming, distance: m.distance, action });
  }
  withinBatch(model.metric, fresh, vectorOf, policy, best);
  return best;
}

/** Adds matches among the batch's own fresh images (an earlier one kept is a candidate). */
export function withinBatch(
  metric: VectorModel['metric'],
  fresh: FreshImage[],
  vectorOf: Map<string, { vector: Float32Array }>,
  policy: NearDuplicatePolicy,
  best: Map<string, NearMatch>,
): void {
  const action = policy.action === 'skip' ? 'skipped' : 'linked';
  fresh.forEach((f, j) => {
    for (const earlier of fresh.slice(0, j)) {
      if (best.get(earlier.id)?.action === 'skipped') continue;
      const hamming = hammingDistance(f.prepared.phash, earlier.prepared.phash);
      if (hamming > policy.maxHamming) continue;
      const distance = vectorDistance(metric, vectorOf.get(f.id)!.vector, vectorOf.get(earlier.id)!.vector);
      const current = best.get(f.id);
      if (distance <= policy.maxDistance && (!current || distance < current.distance)) {
        best.set(f.id, { imageId: earlier.id, productId: null, hamming, distance, action });
      }
    }
  });
}

/** The same distances pgvector's operators give (<->, <=>, <#>), for images not yet stored. */
export function vectorDistance(metric: VectorModel['metric'], a: Float32Array, b: Float32Array): number {
  let dot = 0;
  let aa = 0;
  let bb = 0;
  let l2 = 0;
  for (let i = 0; i < a.length; i++) {
    dot += a[i]! * b[i]!;
    aa += a[i]! * a[i]!;
    bb += b[i]! * b[i]!;
    l2 += (a[i]! - b[i]!) ** 2;
  }
  if (metric === 'l2') return Math.sqrt(l2);
  if (metric === 'cosine') return 1 - dot / Math.sqrt(aa * bb);
  return -dot;
}
