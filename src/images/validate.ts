// Image bytes in: validation (type sniffed from the bytes, decodable, pixel limit), media
// renditions for display, and a perceptual hash for near-duplicate detection.
import { createHash } from 'node:crypto';
import { fileTypeFromBuffer } from 'file-type';
import sharp, { type Metadata, type Sharp } from 'sharp';
import { ImageError, type ImageFormat, type ValidatedImage } from './types.js';

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

export interface ValidateImageOptions {
  /** Largest accepted width × height (after decoding the header, before any pixel is decoded). */
  maxPixels: number;
}

/** Opens validated bytes with sharp: orientation from EXIF applied, first frame only. */
export function openImage(image: ValidatedImage): Sharp {
  // Validation has already enforced the pixel limit and decodability.
  return sharp(image.bytes, { autoOrient: true, limitInputPixels: false, failOn: 'error' });
}

/**
 * Checks that bytes are a supported, decodable image within the pixel limit.
 * Throws ImageError: UNSUPPORTED_IMAGE_TYPE (not JPEG/PNG/WebP/GIF/AVIF by its bytes, e.g. SVG),
 * IMAGE_TOO_LARGE (width × height over maxPixels), BAD_IMAGE (empty, corrupt or truncated).
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
    throw new ImageError('BAD_IMAGE', `The ${format.toUpperCase()} image cannot be read: ${reason(err)}`);
  }
  if (meta.format !== VIPS_FORMAT[format]) {
    throw new ImageError('BAD_IMAGE', `The bytes look like ${format.toUpperCase()} but decode as ${meta.format ?? 'nothing'}.`);
  }
  if (!meta.width || !meta.height) throw new ImageError('BAD_IMAGE', 'The image has no dimensions.');
  // Checked from the header so that a decompression bomb is refused without decoding it.
  if (meta.width * meta.height > opts.maxPixels) {
    throw new ImageError(
      'IMAGE_TOO_LARGE',
      `The image is ${meta.width}×${meta.height} (${meta.width * meta.height} pixels); the limit is ${opts.maxPixels} pixels.`,
    );
  }

  // Decode every pixel once (shrink-on-load keeps it cheap) so truncated or corrupt data fails here.
  try {
    await sharp(buf, { limitInputPixels: opts.maxPixels, failOn: 'error' })
      .resize(64, 64, { fit: 'inside' })
      .raw()
      .toBuffer();
  } catch (err) {
    const msg = reason(err);
    if (/pixel limit/i.test(msg)) {
      throw new ImageError('IMAGE_TOO_LARGE', `The image exceeds the limit of ${opts.maxPixels} pixels.`);
    }
    throw new ImageError('BAD_IMAGE', `The ${format.toUpperCase()} image is corrupt or truncated: ${msg}`);
  }

  const width = meta.autoOrient?.width ?? meta.width;
  const height = meta.autoOrient?.height ?? meta.height;
  return { bytes: buf, format, width, height, sha256: createHash('sha256').update(buf).digest('hex') };
}

export interface RenderMediaOptions {
  /** Longest side of the display rendition (default 800; never enlarged). */
  displaySize?: number;
  /** Longest side of the thumbnail (default 256; never enlarged). */
  thumbnailSize?: number;
}

export interface RenderedMedia {
  display: Buffer;
  thumbnail: Buffer;
  /** Always 'image/webp'. */
  contentType: 'image/webp';
  /** File extension for the renditions, without the dot. */
  extension: 'webp';
}

/**
 * Display and thumbnail renditions: EXIF orientation applied, metadata stripped, WebP
 * (alpha kept), longest side ≤ displaySize / thumbnailSize, never enlarged. GIFs: first frame.
 */
export async function renderMedia(image: ValidatedImage, opts: RenderMediaOptions = {}): Promise<RenderedMedia> {
  const displaySize = opts.displaySize ?? 800;
  const thumbnailSize = opts.thumbnailSize ?? 256;
  const base = openImage(image).toColourspace('srgb');
  const render = (size: number, quality: number) =>
    base
      .clone()
      .resize(size, size, { fit: 'inside', withoutEnlargement: true })
      .webp({ quality, effort: 4 })
      .toBuffer();
  try {
    const [display, thumbnail] = await Promise.all([render(displaySize, 82), render(thumbnailSize, 75)]);
    return { display, thumbnail, contentType: 'image/webp', extension: 'webp' };
  } catch (err) {
    throw new ImageError('BAD_IMAGE', `The image cannot be rendered: ${reason(err)}`);
  }
}

/**
 * 64-bit difference hash (dHash) of the oriented image, as 16 hex digits: the image is
 * flattened onto white, made greyscale and shrunk to 9×8; bit i is set when a pixel is
 * brighter than its right-hand neighbour (row-major, most significant bit first).
 * Near-duplicates differ in few bits: compare with hammingDistance.
 */
export async function perceptualHash(image: ValidatedImage): Promise<string> {
  let data: Buffer;
  try {
    data = await openImage(image)
      .flatten({ background: '#ffffff' })
      .toColourspace('b-w')
      .resize(9, 8, { fit: 'fill' })
      .raw()
      .toBuffer();
  } catch (err) {
    throw new ImageError('BAD_IMAGE', `The image cannot be hashed: ${reason(err)}`);
  }
  if (data.length !== 72) throw new Error(`perceptualHash: expected 72 grey pixels, got ${data.length} bytes`);
  let hash = 0n;
  for (let y = 0; y < 8; y++) {
    for (let x = 0; x < 8; x++) {
      hash = (hash << 1n) | (data[y * 9 + x]! > data[y * 9 + x + 1]! ? 1n : 0n);
    }
  }
  return hash.toString(16).padStart(16, '0');
}

const HASH = /^[0-9a-f]{16}$/i;

/** Number of differing bits (0–64) between two perceptualHash values. */
export function hammingDistance(a: string, b: string): number {
  if (!HASH.test(a) || !HASH.test(b)) throw new TypeError('hammingDistance expects two 16-hex-digit hashes');
  let x = BigInt(`0x${a}`) ^ BigInt(`0x${b}`);
  let n = 0;
  while (x) {
    x &= x - 1n;
    n++;
  }
  return n;
}

function looksLikeSvg(buf: Buffer): boolean {
  const head = buf.subarray(0, 4096).toString('utf8').replace(/^\uFEFF/, '').trimStart();
  return head.startsWith('<') && /<svg[\s>]/i.test(head);
}

function reason(err: unknown): string {
  return err instanceof Error ? err.message.split('\n')[0]!.trim() : String(err);
}
