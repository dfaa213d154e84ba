// The classic baseline the learned model is measured against: a colour histogram in HSV space
// (hue matters more than brightness), compared with the Hellinger distance.
import { decodeRgb } from '../images/index.js';

/** Bins for hue, saturation and value: 8 × 4 × 4 = 128. */
export const HSV_BINS = [8, 4, 4] as const;
export const HISTOGRAM_SIZE = HSV_BINS[0] * HSV_BINS[1] * HSV_BINS[2];

/** Pixels counted per image: enough for stable shares, cheap to decode. */
const SIDE = 64;

/** L1-normalised HSV histogram of an image (EXIF orientation applied, alpha flattened onto white). */
export async function hsvHistogram(bytes: Buffer): Promise<Float32Array> {
  const { data } = await decodeRgb(bytes, { maxSide: SIDE, enlarge: true });
  return histogramOfRgb(data);
}

/** Histogram of packed 8-bit RGB pixels. */
export function histogramOfRgb(rgb: Uint8Array): Float32Array {
  const [hBins, sBins, vBins] = HSV_BINS;
  const hist = new Float32Array(HISTOGRAM_SIZE);
  const pixels = Math.floor(rgb.length / 3);
  for (let i = 0; i < pixels; i++) {
    const [h, s, v] = rgbToHsv(rgb[i * 3]!, rgb[i * 3 + 1]!, rgb[i * 3 + 2]!);
    const hb = Math.min(hBins - 1, Math.floor((h / 360) * hBins));
    const sb = Math.min(sBins - 1, Math.floor(s * sBins));
    const vb = Math.min(vBins - 1, Math.floor(v * vBins));
    hist[(hb * sBins + sb) * vBins + vb]! += 1;
  }
  if (pixels > 0) for (let i = 0; i < hist.length; i++) hist[i] = hist[i]! / pixels;
  return hist;
}

/** Hue in degrees [0, 360), saturation and value in [0, 1]. */
export function rgbToHsv(r: number, g: number, b: number): [number, number, number] {
  const max = Math.max(r, g, b);
  const min = Math.min(r, g, b);
  const delta = max - min;
  let h = 0;
  if (delta > 0) {
    if (max === r) h = 60 * (((g - b) / delta + 6) % 6);
    else if (max === g) h = 60 * ((b - r) / delta + 2);
    else h = 60 * ((r - g) / delta + 4);
  }
  return [h, max === 0 ? 0 : delta / max, max / 255];
}

/** Hellinger distance of two L1-normalised histograms: 0 (same) to 1 (no overlap). */
export function histogramDistance(a: Float32Array, b: Float32Array): number {
  let overlap = 0;
  for (let i = 0; i < a.length; i++) overlap += Math.sqrt(a[i]! * b[i]!);
  return Math.sqrt(Math.max(0, 1 - overlap));
}
