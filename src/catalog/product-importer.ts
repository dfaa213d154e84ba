import { randomUUID } from 'node:crypto';
import pLimit from 'p-limit';
import {
  findNearDuplicates,
  knownNearDuplicates,
  recordNearDuplicates,
  type KnownNearDuplicate,
  type NearDuplicateRecord,
} from '../db/near-duplicates.js';
import {
  imagesBySha256,
  saveProducts,
  type ImageRecord,
  type ProductRecord,
  type ProductWrite,
  type SavedProduct,
  type Tx,
} from '../db/product-writes.js';
import type { Database, VectorModel } from '../db/types.js';
import { hammingDistance, perceptualHash, renderMedia, validateImage, type ValidatedImage } from '../images/index.js';
import type { Models } from '../ml/types.js';
import type { MediaStore } from '../storage/media-store.js';

export interface ImageInput {
  bytes: Buffer;
  sourceUrl?: string | null;
}

/** An image that passed validation, with its perceptual hash: ready for the dedupe decisions. */
export interface PreparedImage {
  image: ValidatedImage;
  phash: string;
  /** Where it came from (URL or path), kept as the image's sourceUrl. */
  ref: string | null;
}

export interface ImportItem {
  product: ProductRecord;
  images: PreparedImage[];
}

export interface NearDuplicatePolicy {
  /** link: store the newcomer and link it to the image it duplicates; skip: keep only the first. */
  action: 'link' | 'skip';
  /** Most differing bits of the 64-bit perceptual hash for a candidate. */
  maxHamming: number;
  /** Largest embedding distance (model metric) that confirms a candidate. */
  maxDistance: number;
}

/** What happened to one image of an item. */
export type ImageDecision = { ref: string | null; sha256: string } & (
  | { decision: 'new'; imageId: string }
  | { decision: 'unchanged'; imageId: string }
  | { decision: 'exact_duplicate'; ofProductId: string; ofImageId: string }
  | {
      decision: 'near_duplicate';
      action: 'linked' | 'skipped';
      /** The stored newcomer when linked. */
      imageId: string | null;
      ofProductId: string;
      ofImageId: string;
      hamming: number;
      distance: number;
    }
);

export interface ImportResult extends SavedProduct {
  images: ImageDecision[];
}

export interface ImportOptions {
  nearDuplicates?: NearDuplicatePolicy;
  /** Ingest run the near-duplicate decisions are recorded under. */
  runId?: string;
  /** Runs inside the transaction that writes the products (after them). */
  alsoInTx?: (tx: Tx, results: ImportResult[]) => Promise<void>;
}

export interface ImporterOptions {
  maxPixels: number;
  nearDuplicates: NearDuplicatePolicy;
}

/** Media renditions rendered at once (sharp runs them on libuv's pool of 4 threads). */
const RENDER_CONCURRENCY = 4;

/** Where an image's fate is decided before the write; resolved to product ids after it. */
type Pending =
  | { kind: 'fresh'; ref: string | null; prepared: PreparedImage; id: string }
  | { kind: 'decided'; decision: ImageDecision }
  | { kind: 'sameBatch'; ref: string | null; sha256: string; item: number; imageId: string };

/**
 * The catalog write path, one product or a batch: validate images → drop exact duplicates
 * (sha256, whole catalog) → embed → near-duplicates (perceptual hash, confirmed by embedding
 * distance) → media renditions → one database transaction per batch. Throws ImageError on a
 * bad image before anything is stored.
 */
export class ProductImporter {
  private readonly renderLimit = pLimit(RENDER_CONCURRENCY);

  constructor(
    private readonly db: Database,
    private readonly models: Models,
    private readonly media: MediaStore,
    private readonly vectorModel: VectorModel,
    private readonly options: ImporterOptions,
  ) {}

  get nearDuplicatePolicy(): NearDuplicatePolicy {
    return this.options.nearDuplicates;
  }

  async prepare(bytes: Buffer, ref: string | null = null): Promise<PreparedImage> {
    const image = await validateImage(bytes, { maxPixels: this.options.maxPixels });
    return { image, phash: await perceptualHash(image), ref };
  }

  /** One product with its images (all validated first: one bad image stores nothing). */
  async import(product: ProductRecord, images: ImageInput[], options: ImportOptions = {}): Promise<ImportResult> {
    const prepared = await Promise.all(images.map((i) => this.prepare(i.bytes, i.sourceUrl ?? null)));
    const [result] = await this.importBatch([{ product, images: prepared }], options);
    return result!;
  }

