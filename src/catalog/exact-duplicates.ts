// The exact-duplicate step: every image of a batch is sorted, by its sha256, into already in the
// catalog (another product's: an exact duplicate; the item's own: unchanged), judged earlier as
// a near-duplicate, a repeat within the batch, or fresh.
import { randomUUID } from 'node:crypto';
import type { KnownImage, KnownNearDuplicate } from '../db/index.js';
import type { ImageDecision, ImportItem, Pending } from './import-types.js';

/** What the catalog already knows about a batch's bytes (read before sorting). */
export interface KnownBytes {
  images: Map<string, KnownImage>;
  nearDuplicates: Map<string, KnownNearDuplicate>;
}

export function sortByHash(items: ImportItem[], known: KnownBytes): Pending[][] {
  const firstSeen = new Map<string, { item: number; imageId: string }>();
  return items.map((item, itemIndex) =>
    item.images.flatMap((prepared): Pending[] => {
      const { sha256 } = prepared.image;
      const ref = prepared.ref;
      const inCatalog = known.images.get(sha256);
      const earlierDecision = known.nearDuplicates.get(sha256);
      if (inCatalog) {
        const own = inCatalog.source === item.product.source && inCatalog.externalId === item.product.externalId;
        if (!own) {
          const decision: ImageDecision = { ref, sha256, decision: 'exact_duplicate', ofProductId: inCatalog.productId, ofImageId: inCatalog.imageId };
          return [{ kind: 'decided', decision }];
        }
        return [
          {
            kind: 'decided',
            decision: earlierDecision
              ? nearDuplicateDecision(ref, sha256, earlierDecision)
              : { ref, sha256, decision: 'unchanged', imageId: inCatalog.imageId },
          },
        ];
      }
      // Skipped before as a near-duplicate: the same judgement again, without re-embedding.
      if (earlierDecision?.action === 'skipped') return [{ kind: 'decided', decision: nearDuplicateDecision(ref, sha256, earlierDecision) }];
      const earlier = firstSeen.get(sha256);
      // The same bytes listed twice for one product are one image.
      if (earlier?.item === itemIndex) return [];
      if (earlier) return [{ kind: 'sameBatch', ref, sha256, ...earlier }];
      const id = randomUUID();
      firstSeen.set(sha256, { item: itemIndex, imageId: id });
      return [{ kind: 'fresh', ref, prepared, id }];
    }),
  );
}

function nearDuplicateDecision(ref: string | null, sha256: string, known: KnownNearDuplicate): ImageDecision {
  return {
    ref,
    sha256,
    decision: 'near_duplicate',
    action: known.action,
    imageId: known.imageId,
    ofProductId: known.ofProductId,
    ofImageId: known.duplicateOf,
    hamming: known.hamming,
    distance: known.distance,
  };
}
