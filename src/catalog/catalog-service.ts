import type { Prisma } from '../../generated/prisma/client.js';
import type { Database, ProductFilter, VectorModel } from '../db/types.js';
import { AppError } from '../errors.js';
import type { ModelInfo } from '../ml/types.js';
import type { MediaStore } from '../storage/media-store.js';
import { productView, type ProductView } from './views.js';

export const MAX_PAGE_SIZE = 100;

export interface ProductPage {
  edges: { cursor: string; node: ProductView }[];
  pageInfo: { hasNextPage: boolean; endCursor: string | null };
  totalCount: number;
}

/** Reads the catalog: products, pages of products, statistics. */
export class CatalogService {
  constructor(
    private readonly db: Database,
    private readonly media: MediaStore,
    private readonly model: { info: ModelInfo; provider: string; vectorModel: VectorModel },
  ) {}

  async product(id: string): Promise<ProductView | null> {
    if (!isUuid(id)) return null;
    const row = await this.db.prisma.product.findUnique({ where: { id }, include: { images: true } });
    return row && productView(row, this.media);
  }

  /** Products by id, in the order asked; ids that do not exist are left out. */
  async productsById(ids: string[]): Promise<Map<string, ProductView>> {
    const rows = await this.db.prisma.product.findMany({ where: { id: { in: ids } }, include: { images: true } });
    return new Map(rows.map((r) => [r.id, productView(r, this.media)]));
  }

  async products(first: number, after: string | null | undefined, filter: ProductFilter = {}): Promise<ProductPage> {
    if (!Number.isInteger(first) || first < 1 || first > MAX_PAGE_SIZE) {
      throw new AppError('BAD_USER_INPUT', `first must be between 1 and ${MAX_PAGE_SIZE}.`);
    }
    const afterId = after ? decodeCursor(after) : null;
    const where = productWhere(filter);
    const [rows, totalCount] = await Promise.all([
      this.db.prisma.product.findMany({
        where,
        include: { images: true },
        orderBy: [{ createdAt: 'asc' }, { id: 'asc' }],
        take: first + 1,
        ...(afterId ? { cursor: { id: afterId }, skip: 1 } : {}),
      }),
      this.db.prisma.product.count({ where }),
    ]);
    const page = rows.slice(0, first);
    const edges = page.map((r) => ({ cursor: encodeCursor(r.id), node: productView(r, this.media) }));
    return {
      edges,
      pageInfo: { hasNextPage: rows.length > first, endCursor: edges.at(-1)?.cursor ?? null },
      totalCount,
    };
  }

  async stats() {
    const { info, provider, vectorModel } = this.model;
    const [products, images, embeddings, index] = await Promise.all([
      this.db.prisma.product.count(),
      this.db.prisma.productImage.count(),
      this.db.prisma.imageEmbedding.count({ where: { modelKey: info.key } }),
      this.db.indexInfo(vectorModel),
    ]);
    return {
      products,
      images,
      embeddings,
      database: this.db.kind,
      model: { key: info.key, name: info.name, version: info.version, dim: info.dim, metric: info.metric, inputSize: info.inputSize, provider },
      index: index && { ...index, type: 'hnsw' },
    };
  }
}

/** The same filter semantics as the vector search's SQL (src/db), for plain listing. */
export function productWhere(filter: ProductFilter): Prisma.ProductWhereInput {
  const and: Prisma.ProductWhereInput[] = [];
  if (filter.category?.length) and.push({ category: { in: filter.category } });
  if (filter.colour?.length) and.push({ colour: { in: filter.colour } });
  if (filter.brand?.length) and.push({ brand: { in: filter.brand } });
  if (filter.minPrice != null) and.push({ price: { gte: filter.minPrice } });
  if (filter.maxPrice != null) and.push({ price: { lte: filter.maxPrice } });
  if (filter.keyword?.trim()) and.push({ title: { contains: filter.keyword.trim(), mode: 'insensitive' } });
  return { AND: and };
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
