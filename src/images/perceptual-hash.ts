// Perceptual hash (dHash) of an image and the distance between two hashes, for near-duplicate
// detection.
import { decodePixels } from './pixels.js';
import type { RgbPixels } from './raster.js';
import type { ValidatedImage } from './types.js';

/** Large images are hashed from a copy this size, shrunk while decoding: 72 cells need no more. */
const HASH_DECODE_SIDE = 256;

/**
 * 64-bit difference hash (dHash) of the oriented image, as 16 hex digits: the image is
 * flattened onto white, made greyscale and averaged down to 9×8 cells; bit i is set when a cell is
 * brighter than its right-hand neighbour (row-major, most significant bit first).
 * Near-duplicates differ in few bits: compare with hammingDistance.
 * It uses the image's kept pixels (withPixels) or decodes it, every pixel, so corrupt or truncated
 * data fails here as BAD_IMAGE: an image validated with `decode: false` and then hashed has been
 * decoded once, not twice.
 */
export async function perceptualHash(image: ValidatedImage): Promise<string> {
  const cells = greyCells(image.pixels ?? (await decodePixels(image, { maxSide: HASH_DECODE_SIDE })));
  let hash = 0n;
  for (let y = 0; y < 8; y++) {
    for (let x = 0; x < 8; x++) {
      hash = (hash << 1n) | (cells[y * 9 + x]! > cells[y * 9 + x + 1]! ? 1n : 0n);
    }
  }
  return hash.toString(16).padStart(16, '0');
}

/** Mean luma (Rec. 709 weights), rounded, of each of 9×8 cells; each pixel counts in the cell its top-left corner falls in. */
function greyCells({ data, width, height }: RgbPixels): Float64Array {
  const sums = new Float64Array(72);
  const counts = new Float64Array(72);
  // Where each of the 9 columns of cells ends, in pixels: the inner loop sums a run of pixels
  // into a local instead of indexing a cell per pixel.
  const ends = Int32Array.from({ length: 9 }, (_, c) => Math.ceil(((c + 1) * width) / 9));
  for (let y = 0; y < height; y++) {
    const row = Math.floor((y * 8) / height) * 9;
    let i = y * width * 3;
    for (let c = 0, x = 0; c < 9; c++) {
      const end = ends[c]!;
      let r = 0, g = 0, b = 0;
      for (; x < end; x++, i += 3) {
        r += data[i]!;
        g += data[i + 1]!;
        b += data[i + 2]!;
      }
      sums[row + c]! += 0.2126 * r + 0.7152 * g + 0.0722 * b;
      counts[row + c]! += end - Math.ceil((c * width) / 9);
    }
  }
  // An image narrower than 9 or shorter than 8 pixels leaves cells empty: they take the
  // nearest filled cell to their left or above, as an upscale would.
  for (let c = 0; c < 72; c++) {
    // Whole grey levels, as an 8-bit image would hold them: a flat backdrop's cells compare
    // equal (bit 0) instead of by noise in the fractions.
    if (counts[c]) sums[c] = Math.round(sums[c]! / counts[c]!);
    else sums[c] = c % 9 ? sums[c - 1]! : sums[c - 9]!;
  }
  return sums;
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
