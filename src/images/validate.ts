// Image bytes in: validation (type sniffed from the bytes, decodable, pixel limit) before anything
// else touches them, and the one way to open validated bytes with sharp.
import { createHash } from 'node:crypto';
import { fileTypeFromBuffer } from 'file-type';
import sharp, { type Metadata, type Sharp } from 'sharp';
import { isBareJpeg, isBareWebp } from './bare-bytes.js';
import { firstLine, ImageError } from './errors.js';
import type { ImageFormat, ValidatedImage } from './types.js';

const FORMATS: Record<string, ImageFormat> = {
  'image/jpeg': 'jpeg',
  'image/png': 'png',
  'image/webp': 'webp',
  'image/gif': 'gif',
  'image/avif': 'avif',
};

/** What libvips calls each accepted format (AVIF decodes through heif). */
const VIPS_FORMAT: Record<ImageFormat, string> = { jpeg: 'jpeg', png: 'png', webp: 'webp', gif: 'gif', avif: 'heif' };

export const SUPPORTED_IMAGE_TYPES = Object.keys(FORMATS);

// libvips keeps recent operations and their pixels (up to 50 MB) for reuse; every upload is a
// new image, so the cache only holds memory after a burst of them.
sharp.cache(false);

export interface ValidateImageOptions {
  /** Largest accepted width × height (after decoding the header, before any pixel is decoded). */
  maxPixels: number;
  /** Largest accepted width or height: decoding work follows the longer side, not only the area. */
  maxSide?: number;
  /** Largest accepted ratio of the longer side to the shorter one. */
  maxAspectRatio?: number;
  /**
   * Decode every pixel now, so that corrupt or truncated data fails here (default true). false:
   * header checks only, for a caller that decodes the whole image next anyway (a search query's
   * preprocessing, which reports such data as BAD_IMAGE itself): the image is not decoded twice.
   */
  decode?: boolean;
}

/** Opens validated bytes with sharp: orientation from EXIF applied, first frame only. */
export function openImage(image: ValidatedImage): Sharp {
  // Validation has already enforced the pixel limit and decodability.
  return sharp(image.bytes, { autoOrient: true, limitInputPixels: false, failOn: 'error' });
}

/**
 * Checks that bytes are a supported, decodable image within the pixel limit.
 * Throws ImageError: UNSUPPORTED_IMAGE_TYPE (not JPEG/PNG/WebP/GIF/AVIF by its bytes, e.g. SVG),
 * IMAGE_TOO_LARGE (width × height over maxPixels, a side over maxSide, or thinner than
 * maxAspectRatio allows), BAD_IMAGE (empty, corrupt or truncated).
 */
export async function validateImage(bytes: Uint8Array, opts: ValidateImageOptions): Promise<ValidatedImage> {
  const buf = Buffer.isBuffer(bytes) ? bytes : Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  if (buf.length === 0) throw new ImageError('BAD_IMAGE', 'The image is empty (0 bytes).');
  const type = await fileTypeFromBuffer(buf);
  const format = type ? FORMATS[type.mime] : undefined;
  if (!format) {
    const what = type ? ` (${type.mime})` : looksLikeSvg(buf) ? ' (SVG)' : '';
    throw new ImageError('UNSUPPORTED_IMAGE_TYPE', `Unsupported image type${what}: use JPEG, PNG, WebP, GIF or AVIF.`);
  }

  let meta: Metadata;
  try {
    meta = await sharp(buf, { limitInputPixels: false, failOn: 'error' }).metadata();
  } catch (err) {
    throw new ImageError('BAD_IMAGE', `The ${format.toUpperCase()} image cannot be read: ${firstLine(err)}`);
  }
  if (meta.format !== VIPS_FORMAT[format]) {
    throw new ImageError('BAD_IMAGE', `The bytes look like ${format.toUpperCase()} but decode as ${meta.format ?? 'nothing'}.`);
  }
  if (!meta.width || !meta.height) throw new ImageError('BAD_IMAGE', 'The image has no dimensions.');
  // Checked from the header so that a decompression bomb is refused without decoding it.
  checkDimensions(meta.width, meta.height, opts);
  if (opts.decode !== false) await decodeAll(buf, format, opts.maxPixels);

  const width = meta.autoOrient?.width ?? meta.width;
  const height = meta.autoOrient?.height ?? meta.height;
  const sha256 = createHash('sha256').update(buf).digest('hex');
  return { bytes: buf, format, width, height, sha256, webReady: isWebReady(buf, format, meta) };
}

function isWebReady(bytes: Buffer, format: ImageFormat, meta: Metadata): boolean {
  const bare = format === 'jpeg' ? isBareJpeg(bytes) : format === 'webp' && isBareWebp(bytes);
  return bare && meta.space === 'srgb' && !meta.hasAlpha;
}

async function decodeAll(buf: Buffer, format: ImageFormat, maxPixels: number): Promise<void> {
  // Decode every pixel once (shrink-on-load keeps it cheap) so truncated or corrupt data fails here.
  try {
    await sharp(buf, { limitInputPixels: maxPixels, failOn: 'error' })
      .resize(64, 64, { fit: 'inside' })
      .raw()
      .toBuffer();
  } catch (err) {
    const msg = firstLine(err);
    if (/pixel limit/i.test(msg)) {
      throw new ImageError('IMAGE_TOO_LARGE', `The image exceeds the limit of ${maxPixels} pixels.`);
    }
    throw new ImageError('BAD_IMAGE', `The ${format.toUpperCase()} image is corrupt or truncated: ${msg}`);
  }
}

function checkDimensions(width: number, height: number, opts: ValidateImageOptions): void {
  const size = `${width}×${height}`;
  if (width * height > opts.maxPixels) {
    throw new ImageError('IMAGE_TOO_LARGE', `The image is ${size} (${width * height} pixels); the limit is ${opts.maxPixels} pixels.`);
  }
  if (opts.maxSide !== undefined && Math.max(width, height) > opts.maxSide) {
    throw new ImageError('IMAGE_TOO_LARGE', `The image is ${size}; the limit is ${opts.maxSide} pixels a side.`);
  }
  if (opts.maxAspectRatio !== undefined && Math.max(width, height) / Math.min(width, height) > opts.maxAspectRatio) {
    throw new ImageError('IMAGE_TOO_LARGE', `The image is ${size}; the longer side may be at most ${opts.maxAspectRatio} times the shorter.`);
  }
}

function looksLikeSvg(buf: Buffer): boolean {
  const head = buf.subarray(0, 4096).toString('utf8').replace(/^\uFEFF/, '').trimStart();
  return head.startsWith('<') && /<svg[\s>]/i.test(head);
}
