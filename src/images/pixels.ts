// An image's pixels, decoded once and shared: the perceptual hash and the embedder's
// preprocessing both start from the oriented image flattened onto white in sRGB, and on small
// catalog photos sharp's per-pipeline cost, not the pixels, was most of each decode (a 224 px
// JPEG: 1.6 ms decoded, 4.3 ms hashed through libvips, on this project's 2-core machines).
import { firstLine, ImageError } from './errors.js';
import type { RgbPixels } from './raster.js';
import type { ValidatedImage } from './types.js';
import { openImage } from './validate.js';

/**
 * Largest image whose pixels are kept with it for the embedder: 256 × 256, 196 KB of RGB. An
 * ingest holds up to two pages of validated images (200 by default), so kept pixels stay within
 * ~40 MB; and on small photos the second decode saved is mostly sharp's fixed cost per pipeline.
 * Larger images are decoded again by the embedder, and hashed from a copy shrunk while decoding.
 */
export const KEEP_PIXELS_MAX = 256 * 256;

/** Flattened sRGB pixels, 3 bytes each, row-major (a Uint8Array once cloned to a worker thread). */
export interface DecodedPixels extends RgbPixels {
  data: Uint8Array;
}

export interface DecodePixelsOptions {
  /** Shrink to fit this many pixels a side while decoding (JPEG and WebP shrink on load). */
  maxSide?: number;
  /** Only this rectangle of the oriented image, in pixels. */
  crop?: { left: number; top: number; width: number; height: number };
}

/**
 * The oriented image's pixels, alpha flattened onto white, sRGB, 3 bytes each: exactly what
 * the embedder's preprocessing resizes. Decodes every pixel, so corrupt or truncated data fails
 * here as BAD_IMAGE.
 */
export async function decodePixels(image: ValidatedImage, opts: DecodePixelsOptions = {}): Promise<DecodedPixels> {
  let pipeline = openImage(image);
  if (opts.crop) pipeline = pipeline.extract(opts.crop);
  if (opts.maxSide) pipeline = pipeline.resize(opts.maxSide, opts.maxSide, { fit: 'inside', withoutEnlargement: true });
  try {
    const { data, info } = await pipeline
      .flatten({ background: '#ffffff' })
      .toColourspace('srgb')
      .removeAlpha()
      .raw({ depth: 'uchar' })
      .toBuffer({ resolveWithObject: true });
    if (info.channels !== 3) throw new Error(`expected 3 channels, got ${info.channels}`);
    return { data, width: info.width, height: info.height };
  } catch (err) {
    throw new ImageError('BAD_IMAGE', `The ${image.format.toUpperCase()} image is corrupt or truncated: ${firstLine(err)}`);
  }
}

/** The image with its decoded pixels kept, when it is small enough (KEEP_PIXELS_MAX); a larger one as it is. */
export async function withPixels(image: ValidatedImage): Promise<ValidatedImage> {
  if (image.pixels) return image;
  if (image.width * image.height > KEEP_PIXELS_MAX) return image;
  return { ...image, pixels: await decodePixels(image) };
}
