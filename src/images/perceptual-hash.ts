// Perceptual hash (dHash) of an image and the distance between two hashes, for near-duplicate
// detection.
import { firstLine, ImageError } from './errors.js';
import type { ValidatedImage } from './types.js';
import { openImage } from './validate.js';

/**
 * 64-bit difference hash (dHash) of the oriented image, as 16 hex digits: the image is
 * flattened onto white, made greyscale and shrunk to 9×8; bit i is set when a pixel is
 * brighter than its right-hand neighbour (row-major, most significant bit first).
 * Near-duplicates differ in few bits: compare with hammingDistance.
 * Every pixel is decoded on the way, so corrupt or truncated data fails here as BAD_IMAGE: an
 * image validated with `decode: false` and then hashed has been decoded once, not twice.
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
    throw new ImageError('BAD_IMAGE', `The ${image.format.toUpperCase()} image is corrupt or truncated: ${firstLine(err)}`);
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