  async importBatch(items: ImportItem[], options: ImportOptions = {}): Promise<ImportResult[]> {
    const policy = options.nearDuplicates ?? this.options.nearDuplicates;
    const pending = await this.exactDuplicates(items);
    const fresh = pending.flat().filter((p): p is Extract<Pending, { kind: 'fresh' }> => p.kind === 'fresh');
    const embeddings = await this.models.embed(fresh.map((f) => ({ image: f.prepared.image })));
    const vectorOf = new Map(fresh.map((f, i) => [f.id, embeddings[i]!]));
    const near = await this.nearDuplicates(fresh, vectorOf, policy);

    const stored = fresh.filter((f) => near.get(f.id)?.action !== 'skipped');
    const mediaPaths = new Map(
      await Promise.all(stored.map(async (f) => [f.id, await this.renderLimit(() => this.saveMedia(f.prepared.image))] as const)),
    );
    const writes: ProductWrite[] = items.map((item, i) => ({
      product: item.product,
      images: pending[i]!.flatMap((p): ImageRecord[] => {
        if (p.kind !== 'fresh' || !mediaPaths.has(p.id)) return [];
        const { image, phash } = p.prepared;
        const embedding = vectorOf.get(p.id)!;
        return [
          {
            id: p.id,
            sha256: image.sha256,
            phash,
            width: image.width,
            height: image.height,
            mediaPath: mediaPaths.get(p.id)!,
            sourceUrl: p.ref,
            vector: embedding.vector,
            features: embedding.features,
          },
        ];
      }),
    }));

    let results: ImportResult[] = [];
    await saveProducts(this.db, this.vectorModel, writes, async (tx, saved) => {
      const productOfImage = new Map(saved.flatMap((s) => s.imageIds.map((id) => [id, s.productId] as const)));
      results = saved.map((s, i) => ({
        ...s,
        images: pending[i]!.map((p) => this.decide(p, near, productOfImage, saved)),
      }));
      const links: NearDuplicateRecord[] = results.flatMap((r) =>
        r.images.flatMap((d) =>
          d.decision === 'near_duplicate'
            ? [{ sha256: d.sha256, duplicateOf: d.ofImageId, imageId: d.imageId, productId: r.productId, hamming: d.hamming, distance: d.distance, action: d.action, runId: options.runId }]
            : [],
        ),
      );
      await recordNearDuplicates(tx, links);
      await options.alsoInTx?.(tx, results);
    });
    return results;
  }

  private decide(
    p: Pending,
    near: Map<string, NearMatch>,
    productOfImage: Map<string, string>,
    saved: SavedProduct[],
  ): ImageDecision {
    if (p.kind === 'decided') return p.decision;
    if (p.kind === 'sameBatch') {
      return { ref: p.ref, sha256: p.sha256, decision: 'exact_duplicate', ofProductId: saved[p.item]!.productId, ofImageId: p.imageId };
    }
    const base = { ref: p.ref, sha256: p.prepared.image.sha256 };
    const match = near.get(p.id);
    if (!match) return { ...base, decision: 'new', imageId: p.id };
    return {
      ...base,
      decision: 'near_duplicate',
      action: match.action,
      imageId: match.action === 'linked' ? p.id : null,
      ofImageId: match.imageId,
      ofProductId: match.productId ?? productOfImage.get(match.imageId)!,
      hamming: match.hamming,
      distance: match.distance,
    };
  }

  /** Sorts every image into: already in the catalog, a repeat within this batch, or fresh. */
  private async exactDuplicates(items: ImportItem[]): Promise<Pending[][]> {
    const shas = items.flatMap((item) => item.images.map((i) => i.image.sha256));
    const [known, judged] = await Promise.all([
      imagesBySha256(this.db.prisma, shas),
      knownNearDuplicates(this.db.prisma, shas),
    ]);
    const firstSeen = new Map<string, { item: number; imageId: string }>();
    return items.map((item, itemIndex) =>
      item.images.flatMap((prepared): Pending[] => {
        const { sha256 } = prepared.image;
        const ref = prepared.ref;
        const inCatalog = known.get(sha256);
        const earlierDecision = judged.get(sha256);
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

  /**
   * The closest confirmed near-duplicate of each fresh image: among catalog images (one SQL
   * statement) and the fresh images before it in this batch that are kept.
   */
  private async nearDuplicates(
    fresh: Extract<Pending, { kind: 'fresh' }>[],
    vectorOf: Map<string, { vector: Float32Array }>,
    policy: NearDuplicatePolicy,
  ): Promise<Map<string, NearMatch>> {
    const inCatalog = await findNearDuplicates(
      this.db.prisma,
      this.vectorModel,
      fresh.map((f) => ({ phash: f.prepared.phash, vector: vectorOf.get(f.id)!.vector })),
      policy,
    );
    const best = new Map<string, NearMatch>();
    const action = policy.action === 'skip' ? 'skipped' : 'linked';
    for (const m of inCatalog) {
      best.set(fresh[m.probe]!.id, { imageId: m.imageId, productId: m.productId, hamming: m.hamming, distance: m.distance, action });
    }
    fresh.forEach((f, j) => {
      for (const earlier of fresh.slice(0, j)) {
        if (best.get(earlier.id)?.action === 'skipped') continue;
        const hamming = hammingDistance(f.prepared.phash, earlier.prepared.phash);
        if (hamming > policy.maxHamming) continue;
        const distance = vectorDistance(this.vectorModel.metric, vectorOf.get(f.id)!.vector, vectorOf.get(earlier.id)!.vector);
        const current = best.get(f.id);
        if (distance <= policy.maxDistance && (!current || distance < current.distance)) {
          best.set(f.id, { imageId: earlier.id, productId: null, hamming, distance, action });
        }
      }
    });
    return best;
  }

  private async saveMedia(image: ValidatedImage): Promise<string> {
    const { display, thumbnail, extension } = await renderMedia(image);
    return this.media.save(image.sha256, { display, thumbnail, extension });
  }
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

interface NearMatch {
  imageId: string;
  /** null: an image of this batch, whose product id is known only after the write. */
  productId: string | null;
  hamming: number;
  distance: number;
  action: 'linked' | 'skipped';
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
