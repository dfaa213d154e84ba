// Image → model input tensor, matching training/preprocess.py: EXIF orientation, optional crop,
// alpha flattened onto white, sRGB, resize to S×S ignoring aspect, x/scale, (x − mean)/std, CHW.
import type { KernelEnum } from 'sharp';
import { decodePixels, ImageError, openImage, type ValidatedImage } from '../images/index.js';
import { resizeBilinearPil } from './resample.js';
import type { InputSpec } from './manifest.js';
import { RegionError, type Region } from './types.js';

export type SharpKernel = keyof KernelEnum;

/**
 * How the image is resized to S×S:
 * - 'pil': PIL's antialiased BILINEAR re-implemented exactly (fixed-point, same rounding) on the
 *   decoded pixels — bit-exact with training/preprocess.py, costs JS time proportional to pixels;
 * - a sharp kernel: libvips does it (off the event loop); 'linear' is the closest to PIL on
 *   downscales but libvips upscales with a half-pixel shift;
 * - 'auto' (default): 'pil' when the (cropped) image has ≤ pilMaxPixels pixels or is smaller than
 *   S on either side (an upscale), otherwise sharp 'linear'.
 * The parity test (tests/ml.parity.test.ts) measures every choice against the Python fixture.
 */
export type ResizeMethod = 'auto' | 'pil' | SharpKernel;

/** The sharp kernel used by 'auto' for large images: the closest to PIL bilinear (see the parity test). */
export const SHARP_KERNEL: SharpKernel = 'linear';
/** Largest image 'auto' resizes with the exact PIL resampler (1 MP: about 10 ms of JS). */
export const PIL_MAX_PIXELS = 1_000_000;

/** The part of the manifest's input spec that preprocessing needs. */
export type TensorSpec = Pick<InputSpec, 'size' | 'scale' | 'mean' | 'std'>;

export interface ToTensorOptions {
  /** Resize method (default 'auto'). */
  resize?: ResizeMethod;
  /** Largest image 'auto' resizes with the exact PIL resampler (default PIL_MAX_PIXELS). */
  pilMaxPixels?: number;
}

/** Throws RegionError unless 0 ≤ x, y < 1, 0 < width, height ≤ 1, x + width ≤ 1, y + height ≤ 1. */
export function validateRegion(region: Region): void {
  const { x, y, width, height } = region;
  const finite = [x, y, width, height].every((v) => typeof v === 'number' && Number.isFinite(v));
  const eps = 1e-9;
  if (
    !finite ||
    x < 0 ||
    y < 0 ||
    x >= 1 ||
    y >= 1 ||
    width <= 0 ||
    height <= 0 ||
    width > 1 ||
    height > 1 ||
    x + width > 1 + eps ||
    y + height > 1 + eps
  ) {
    throw new RegionError(
      `Invalid region ${JSON.stringify(region)}: fractions of the image with 0 ≤ x, y < 1, 0 < width, height ≤ 1, x + width ≤ 1 and y + height ≤ 1.`,
    );
  }
}

/** The pixel rectangle of a fractional region of a width × height (oriented) image; at least 1×1. */
export function regionToPixels(region: Region, width: number, height: number) {
  validateRegion(region);
  const left = Math.min(width - 1, Math.round(region.x * width));
  const top = Math.min(height - 1, Math.round(region.y * height));
  const right = Math.min(width, Math.max(left + 1, Math.round((region.x + region.width) * width)));
  const bottom = Math.min(height, Math.max(top + 1, Math.round((region.y + region.height) * height)));
  return { left, top, width: right - left, height: bottom - top };
}

/**
 * Preprocesses one validated image (optionally cropped to a fractional region of the oriented
 * image) into a float32 CHW tensor of 3 × size × size, as the manifest's input spec defines.
 */
export async function toTensor(
  image: ValidatedImage,
  spec: TensorSpec,
  region?: Region,
  opts: ToTensorOptions = {},
): Promise<Float32Array> {
  const S = spec.size;
  const crop = region && regionToPixels(region, image.width, image.height);
  const { width, height } = crop ?? image;
  const method = opts.resize ?? 'auto';
  const usePil =
    method === 'pil' ||
    (method === 'auto' && (width * height <= (opts.pilMaxPixels ?? PIL_MAX_PIXELS) || width < S || height < S));
  if (usePil) {
    // The pixels ingest kept from hashing the whole image, or decoded now (decodePixels codes bad data BAD_IMAGE).
    const decoded = (!crop && image.pixels) || (await decodePixels(image, { crop }));
    return normalize(resizeBilinearPil(decoded.data, decoded.width, decoded.height, 3, S, S), spec);
  }
  const kernel = method === 'auto' ? SHARP_KERNEL : method;
  let pixels: Buffer;
  try {
    const pipeline = crop ? openImage(image).extract(crop) : openImage(image);
    const { data, info } = await pipeline
      .flatten({ background: '#ffffff' })
      .toColourspace('srgb')
      .resize(S, S, { fit: 'fill', kernel, fastShrinkOnLoad: false })
      .removeAlpha()
      .raw({ depth: 'uchar' })
      .toBuffer({ resolveWithObject: true });
    if (info.channels !== 3) throw new Error(`expected 3 channels, got ${info.channels}`);
    pixels = data;
  } catch (err) {
    throw new ImageError('BAD_IMAGE', `The image cannot be preprocessed: ${(err as Error).message.split('\n')[0]}`);
  }
  if (pixels.length !== S * S * 3) throw new Error(`toTensor: expected ${S}×${S}×3 pixels, got ${pixels.length} bytes`);
  return normalize(pixels, spec);
}

/** uint8 HWC RGB pixels → float32 CHW, (x/scale − mean)/std (exactly as training/preprocess.py). */
export function normalize(pixels: Uint8Array, spec: TensorSpec): Float32Array {
  const plane = spec.size * spec.size;
  const out = new Float32Array(3 * plane);
  // A pixel has 256 values per channel: each one's result, computed once, is looked up.
  const table = normalizeTable(spec);
  for (let c = 0; c < 3; c++) {
    const base = c * 256;
    const offset = c * plane;
    for (let i = 0; i < plane; i++) out[offset + i] = table[base + pixels[i * 3 + c]!]!;
  }
  return out;
}

const tables = new WeakMap<TensorSpec, Float32Array>();

/** The 3 × 256 normalized values, in the same float32 steps as numpy: x/scale, then (x − mean)/std. */
function normalizeTable(spec: TensorSpec): Float32Array {
  let table = tables.get(spec);
  if (table) return table;
  table = new Float32Array(3 * 256);
  const scale = Math.fround(spec.scale);
  for (let c = 0; c < 3; c++) {
    const mean = Math.fround(spec.mean[c]!);
    const std = Math.fround(spec.std[c]!);
    for (let v = 0; v < 256; v++) table[c * 256 + v] = Math.fround(Math.fround(v / scale) - mean) / std;
  }
  tables.set(spec, table);
  return table;
}
