// The real-photo demo catalog: CC0 photos of clothing (alexeygrigorev/clothing-dataset-small, its
// test split, which no shipped model trained on), resized WebP files with a listing, in demo/photos.
// scripts/prepare-demo-photos.ts makes them from the dataset; the service loads them on first start.
import { existsSync } from 'node:fs';
import { readFile } from 'node:fs/promises';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { z } from 'zod';
import type { ProductRecord } from '../db/index.js';

export const PHOTO_DEMO_SOURCE = 'demo-photos';
export const LISTING_FILE = 'catalog.json';

/** One photo of the listing: the file beside it and the product it shows. */
export const photoListingEntry = z.object({
  file: z.string().regex(/^[\w.-]+\.webp$/),
  externalId: z.string().min(1),
  title: z.string().min(1),
  category: z.string().min(1),
  colour: z.string().min(1),
  price: z.number().positive(),
  currency: z.string().length(3),
  /** Where the photo came from (dataset and path), for the credit. */
  attributes: z.record(z.string(), z.unknown()),
});
export type PhotoListingEntry = z.infer<typeof photoListingEntry>;
export const photoListing = z.array(photoListingEntry).min(1);

export interface PhotoProduct {
  product: ProductRecord;
  /** The photo's path on disk. */
  file: string;
}

/** demo/photos, looked up from src/demo (tsx) or dist/src/demo (built). */
export function photoDemoDir(): string {
  const here = path.dirname(fileURLToPath(import.meta.url));
  const dir = ['../..', '../../..']
    .map((up) => path.resolve(here, up, 'demo/photos'))
    .find((d) => existsSync(path.join(d, LISTING_FILE)));
  if (!dir) throw new Error(`The photo demo catalog (demo/photos/${LISTING_FILE}) is missing; DEMO_CATALOG=drawn uses the drawn one.`);
  return dir;
}

/** Every product of the photo demo, in listing order. */
export async function photoProducts(dir = photoDemoDir()): Promise<PhotoProduct[]> {
  const listing = photoListing.parse(JSON.parse(await readFile(path.join(dir, LISTING_FILE), 'utf8')));
  return listing.map(({ file, ...fields }) => ({
    product: { source: PHOTO_DEMO_SOURCE, description: null, brand: null, ...fields },
    file: path.join(dir, file),
  }));
}
