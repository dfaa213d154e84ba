// Packed 8-bit RGB pixels in and out of encoded images, for code that works on the pixels itself
// (the evaluation's photo distortions and colour histograms).
import sharp from 'sharp';

export interface RgbPixels {
  /** width × height × 3 bytes, row-major. */
  data: Uint8Array | Uint8ClampedArray;
  width: number;
  height: number;
}

export interface DecodeRgbOptions {
  /** The longest side is fitted to this many pixels. */
  maxSide: number;
  /** Enlarge smaller images to maxSide too (default false: only shrink). */
  enlarge?: boolean;
}

/** Decodes an image to sRGB pixels: EXIF orientation applied, alpha flattened onto white. */
export async function decodeRgb(bytes: Buffer, opts: DecodeRgbOptions): Promise<RgbPixels & { data: Buffer }> {
  const { data, info } = await sharp(bytes, { failOn: 'error' })
    .autoOrient()
    .resize(opts.maxSide, opts.maxSide, { fit: 'inside', withoutEnlargement: !opts.enlarge })
    .flatten({ background: '#ffffff' })
    .removeAlpha()
    .toColourspace('srgb')
    .raw()
    .toBuffer({ resolveWithObject: true });
  return { data, width: info.width, height: info.height };
}

/** Gaussian blur of the pixels (sigma in pixels). */
export async function blurRgb(pixels: RgbPixels, sigma: number): Promise<Buffer> {
  return open(pixels).blur(sigma).raw().toBuffer();
}

/** The pixels as a JPEG of the given quality (1–100). */
export async function encodeJpeg(pixels: RgbPixels, quality: number): Promise<Buffer> {
  return open(pixels).jpeg({ quality }).toBuffer();
}

function open({ data, width, height }: RgbPixels) {
  return sharp(Buffer.from(data.buffer, data.byteOffset, data.byteLength), { raw: { width, height, channels: 3 } });
}
