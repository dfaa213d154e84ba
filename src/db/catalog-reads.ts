// Reads of the catalog: products with their images (as plain fields: price a number, currency
// without CHAR padding), pages of a filtered listing, counts, images by content hash.
import { Prisma, type Product, type ProductImage } from '../../generated/prisma/client.js';
import { PRODUCT_FIELD_NAMES, PRODUCT_FIELDS, type ProductFieldKind, type ProductFieldName, type ProductRecord } from './product-fields.js';
import { productFilterSql, whereSql } from './product-filter.js';
import type { Scope } from './scope.js';
import type { ProductFilter } from './types.js';

export interface StoredImage {
  id: string;
  productId: string;
  sha256: string;
  phash: string;
  width: number;
  height: number;
  mediaPath: string;
  position: number;
  sourceUrl: string | null;
  createdAt: Date;
}

export interface StoredProduct extends Required<ProductRecord> {
  id: string;
  /** In position order. */
  images: StoredImage[];
  createdAt: Date;
  updatedAt: Date;
}

export interface KnownImage {
  imageId: string;
  productId: string;
  source: string;
  externalId: string;
}

export interface ProductListing {
  /** In creation order. */
  products: StoredProduct[];
  hasNextPage: boolean;
}

export interface CatalogReads {
  product(id: string): Promise<StoredProduct | null>;
  /** Products by id; ids that do not exist are left out. */
  products(ids: string[]): Promise<StoredProduct[]>;
  productByKey(source: string, externalId: string): Promise<StoredProduct | null>;
  /** `first` products matching the filter, in creation order, after the product `afterId`. */
  listProducts(filter: ProductFilter, first: number, afterId: string | null): Promise<ProductListing>;
  countProducts(filter?: ProductFilter): Promise<number>;
  countImages(): Promise<number>;
  /** Catalog images with these sha256s (the catalog-wide exact-duplicate check). */
  imagesBySha256(sha256s: string[]): Promise<Map<string, KnownImage>>;
  /** External id → product id of a source's products that have an image embedded under the model. */
  embeddedProductIds(source: string, modelKey: string): Promise<Map<string, string>>;
}

/** A column's value as a plain field value. */
function plain(kind: ProductFieldKind, value: unknown): unknown {
  if (value === null) return kind === 'attributes' ? {} : null;
  if (kind === 'price') return Number(value);
  // CHAR(3) comes back padded when it holds fewer letters.
  if (kind === 'currency') return (value as string).trim();
  return value;
}

/** A stored product row as plain fields (price a number, currency without CHAR padding). */
export function recordOf(row: Pick<Product, 'source' | 'externalId'> & Record<ProductFieldName, unknown>): Required<ProductRecord> {
  return {
    source: row.source,
    externalId: row.externalId,
    ...Object.fromEntries(PRODUCT_FIELD_NAMES.map((f) => [f, plain(PRODUCT_FIELDS[f].kind, row[f])])),
  } as Required<ProductRecord>;
}

function storedProduct(row: Product & { images: ProductImage[] }): StoredProduct {
  return {
    id: row.id,
    ...recordOf(row),
    images: [...row.images].sort((a, b) => a.position - b.position),
    createdAt: row.createdAt,
    updatedAt: row.updatedAt,
  };
}

export function catalogReads(scope: Scope): CatalogReads {
  const { q } = scope;
  // One statement (a search hydrates its hits with it): products and their images as JSON.
  const byIds = async (ids: string[]) => {
    if (ids.length === 0) return [];
    // Timestamps as timestamptz: the driver parses those alike everywhere (src/db/scope.ts).
    const rows = await scope.sql<Product & { images: (Omit<ProductImage, 'createdAt'> & { createdAt: string })[] }>(Prisma.sql`
      SELECT p.id::text AS id, p.source, p.external_id AS "externalId", p.title, p.description, p.brand, p.category,
             p.colour, p.price::text AS price, p.currency, p.attributes,
             p.created_at AT TIME ZONE 'UTC' AS "createdAt", p.updated_at AT TIME ZONE 'UTC' AS "updatedAt",
             COALESCE(json_agg(json_build_object(
               'id', i.id, 'productId', i.product_id, 'sha256', i.sha256, 'phash', i.phash, 'width', i.width,
               'height', i.height, 'mediaPath', i.media_path, 'position', i.position, 'sourceUrl', i.source_url,
               'createdAt', i.created_at) ORDER BY i.position, i.created_at, i.id) FILTER (WHERE i.id IS NOT NULL), '[]') AS images
      FROM products p LEFT JOIN product_images i ON i.product_id = p.id
      WHERE p.id = ANY(${ids}::uuid[])
      GROUP BY p.id`);
    return rows.map((row) => storedProduct({ ...row, images: row.images.map((i) => ({ ...i, createdAt: new Date(i.createdAt) })) }));
  };
  return {
    async product(id) {
      const row = await q.product.findUnique({ where: { id }, include: { images: true } });
      return row && storedProduct(row);
    },

    products: byIds,

    async productByKey(source, externalId) {
      const row = await q.product.findUnique({ where: { source_externalId: { source, externalId } }, include: { images: true } });
      return row && storedProduct(row);
    },

    async listProducts(filter, first, afterId) {
      const conds = productFilterSql(filter);
      if (afterId) {
        // No rows after a cursor whose product is gone (the comparison with NULL fails).
        conds.push(Prisma.sql`(p.created_at, p.id) > (SELECT c.created_at, c.id FROM products c WHERE c.id = ${afterId}::uuid)`);
      }
      const page = await q.$queryRaw<{ id: string }[]>`
        SELECT p.id::text AS id FROM products p ${whereSql(conds)}
        ORDER BY p.created_at, p.id
        LIMIT ${first + 1}`;
      const ids = page.slice(0, first).map((r) => r.id);
      const found = new Map((await byIds(ids)).map((p) => [p.id, p]));
      return { products: ids.flatMap((id) => found.get(id) ?? []), hasNextPage: page.length > first };
    },

    async countProducts(filter) {
      const [row] = await q.$queryRaw<{ n: number }[]>`SELECT count(*)::int AS n FROM products p ${whereSql(productFilterSql(filter))}`;
      return row?.n ?? 0;
    },

    countImages: () => q.productImage.count(),

    async imagesBySha256(sha256s) {
      if (sha256s.length === 0) return new Map();
      const rows = await scope.sql<KnownImage & { sha256: string }>(Prisma.sql`
        SELECT i.sha256, i.id::text AS "imageId", i.product_id::text AS "productId", p.source, p.external_id AS "externalId"
        FROM product_images i JOIN products p ON p.id = i.product_id
        WHERE i.sha256 = ANY(${[...new Set(sha256s)]}::bpchar[])`);
      return new Map(rows.map(({ sha256, ...known }) => [sha256, known]));
    },

    async embeddedProductIds(source, modelKey) {
      const rows = await q.product.findMany({
        where: { source, images: { some: { embeddings: { some: { modelKey } } } } },
        select: { id: true, externalId: true },
      });
      return new Map(rows.map((r) => [r.externalId, r.id]));
    },
  };
}
