import type { PrismaClient } from '../../generated/prisma/client.js';
import { float32ToBytes, vectorToSql } from './floats.js';
import type { VectorModel } from './types.js';

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
  sha256: string;
  phash: string;
  width: number;
  height: number;
  mediaPath: string;
  position: number;
  sourceUrl?: string | null;
  vector: Float32Array;
  features: Float32Array;
}

export interface SavedProduct {
  productId: string;
  /** 'created', 'updated' (a field changed), or 'unchanged'. */
  change: 'created' | 'updated' | 'unchanged';
  imageIds: string[];
}

const FIELDS = ['title', 'description', 'brand', 'category', 'colour', 'currency'] as const;

/**
 * Inserts or updates a product keyed by (source, externalId) and adds its new images with their
 * embeddings, all in one transaction: a failure leaves nothing half-written.
 */
export async function saveProduct(
  prisma: PrismaClient,
  model: VectorModel,
  product: ProductRecord,
  images: ImageRecord[],
): Promise<SavedProduct> {
  return prisma.$transaction(async (tx) => {
    const data = {
      title: product.title,
      description: product.description ?? null,
      brand: product.brand ?? null,
      category: product.category ?? null,
      colour: product.colour ?? null,
      price: product.price ?? null,
      currency: product.currency ?? null,
      attributes: (product.attributes ?? {}) as object,
    };
    const key = { source: product.source, externalId: product.externalId };
    const existing = await tx.product.findUnique({ where: { source_externalId: key } });
    let productId: string;
    let change: SavedProduct['change'];
    if (!existing) {
      productId = (await tx.product.create({ data: { ...key, ...data }, select: { id: true } })).id;
      change = 'created';
    } else {
      productId = existing.id;
      const differs =
        FIELDS.some((f) => (existing[f] ?? null) !== data[f]) ||
        (existing.price === null ? null : Number(existing.price)) !== data.price ||
        JSON.stringify(existing.attributes) !== JSON.stringify(data.attributes);
      if (differs) await tx.product.update({ where: { id: productId }, data });
      change = differs ? 'updated' : 'unchanged';
    }
    const imageIds: string[] = [];
    for (const image of images) {
      const { id } = await tx.productImage.create({
        data: {
          productId,
          sha256: image.sha256,
          phash: image.phash,
          width: image.width,
          height: image.height,
          mediaPath: image.mediaPath,
          position: image.position,
          sourceUrl: image.sourceUrl ?? null,
        },
        select: { id: true },
      });
      await tx.$executeRaw`
        INSERT INTO image_embeddings (image_id, model_key, embedding, features)
        VALUES (${id}::uuid, ${model.key}, ${vectorToSql(image.vector, model.dim)}::vector, ${float32ToBytes(image.features)})`;
      imageIds.push(id);
    }
    if (images.length > 0 && change === 'unchanged') {
      await tx.product.update({ where: { id: productId }, data: { updatedAt: new Date() } });
      change = 'updated';
    }
    return { productId, change, imageIds };
  });
}
