import { randomUUID } from 'node:crypto';
import type { Database } from '../db/index.js';
import { productPatchSchema, type ProductFieldsInput, type ProductPatch, type ProductRecord } from '../db/product-fields.js';
import { AppError } from '../errors.js';
import type { MediaStore } from '../storage/media-store.js';
import { isUuid, type CatalogService } from './catalog-service.js';
import type { ImageDecision } from './import-types.js';
import type { ProductImporter } from './product-importer.js';
import type { ProductView } from './views.js';

export const MANUAL_SOURCE = 'manual';

/** A new product as an admin sends it (ProductFieldsInput: undefined keeps a field, null clears it). */
export interface NewProductInput extends ProductFieldsInput {
  title: string;
  /** Default: a new UUID. */
  externalId?: string | null;
  /** Default: 'manual'. */
  source?: string | null;
}

export interface ImageDecisionView {
  sha256: string;
  decision: ImageDecision['decision'];
  imageId: string | null;
  duplicateOfProductId: string | null;
  duplicateOfImageId: string | null;
  distance: number | null;
}

export interface ProductWriteView {
  product: ProductView;
  /** What became of each uploaded image, in upload order. */
  images: ImageDecisionView[];
}

/**
 * Product and image edits one at a time, through the same write path as the ingest
 * (validation, dedupe, embedding, one transaction).
 */
export class ProductEditor {
  constructor(
    private readonly db: Database,
    private readonly importer: ProductImporter,
    private readonly media: MediaStore,
    private readonly catalog: CatalogService,
  ) {}

  async createProduct(input: NewProductInput, images: Buffer[]): Promise<ProductWriteView> {
    const product: ProductRecord = {
      ...checkFields(input),
      title: requiredTitle(input.title),
      source: input.source?.trim() || MANUAL_SOURCE,
      externalId: input.externalId?.trim() || randomUUID(),
    };
    if (await this.db.catalog.productByKey(product.source, product.externalId)) {
      throw new AppError('CONFLICT', `A product ${product.externalId} of source "${product.source}" already exists: use updateProduct.`);
    }
    const result = await this.importer.import(product, images.map((bytes) => ({ bytes })));
    return { product: (await this.catalog.product(result.productId))!, images: result.images.map(decisionView) };
  }

  async updateProduct(id: string, input: ProductFieldsInput): Promise<ProductView> {
    const patch = checkFields(input);
    if (input.title !== undefined) patch.title = requiredTitle(input.title);
    if (!isUuid(id) || !(await this.db.catalog.updateFields(id, patch))) throw notFound('product', id);
    return (await this.catalog.product(id))!;
  }

  async deleteProduct(id: string): Promise<boolean> {
    if (!isUuid(id)) throw notFound('product', id);
    const { productIds, mediaPaths } = await this.db.catalog.deleteProducts([id]);
    if (productIds.length === 0) throw notFound('product', id);
    await Promise.all(mediaPaths.map((p) => this.media.remove(p)));
    return true;
  }

  async addProductImages(productId: string, images: Buffer[]): Promise<ProductWriteView> {
    if (images.length === 0) throw new AppError('BAD_USER_INPUT', 'Send at least one image.');
    const stored = isUuid(productId) ? await this.db.catalog.product(productId) : null;
    if (!stored) throw notFound('product', productId);
    const { id: _id, images: _images, createdAt: _created, updatedAt: _updated, ...product } = stored;
    const result = await this.importer.import(product, images.map((bytes) => ({ bytes })));
    return { product: (await this.catalog.product(productId))!, images: result.images.map(decisionView) };
  }

  async removeProductImage(imageId: string): Promise<ProductView> {
    const removed = isUuid(imageId) ? await this.db.catalog.deleteImage(imageId) : null;
    if (!removed) throw notFound('image', imageId);
    await this.media.remove(removed.mediaPath);
    return (await this.catalog.product(removed.productId))!;
  }
}

function decisionView(d: ImageDecision): ImageDecisionView {
  const duplicate = d.decision === 'exact_duplicate' || d.decision === 'near_duplicate';
  return {
    sha256: d.sha256,
    decision: d.decision,
    imageId: d.decision === 'exact_duplicate' ? null : d.imageId,
    duplicateOfProductId: duplicate ? d.ofProductId : null,
    duplicateOfImageId: duplicate ? d.ofImageId : null,
    distance: d.decision === 'near_duplicate' ? d.distance : null,
  };
}

const notFound = (what: string, id: string) => new AppError('NOT_FOUND', `No ${what} with id ${id}.`);

function requiredTitle(title: string | null | undefined): string {
  const trimmed = title?.trim();
  if (!trimmed) throw new AppError('BAD_USER_INPUT', 'title must not be empty.');
  return trimmed;
}

/** The fields normalised by the product's schema; BAD_USER_INPUT with the first problem otherwise. */
function checkFields(input: ProductFieldsInput): ProductPatch {
  const parsed = productPatchSchema.safeParse(input);
  if (!parsed.success) throw new AppError('BAD_USER_INPUT', parsed.error.issues[0]!.message);
  return parsed.data;
}
