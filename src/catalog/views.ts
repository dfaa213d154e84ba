import type { Product as ProductRow, ProductImage as ImageRow } from '../../generated/prisma/client.js';
import { recordOf } from '../db/product-writes.js';
import type { MediaStore } from '../storage/media-store.js';

// What services hand to the API faces: plain data, URLs resolved, no ORM types.

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

export function imageView(row: ImageRow, media: MediaStore): ImageView {
  return {
    id: row.id,
    ...media.urls(row.mediaPath),
    width: row.width,
    height: row.height,
    position: row.position,
    sha256: row.sha256,
  };
}

export function productView(row: ProductRow & { images: ImageRow[] }, media: MediaStore): ProductView {
  return {
    id: row.id,
    ...recordOf(row),
    images: [...row.images].sort((a, b) => a.position - b.position).map((i) => imageView(i, media)),
    createdAt: row.createdAt,
    updatedAt: row.updatedAt,
  };
}
