// Writes of the catalog: products keyed by (source, externalId) with their new images and
// embeddings in one transaction, field edits, deletions (images, embeddings and near-duplicate
// links cascade).
import { randomUUID } from 'node:crypto';
import { isDeepStrictEqual } from 'node:util';
import { Prisma } from '../../generated/prisma/client.js';
import { upsertEmbeddings } from './embeddings.js';
import { PRODUCT_FIELD_NAMES, PRODUCT_FIELDS, type ProductPatch, type ProductRecord } from './product-fields.js';
import type { PlannerStats } from './planner-stats.js';
import type { DriverStatement, Scope } from './scope.js';
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

/** A stored product's key and fields, as the batch write reads them back. */
type ProductRow = { id: string; source: string; externalId: string; lastPosition: number | null } & Record<keyof ProductData, unknown>;

/**
 * Whether a stored row differs from the record's fields (compared as plain values). Attributes
 * compare as values, not as text: jsonb keeps its own key order, not the one they came in.
 */
function differs(row: ProductRow, data: ProductData): boolean {
  const stored = recordOf(row);
  return PRODUCT_FIELD_NAMES.some((f) =>
    PRODUCT_FIELDS[f].kind === 'attributes' ? !isDeepStrictEqual(row.attributes, data.attributes) : stored[f] !== data[f],
  );
}

const keyOf = (source: string, externalId: string) => `${source}\u0000${externalId}`;

/**
 * The batch write of saveProducts, on the driver: a handful of statements a batch instead of
 * Prisma's engine building each (its CPU was ~2 ms per product on the service's thread).
 */
export async function saveProducts(sql: DriverStatement, storage: VectorStorage, stats: PlannerStats, model: VectorModel, writes: ProductWrite[]): Promise<SavedProduct[]> {
  if (writes.length === 0) return [];
  const existing = await sql<ProductRow>(Prisma.sql`
    SELECT p.id::text AS id, p.source, p.external_id AS "externalId", p.title, p.description, p.brand, p.category,
           p.colour, p.price::text AS price, p.currency, p.attributes,
           (SELECT max(i.position) FROM product_images i WHERE i.product_id = p.id) AS "lastPosition"
    FROM products p
    JOIN unnest(${writes.map((w) => w.product.source)}::text[], ${writes.map((w) => w.product.externalId)}::text[]) AS k(source, external_id)
      ON p.source = k.source AND p.external_id = k.external_id`);
  const byKey = new Map(existing.map((row) => [keyOf(row.source, row.externalId), row]));
  const nextPosition = new Map(existing.map((row) => [row.id, (row.lastPosition ?? -1) + 1]));

  const saved: SavedProduct[] = [];
  // By product id, so that a key written twice in one batch ends with its last fields.
  const creates = new Map<string, object>();
  const updates = new Map<string, ProductData>();
  const touched = new Set<string>();
  const images: object[] = [];
  for (const { product, images: newImages } of writes) {
    const key = keyOf(product.source, product.externalId);
    const data = productData(product);
    const row = byKey.get(key);
    let productId: string;
    let change: SavedProduct['change'];
    if (!row) {
      productId = randomUUID();
      creates.set(productId, { id: productId, source: product.source, externalId: product.externalId, ...data });
      // A later write of the same key in this batch sees it as existing.
      byKey.set(key, { id: productId, source: product.source, externalId: product.externalId, lastPosition: null, ...data });
      change = 'created';
    } else {
      productId = row.id;
      const changed = differs(row, data);
      if (changed) {
        const created = creates.get(productId);
        if (created) creates.set(productId, { ...created, ...data });
        else updates.set(productId, data);
        byKey.set(key, { ...row, ...data });
      } else if (newImages.length > 0) touched.add(productId);
      change = changed || newImages.length > 0 ? 'updated' : 'unchanged';
    }
    let position = nextPosition.get(productId) ?? 0;
    for (const image of newImages) {
      const { id, sha256, phash, width, height, mediaPath } = image;
      images.push({ id, productId, sha256, phash, width, height, mediaPath, position: position++, sourceUrl: image.sourceUrl ?? null });
    }
    nextPosition.set(productId, position);
    saved.push({ productId, change, imageIds: newImages.map((i) => i.id) });
  }
  // Rows go in as one JSON parameter, read back with jsonb_to_recordset: one statement whatever their number.
  const fields = Prisma.sql`title text, description text, brand text, category text, colour text, price numeric, currency text, attributes jsonb`;
  if (creates.size) {
    await sql(Prisma.sql`
      INSERT INTO products (id, source, external_id, title, description, brand, category, colour, price, currency, attributes)
      SELECT id, source, "externalId", title, description, brand, category, colour, price, currency, attributes
      FROM jsonb_to_recordset(${JSON.stringify([...creates.values()])}::jsonb) AS r(id uuid, source text, "externalId" text, ${fields})`);
  }
  if (updates.size) {
    await sql(Prisma.sql`
      UPDATE products p SET title = r.title, description = r.description, brand = r.brand, category = r.category, colour = r.colour,
             price = r.price, currency = r.currency, attributes = r.attributes, updated_at = CURRENT_TIMESTAMP
      FROM jsonb_to_recordset(${JSON.stringify([...updates].map(([id, data]) => ({ id, ...data })))}::jsonb) AS r(id uuid, ${fields})
      WHERE p.id = r.id`);
  }
  if (touched.size) await sql(Prisma.sql`UPDATE products SET updated_at = CURRENT_TIMESTAMP WHERE id = ANY(${[...touched]}::uuid[])`);
  if (images.length) {
    await sql(Prisma.sql`
      INSERT INTO product_images (id, product_id, sha256, phash, width, height, media_path, position, source_url)
      SELECT id, "productId", sha256, phash, width, height, "mediaPath", position, "sourceUrl"
      FROM jsonb_to_recordset(${JSON.stringify(images)}::jsonb)
        AS r(id uuid, "productId" uuid, sha256 text, phash text, width int, height int, "mediaPath" text, position int, "sourceUrl" text)`);
  }
  const embeddings = writes.flatMap((w) => w.images.map((i) => ({ imageId: i.id, vector: i.vector, features: i.features })));
  await upsertEmbeddings(sql, storage, stats, model, embeddings);
  return saved;
}

export function catalogWrites(scope: Scope, storage: VectorStorage, stats: PlannerStats): CatalogWrites {
  return {
    saveProducts: (model, writes) => scope.atomicSql((sql) => saveProducts(sql, storage, stats, model, writes)),

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
