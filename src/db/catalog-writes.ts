import { randomUUID } from 'node:crypto';
import type { Prisma, PrismaClient, Product } from '../../generated/prisma/client.js';
import type { Database, VectorModel } from './types.js';

export interface ProductRecord {
  source: string;
  externalId: string;
  title: string;
  description?: string | null;
  brand?: string | null;
  category?: string | null;
  colour?: string | null;
  price?: number | null;
  currency?: string | null;
  attributes?: Record<string, unknown>;
}

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

export type Tx = Prisma.TransactionClient;

const FIELDS = ['title', 'description', 'brand', 'category', 'colour', 'currency'] as const;

const productData = (p: ProductRecord) => ({
  title: p.title,
  description: p.description ?? null,
  brand: p.brand ?? null,
  category: p.category ?? null,
  colour: p.colour ?? null,
  price: p.price ?? null,
  currency: p.currency ?? null,
  attributes: (p.attributes ?? {}) as object,
});

type ProductRow = Awaited<ReturnType<Tx['product']['findFirstOrThrow']>>;

function differs(row: ProductRow, data: ReturnType<typeof productData>): boolean {
  return (
    FIELDS.some((f) => (f === 'currency' ? row.currency?.trim() ?? null : (row[f] ?? null)) !== data[f]) ||
    (row.price === null ? null : Number(row.price)) !== data.price ||
    JSON.stringify(row.attributes) !== JSON.stringify(data.attributes)
  );
}

const keyOf = (source: string, externalId: string) => `${source}\u0000${externalId}`;

/**
 * Inserts or updates products keyed by (source, externalId) and appends their new images with
 * their embeddings, all in one transaction: a failure leaves nothing half-written. `alsoInTx`
 * runs last inside the same transaction (the ingest records its progress there, atomically
 * with the products it reports).
 */
export async function saveProducts(
  db: Database,
  model: VectorModel,
  writes: ProductWrite[],
  alsoInTx?: (tx: Tx, saved: SavedProduct[]) => Promise<void>,
): Promise<SavedProduct[]> {
  return db.prisma.$transaction(async (tx) => {
    const existing = writes.length
      ? await tx.product.findMany({
          where: { OR: writes.map((w) => ({ source: w.product.source, externalId: w.product.externalId })) },
        })
      : [];
    const byKey = new Map(existing.map((row) => [keyOf(row.source, row.externalId), row]));
    const lastPositions = existing.length
      ? await tx.productImage.groupBy({
          by: ['productId'],
          where: { productId: { in: existing.map((e) => e.id) } },
          _max: { position: true },
        })
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
        creates.push({ id: productId, source: product.source, externalId: product.externalId, ...data });
        // A later write of the same key in this batch sees it as existing.
        byKey.set(key, { id: productId, source: product.source, externalId: product.externalId, ...data } as unknown as ProductRow);
        change = 'created';
      } else {
        productId = row.id;
        const changed = differs(row, data);
        if (changed || newImages.length > 0) {
          await tx.product.update({ where: { id: productId }, data: changed ? data : { updatedAt: new Date() } });
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
    // Through the Database, which counts embeddings written to keep planner statistics fresh.
    if (embeddings.length) await db.upsertEmbeddings(model, embeddings, tx);
    await alsoInTx?.(tx, saved);
    return saved;
  });
}

export interface KnownImage {
  imageId: string;
  productId: string;
  source: string;
  externalId: string;
}

/** Catalog images with these sha256s (the catalog-wide exact-duplicate check). */
export async function imagesBySha256(prisma: PrismaClient, sha256s: string[]): Promise<Map<string, KnownImage>> {
  if (sha256s.length === 0) return new Map();
  const rows = await prisma.productImage.findMany({
    where: { sha256: { in: [...new Set(sha256s)] } },
    select: { id: true, sha256: true, productId: true, product: { select: { source: true, externalId: true } } },
  });
  return new Map(
    rows.map((r) => [r.sha256, { imageId: r.id, productId: r.productId, source: r.product.source, externalId: r.product.externalId }]),
  );
}

export async function productRecord(prisma: PrismaClient, productId: string): Promise<ProductRecord | null> {
  const row = await prisma.product.findUnique({ where: { id: productId } });
  return row && recordOf(row);
}

/** A stored product row as plain fields (price as a number, currency trimmed of CHAR padding). */
export function recordOf(row: Product): Required<ProductRecord> {
  return {
    source: row.source,
    externalId: row.externalId,
    title: row.title,
    description: row.description,
    brand: row.brand,
    category: row.category,
    colour: row.colour,
    price: row.price === null ? null : Number(row.price),
    currency: row.currency?.trim() ?? null,
    attributes: (row.attributes ?? {}) as Record<string, unknown>,
  };
}

export async function productExists(prisma: PrismaClient, source: string, externalId: string): Promise<boolean> {
  return (await prisma.product.count({ where: { source, externalId } })) > 0;
}

/** Changes the given fields (undefined: keep; null: clear). False when there is no such product. */
export async function updateProductFields(
  prisma: PrismaClient,
  productId: string,
  patch: Partial<Omit<ProductRecord, 'source' | 'externalId'>>,
): Promise<boolean> {
  const data = Object.fromEntries(Object.entries(patch).filter(([, v]) => v !== undefined)) as Prisma.ProductUpdateInput;
  const { count } = await prisma.product.updateMany({ where: { id: productId }, data: { ...data, updatedAt: new Date() } });
  return count > 0;
}

/** Deletes products (their images, embeddings and near-duplicate links cascade); returns the media paths freed. */
export async function deleteProducts(
  prisma: PrismaClient,
  where: Prisma.ProductWhereInput,
): Promise<{ productIds: string[]; mediaPaths: string[] }> {
  return prisma.$transaction(async (tx) => {
    const products = await tx.product.findMany({ where, select: { id: true, images: { select: { mediaPath: true } } } });
    const productIds = products.map((p) => p.id);
    if (productIds.length) await tx.product.deleteMany({ where: { id: { in: productIds } } });
    return { productIds, mediaPaths: products.flatMap((p) => p.images.map((i) => i.mediaPath)) };
  });
}

/** Deletes one image (its embeddings and links cascade); null when there is no such image. */
export async function deleteImage(prisma: PrismaClient, imageId: string): Promise<{ productId: string; mediaPath: string } | null> {
  return prisma.$transaction(async (tx) => {
    const image = await tx.productImage.findUnique({ where: { id: imageId }, select: { productId: true, mediaPath: true } });
    if (!image) return null;
    await tx.productImage.delete({ where: { id: imageId } });
    await tx.product.update({ where: { id: image.productId }, data: { updatedAt: new Date() } });
    return image;
  });
}
