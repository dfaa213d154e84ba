import type { StoredImage, StoredProduct } from '../db/index.js';
import type { MediaStore } from '../storage/media-store.js';

// What services hand to the API faces: plain data, URLs resolved, no storage types.

export interface ImageView {
  id: string;
  url: string;
  thumbnailUrl: string;
  width: number;
  height: number;
  position: number;
  sha256: string;
}

export interface ProductView {
  id: string;
  externalId: string;
  source: string;
  title: string;
  description: string | null;
  brand: string | null;
  category: string | null;
  colour: string | null;
  price: number | null;
  currency: string | null;
  attributes: Record<string, unknown>;
  images: ImageView[];
  createdAt: Date;
  updatedAt: Date;
}

export function imageView(image: StoredImage, media: MediaStore): ImageView {
  return {
    id: image.id,
    ...media.urls(image.mediaPath),
    width: image.width,
    height: image.height,
    position: image.position,
    sha256: image.sha256,
  };
}

export function productView(product: StoredProduct, media: MediaStore): ProductView {
  return {
    id: product.id,
    externalId: product.externalId,
    source: product.source,
    title: product.title,
    description: product.description,
    brand: product.brand,
    category: product.category,
    colour: product.colour,
    price: product.price,
    currency: product.currency,
    attributes: product.attributes,
    images: product.images.map((i) => imageView(i, media)),
    createdAt: product.createdAt,
    updatedAt: product.updatedAt,
  };
}
