import type { CatalogReads, Database, ProductFilter } from '../db/index.js';
import { AppError } from '../errors.js';
import type { ActiveModel } from '../models/active-model.js';
import type { MediaStore } from '../storage/media-store.js';
import { productView, type ProductView } from './views.js';

export const MAX_PAGE_SIZE = 100;

export interface ProductPage {
  edges: { cursor: string; node: ProductView }[];
  pageInfo: { hasNextPage: boolean; endCursor: string | null };
  totalCount: number;
}

/**
 * Reads the catalog: products, pages of products, statistics. `reads` says where from: the
 * replicas for shoppers (db.replicaCatalog), the primary (the default) where a caller reads back
 * what it just wrote.
 */
export class CatalogService {
  constructor(
    private readonly db: Database,
    private readonly media: MediaStore,
    private readonly model: ActiveModel,
    private readonly reads: CatalogReads = db.catalog,
  ) {}

  async product(id: string): Promise<ProductView | null> {
    if (!isUuid(id)) return null;
    const product = await this.reads.product(id);
    return product && productView(product, this.media);
  }

  /** Products by id, in the order asked; ids that do not exist are left out. */
  async productsById(ids: string[]): Promise<Map<string, ProductView>> {
    const products = await this.reads.products(ids);
    return new Map(products.map((p) => [p.id, productView(p, this.media)]));
  }

  async products(first: number, after: string | null | undefined, filter: ProductFilter = {}): Promise<ProductPage> {
    if (!Number.isInteger(first) || first < 1 || first > MAX_PAGE_SIZE) {
      throw new AppError('BAD_USER_INPUT', `first must be between 1 and ${MAX_PAGE_SIZE}.`);
    }
    const afterId = after ? decodeCursor(after) : null;
    const [page, totalCount] = await Promise.all([
      this.reads.listProducts(filter, first, afterId),
      this.reads.countProducts(filter),
    ]);
    const edges = page.products.map((p) => ({ cursor: encodeCursor(p.id), node: productView(p, this.media) }));
    return {
      edges,
      pageInfo: { hasNextPage: page.hasNextPage, endCursor: edges.at(-1)?.cursor ?? null },
      totalCount,
    };
  }

  async stats() {
    const { models, vectorModel } = this.model.current();
    const { info, provider } = models;
    const [products, images, embeddings, index] = await Promise.all([
      this.reads.countProducts(),
      this.reads.countImages(),
      this.db.vectors.count(vectorModel.key),
      this.db.models.indexInfo(vectorModel),
    ]);
    return {
      products,
      images,
      embeddings,
      database: this.db.kind,
      model: { key: vectorModel.key, name: info.name, version: info.version, dim: info.dim, metric: info.metric, inputSize: info.inputSize, provider },
      index: index && { ...index, type: 'hnsw' },
    };
  }
}

export function isUuid(id: string): boolean {
  return /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i.test(id);
}

const encodeCursor = (id: string) => Buffer.from(`p:${id}`).toString('base64url');

function decodeCursor(cursor: string): string {
  const decoded = Buffer.from(cursor, 'base64url').toString();
  const id = decoded.startsWith('p:') ? decoded.slice(2) : '';
  if (!isUuid(id)) throw new AppError('BAD_USER_INPUT', 'The cursor is not one this API returned.');
  return id;
}
