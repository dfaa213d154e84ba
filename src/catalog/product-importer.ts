import { saveProduct, type ProductRecord, type SavedProduct } from '../db/product-writes.js';
import type { Database, VectorModel } from '../db/types.js';
import { perceptualHash, renderMedia, validateImage } from '../ml/image.js';
import type { Models, ValidatedImage } from '../ml/types.js';
import type { MediaStore } from '../storage/media-store.js';

export interface ImageInput {
  bytes: Buffer;
  sourceUrl?: string | null;
}

export interface ImportResult extends SavedProduct {
  /** Images skipped because the same bytes are already in the catalog. */
  duplicates: { sha256: string; existingProductId: string }[];
}

/**
 * The write path for one product: validate images → drop exact duplicates (sha256, whole catalog)
 * → media renditions → embed → one database transaction. Throws ImageError on a bad image
 * before anything is stored.
 */
export class ProductImporter {
  constructor(
    private readonly db: Database,
    private readonly models: Models,
    private readonly media: MediaStore,
    private readonly vectorModel: VectorModel,
    private readonly maxPixels: number,
  ) {}

  async validate(images: ImageInput[]): Promise<ValidatedImage[]> {
    return Promise.all(images.map((i) => validateImage(i.bytes, { maxPixels: this.maxPixels })));
  }

  async import(product: ProductRecord, images: ImageInput[]): Promise<ImportResult> {
    const validated = await this.validate(images);
    const known = await this.db.prisma.productImage.findMany({
      where: { sha256: { in: validated.map((v) => v.sha256) } },
      select: { sha256: true, productId: true },
    });
    const knownBySha = new Map(known.map((k) => [k.sha256, k.productId]));
    const seen = new Set<string>();
    const fresh: { image: ValidatedImage; sourceUrl: string | null }[] = [];
    const duplicates: ImportResult['duplicates'] = [];
    validated.forEach((image, i) => {
      const existingProductId = knownBySha.get(image.sha256);
      if (existingProductId) duplicates.push({ sha256: image.sha256, existingProductId });
      else if (!seen.has(image.sha256)) fresh.push({ image, sourceUrl: images[i].sourceUrl ?? null });
      seen.add(image.sha256);
    });

    const positionBase = await this.nextPosition(product);
    const embeddings = await this.models.embed(fresh.map((f) => ({ image: f.image })));
    const records = await Promise.all(
      fresh.map(async ({ image, sourceUrl }, i) => ({
        sha256: image.sha256,
        phash: await perceptualHash(image),
        width: image.width,
        height: image.height,
        mediaPath: await this.saveMedia(image),
        position: positionBase + i,
        sourceUrl,
        vector: embeddings[i].vector,
        features: embeddings[i].features,
      })),
    );
    const saved = await saveProduct(this.db.prisma, this.vectorModel, product, records);
    return { ...saved, duplicates };
  }

  private async saveMedia(image: ValidatedImage): Promise<string> {
    const { display, thumbnail, contentType } = await renderMedia(image);
    return this.media.save(image.sha256, { display, thumbnail, extension: contentType.split('/')[1] });
  }

  private async nextPosition(product: ProductRecord): Promise<number> {
    const last = await this.db.prisma.productImage.findFirst({
      where: { product: { source: product.source, externalId: product.externalId } },
      orderBy: { position: 'desc' },
      select: { position: true },
    });
    return last ? last.position + 1 : 0;
  }
}
