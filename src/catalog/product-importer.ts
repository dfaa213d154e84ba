import type { Database, ImageRecord, ProductRecord, ProductWrite, SavedProduct } from '../db/index.js';
import { perceptualHash, validateImage, withPixels } from '../images/index.js';
import type { ModelWriters } from '../models/active-model.js';
import type { MediaStore } from '../storage/media-store.js';
import { sortByHash } from './exact-duplicates.js';
import type {
  EmbeddedAhead,
  FreshImage,
  ImportClock,
  ImageDecision,
  ImageInput,
  ImporterOptions,
  ImportItem,
  ImportOptions,
  ImportResult,
  NearDuplicatePolicy,
  Pending,
  PreparedImage,
} from './import-types.js';
import { MediaRenditions } from './media-renditions.js';
import { findNearDuplicates, type NearMatch } from './near-duplicates.js';

/**
 * The catalog write path, one product or a batch: validate images → drop exact duplicates
 * (sha256, whole catalog) → embed → near-duplicates (perceptual hash, confirmed by embedding
 * distance) → media renditions → one unit of work per batch. Throws ImageError on a bad image
 * before anything is stored. Images are embedded with the active model and with every model
 * being indexed or ready, so that a model registered meanwhile lacks none of them.
 */
export class ProductImporter {
  private readonly renditions: MediaRenditions;

  constructor(
    private readonly db: Database,
    private readonly models: ModelWriters,
    media: MediaStore,
    private readonly options: ImporterOptions,
  ) {
    this.renditions = new MediaRenditions(media);
  }

  get nearDuplicatePolicy(): NearDuplicatePolicy {
    return this.options.nearDuplicates;
  }

  async prepare(bytes: Buffer, ref: string | null = null): Promise<PreparedImage> {
    // Decoded once: the hash reads every pixel (corrupt data fails there, so validation need not
    // decode too), and the embedder's preprocessing starts from the same pixels, kept with the image.
    const image = await withPixels(await validateImage(bytes, { ...this.options.imageLimits, decode: false }));
    return { image, phash: await perceptualHash(image), ref };
  }

  /** One product with its images (all validated first: one bad image stores nothing). */
  async import(product: ProductRecord, images: ImageInput[], options: ImportOptions = {}): Promise<ImportResult> {
    const prepared = await Promise.all(images.map((i) => this.prepare(i.bytes, i.sourceUrl ?? null)));
    const [result] = await this.importBatch([{ product, images: prepared }], options);
    return result!;
  }

  /**
   * Embeds a batch's images with the active model ahead of its importBatch (an ingest runs it
   * while the batch before is being written, so that the embedder never waits for the
   * database); images the catalog already holds are left out.
   */
  async embedAhead(items: ImportItem[], clock: ImportClock = untimed): Promise<EmbeddedAhead> {
    const [active] = this.models.writers();
    const images = [...new Map(items.flatMap((item) => item.images.map((i) => [i.image.sha256, i.image] as const))).values()];
    // Its images are counted by the batch's own lookup in importBatch.
    const known = await clock.time('dedupe', 0, () => this.db.catalog.imagesBySha256(images.map((i) => i.sha256)));
    const wanted = images.filter((i) => !known.has(i.sha256));
    const embeddings = await clock.time('embed', wanted.length, () => active!.models.embed(wanted.map((image) => ({ image }))));
    return { modelKey: active!.vectorModel.key, bySha256: new Map(wanted.map((i, n) => [i.sha256, embeddings[n]!])) };
  }

  async importBatch(items: ImportItem[], options: ImportOptions = {}): Promise<ImportResult[]> {
    const policy = options.nearDuplicates ?? this.options.nearDuplicates;
    const clock = options.clock ?? untimed;
    const shas = items.flatMap((item) => item.images.map((i) => i.image.sha256));
    const [images, nearDuplicates] = await clock.time('dedupe', shas.length, () =>
      Promise.all([this.db.catalog.imagesBySha256(shas), this.db.nearDuplicates.known(shas)]),
    );
    const pending = sortByHash(items, { images, nearDuplicates });
    const fresh = pending.flat().filter((p): p is FreshImage => p.kind === 'fresh');
    const render = (images: FreshImage[]) =>
      clock.time('render', images.length, () => this.renditions.save(images.map((f) => ({ key: f.id, image: f.prepared.image }))));
    // When near-duplicates are linked every fresh image is stored: its renditions (sharp, on
    // libuv's threads) are made while the embedder (onnxruntime's threads) runs, not after it.
    const early = policy.action === 'link' ? render(fresh) : null;
    early?.catch(() => undefined); // awaited below; a failure must not go unhandled meanwhile
    const [active, ...others] = this.models.writers();
    // Made ahead by the same model (an activation in between makes them useless), or now.
    const ahead = options.embedded?.modelKey === active!.vectorModel.key ? options.embedded.bySha256 : undefined;
    const missing = fresh.filter((f) => !ahead?.has(f.prepared.image.sha256));
    const embeddings = await clock.time('embed', missing.length, () => active!.models.embed(missing.map((f) => ({ image: f.prepared.image }))));
    const made = new Map(missing.map((f, i) => [f.id, embeddings[i]!]));
    const vectorOf = new Map(fresh.map((f) => [f.id, made.get(f.id) ?? ahead!.get(f.prepared.image.sha256)!]));
    // Its images were counted by the exact-duplicate lookup above.
    const near = await clock.time('dedupe', 0, () => findNearDuplicates(this.db, active!.vectorModel, fresh, vectorOf, policy));

    const stored = fresh.filter((f) => near.get(f.id)?.action !== 'skipped');
    const otherEmbeddings = await clock.time('embed', stored.length * others.length, () =>
      Promise.all(others.map((o) => o.models.embed(stored.map((f) => ({ image: f.prepared.image }))))),
    );
    const mediaPaths = await (early ?? render(stored));
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

    const storing = writes.reduce((n, w) => n + w.images.length, 0);
    return clock.time('write', storing, () => this.db.transaction(async (tx) => {
      const saved = await tx.catalog.saveProducts(active!.vectorModel, writes);
      const written = new Set(saved.flatMap((s) => s.imageIds));
      for (const [m, other] of others.entries()) {
        const items = stored.flatMap((f, i) => (written.has(f.id) ? [{ imageId: f.id, ...otherEmbeddings[m]![i]! }] : []));
        if (items.length) await tx.vectors.upsert(other.vectorModel, items);
      }
      const productOfImage = new Map(saved.flatMap((s) => s.imageIds.map((id) => [id, s.productId] as const)));
      const results: ImportResult[] = saved.map((s, i) => ({
        ...s,
        images: pending[i]!.map((p) => decide(p, near, productOfImage, saved)),
      }));
      await tx.nearDuplicates.record(
        results.flatMap((r) =>
          r.images.flatMap((d) =>
            d.decision === 'near_duplicate'
              ? [{ sha256: d.sha256, duplicateOf: d.ofImageId, imageId: d.imageId, productId: r.productId, hamming: d.hamming, distance: d.distance, action: d.action, runId: options.runId }]
              : [],
          ),
        ),
      );
      await options.alsoInTx?.(tx, results);
      return results;
    }));
  }
}

/** The clock of an import nobody times. */
const untimed: ImportClock = { time: (_stage, _images, work) => work() };

/** The final decision about an image, once the write has given every product its id. */
function decide(p: Pending, near: Map<string, NearMatch>, productOfImage: Map<string, string>, saved: SavedProduct[]): ImageDecision {
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
