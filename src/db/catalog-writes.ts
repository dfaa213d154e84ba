// Writes of the catalog: products keyed by (source, externalId) with their new images and
// embeddings in one transaction, field edits, deletions (images, embeddings and near-duplicate
// links cascade).
import { randomUUID } from 'node:crypto';
import type { Prisma } from '../../generated/prisma/client.js';
import { embeddingRepository } from './embeddings.js';
import { PRODUCT_FIELD_NAMES, PRODUCT_FIELDS, type ProductPatch, type ProductRecord } from './product-fields.js';
import type { PlannerStats } from './planner-stats.js';
import { transactionScope, type Scope } from './scope.js';
import type { VectorModel } from './types.js';
import type { VectorStorage } from './vector-models.js';
import { recordOf } from './catalog-reads.js';

/** A new image of a product, already validated, stored as media and embedded. */
export interface ImageRecord {
  /** Chosen by the caller, so that decisions taken before the write can refer to it. */
  id: string;
  sha256: string;
  phash: string;
  width: number;
  height: number;
  mediaPath: string;
  sourceUrl?: string | null;
  vector: Float32Array;
  features: Float32Array;
}

export interface ProductWrite {
  product: ProductRecord;
  /** Appended after the product's existing images, in this order. */
  images: ImageRecord[];
}

export interface SavedProduct {
  productId: string;
  /** 'created', 'updated' (a field changed or images were added), or 'unchanged'. */
  change: 'created' | 'updated' | 'unchanged';
  imageIds: string[];
}

export interface CatalogWrites {
  /**
   * Inserts or updates products keyed by (source, externalId) and appends their new images with
   * their embeddings, all in one transaction (the unit of work's, when inside one): a failure
   * leaves nothing half-written.
   */
  saveProducts(model: VectorModel, writes: ProductWrite[]): Promise<SavedProduct[]>;
  /** Changes the given fields (undefined: keep; null: clear). False when there is no such product. */
  updateFields(productId: string, patch: ProductPatch): Promise<boolean>;
  /** Deletes products; returns those deleted and the media paths freed. */
  deleteProducts(ids: string[]): Promise<{ productIds: string[]; mediaPaths: string[] }>;
  /** Deletes one image; null when there is no such image. */
  deleteImage(imageId: string): Promise<{ productId: string; mediaPath: string } | null>;
}

type ProductData = { [F in keyof ProductPatch]-?: Exclude<ProductPatch[F], undefined> } & { title: string };

/** Every field of a record, absent ones empty. */
const productData = (p: ProductRecord): ProductData =>
  Object.fromEntries(PRODUCT_FIELD_NAMES.map((f) => [f, p[f] ?? (f === 'attributes' ? {} : null)])) as ProductData;

type ProductRow = Awaited<ReturnType<Prisma.TransactionClient['product']['findFirstOrThrow']>>;

/** Whether a stored row differs from the record's fields (compared as plain values). */
function differs(row: ProductRow, data: ProductData): boolean {
  const stored = recordOf(row);
  return PRODUCT_FIELD_NAMES.some((f) =>
    PRODUCT_FIELDS[f].kind === 'attributes' ? JSON.stringify(row.attributes) !== JSON.stringify(data.attributes) : stored[f] !== data[f],
  );
}

const keyOf = (source: string, externalId: string) => `${source}\u0000${externalId}`;

export function catalogWrites(scope: Scope, storage: VectorStorage, stats: PlannerStats): CatalogWrites {
  return {
    saveProducts: (model, writes) =>
      scope.atomic(async (tx) => {
        const existing = writes.length
          ? await tx.product.findMany({ where: { OR: writes.map((w) => ({ source: w.product.source, externalId: w.product.externalId })) } })
          : [];
        const byKey = new Map(existing.map((row) => [keyOf(row.source, row.externalId), row]));
        const lastPositions = existing.length
          ? await tx.productImage.groupBy({ by: ['productId'], where: { productId: { in: existing.map((e) => e.id) } }, _max: { position: true } })
          : [];
        const nextPosition = new Map(lastPositions.map((p) => [p.productId, (p._max.position ?? -1) + 1]));

        const saved: SavedProduct[] = [];
        const creates: Prisma.ProductCreateManyInput[] = [];
        const images: Prisma.ProductImageCreateManyInput[] = [];
        for (const { product, images: newImages } of writes) {
          const key = keyOf(product.source, product.externalId);
          const data = productData(product);
          const row = byKey.get(key);
          let productId: string;
          let change: SavedProduct['change'];
          if (!row) {
            productId = randomUUID();
            creates.push({ id: productId, source: product.source, externalId: product.externalId, ...data, attributes: data.attributes as object });
            // A later write of the same key in this batch sees it as existing.
            byKey.set(key, { id: productId, source: product.source, externalId: product.externalId, ...data } as unknown as ProductRow);
            change = 'created';
          } else {
            productId = row.id;
            const changed = differs(row, data);
            if (changed || newImages.length > 0) {
              await tx.product.update({ where: { id: productId }, data: changed ? { ...data, attributes: data.attributes as object } : { updatedAt: new Date() } });
            }
            change = changed || newImages.length > 0 ? 'updated' : 'unchanged';
          }
          let position = nextPosition.get(productId) ?? 0;
          for (const image of newImages) {
            images.push({
              id: image.id,
              productId,
              sha256: image.sha256,
              phash: image.phash,
              width: image.width,
              height: image.height,
              mediaPath: image.mediaPath,
              position: position++,
              sourceUrl: image.sourceUrl ?? null,
            });
          }
          nextPosition.set(productId, position);
          saved.push({ productId, change, imageIds: newImages.map((i) => i.id) });
        }
        if (creates.length) await tx.product.createMany({ data: creates });
        if (images.length) await tx.productImage.createMany({ data: images });
        const embeddings = writes.flatMap((w) => w.images.map((i) => ({ imageId: i.id, vector: i.vector, features: i.features })));
        if (embeddings.length) await embeddingRepository(transactionScope(tx), storage, stats).upsert(model, embeddings);
        return saved;
      }),

    async updateFields(productId, patch) {
      const data = Object.fromEntries(Object.entries(patch).filter(([, v]) => v !== undefined)) as Prisma.ProductUpdateInput;
      const { count } = await scope.q.product.updateMany({ where: { id: productId }, data: { ...data, updatedAt: new Date() } });
      return count > 0;
    },

    deleteProducts: (ids) =>
      scope.atomic(async (tx) => {
        const products = await tx.product.findMany({ where: { id: { in: ids } }, select: { id: true, images: { select: { mediaPath: true } } } });
        const productIds = products.map((p) => p.id);
        if (productIds.length) await tx.product.deleteMany({ where: { id: { in: productIds } } });
        return { productIds, mediaPaths: products.flatMap((p) => p.images.map((i) => i.mediaPath)) };
      }),

    deleteImage: (imageId) =>
      scope.atomic(async (tx) => {
        const image = await tx.productImage.findUnique({ where: { id: imageId }, select: { productId: true, mediaPath: true } });
        if (!image) return null;
        await tx.productImage.delete({ where: { id: imageId } });
        await tx.product.update({ where: { id: image.productId }, data: { updatedAt: new Date() } });
        return image;
      }),
  };
}
