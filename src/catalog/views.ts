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

/** A product as stored (src/db/product-fields.ts names its fields), its images as views. */
export interface ProductView extends Omit<StoredProduct, 'images'> {
  images: ImageView[];
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

export function productView({ images, ...product }: StoredProduct, media: MediaStore): ProductView {
  return { ...product, images: images.map((i) => imageView(i, media)) };
}
