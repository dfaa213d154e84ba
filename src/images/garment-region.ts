// Where the product is in a shopper's photo: a foreground estimate from the photo alone (no model).
// A shopper photographs one product on a bed, a floor, a hanger or a wall, so the background is
// what the photo's border shows: the pixels unlike every main border colour (allowing for the
// border's own texture) are the product; the box around the larger blobs of them, with a margin,
// is the region to search.
import { openImage } from './validate.js';
import type { ValidatedImage } from './types.js';

/** Part of an image, in fractions of its width and height (the same shape as src/ml's Region). */
export interface ImageRegion {
  x: number;
  y: number;
  width: number;
  height: number;
}

export interface ProposeRegionOptions {
  /** No region when the box would cover more than this share of the photo (default 0.7): nothing to gain. */
  maxArea?: number;
  /** No region when the box would cover less than this share of the photo (default 0.12). */
  minArea?: number;
  /** No region when the foreground is less than this share of the photo (default 0.02): nothing found. */
  minForeground?: number;
}

type Rgb = [number, number, number];

const SIDE = 96;
/** Border width as a share of the shorter side. */
const BORDER = 0.06;
/** Margin around the found box, as a share of its width and height. */
const MARGIN = 0.08;

/**
 * The region of the photo that holds the product, or null when the product already fills the
 * photo or none stands out from the background.
 */
export async function proposeRegion(image: ValidatedImage, opts: ProposeRegionOptions = {}): Promise<ImageRegion | null> {
  const { data, info } = await openImage(image)
    .resize(SIDE, SIDE, { fit: 'inside' })
    .flatten({ background: '#ffffff' })
    .removeAlpha()
    .toColourspace('srgb')
    // A little blur: fabric weave and floor grain are texture, not edges of the product.
    .blur(0.8)
    .raw()
    .toBuffer({ resolveWithObject: true });
  const { width, height } = info;
  const pixel = (i: number): Rgb => [data[i * 3]!, data[i * 3 + 1]!, data[i * 3 + 2]!];
  const margin = Math.max(2, Math.round(Math.min(width, height) * BORDER));
  const border: Rgb[] = [];
  for (let y = 0; y < height; y++)
    for (let x = 0; x < width; x++)
      if (x < margin || y < margin || x >= width - margin || y >= height - margin) border.push(pixel(y * width + x));

  // The border's main colours, each with how far its own pixels spread (a textured background spreads).
  const background = kMeans(border, 6).filter((c) => c.members.length > border.length * 0.04);
  const radius = background.map((c) => Math.max(36, 1.25 * percentile(c.members.map((p) => distance(p, c.centre)), 0.9)));

  const mask = new Uint8Array(width * height);
  let foreground = 0;
  for (let i = 0; i < mask.length; i++) {
    const p = pixel(i);
    if (background.every((c, j) => distance(p, c.centre) > radius[j]!)) {
      mask[i] = 1;
      foreground++;
    }
  }
  if (foreground < mask.length * (opts.minForeground ?? 0.02)) return null;

  const box = spread(open(mask, width, height), width);
  if (!box) return null;
  const padX = (box.x1 - box.x0 + 1) * MARGIN;
  const padY = (box.y1 - box.y0 + 1) * MARGIN;
  const x0 = Math.max(0, (box.x0 - padX) / width);
  const y0 = Math.max(0, (box.y0 - padY) / height);
  const x1 = Math.min(1, (box.x1 + 1 + padX) / width);
  const y1 = Math.min(1, (box.y1 + 1 + padY) / height);
  const region = { x: x0, y: y0, width: x1 - x0, height: y1 - y0 };
  const area = region.width * region.height;
  // A box that fills the photo gains nothing; a very small one is a print or a stain, not the product.
  if (area > (opts.maxArea ?? 0.7) || area < (opts.minArea ?? 0.12)) return null;
  return region;
}

/**
 * The box holding most of the foreground: from the 3rd to the 97th percentile of its columns and
 * rows, so that a few stray background pixels do not stretch it, while a product in pieces (a
 * pair of shoes, a garment with a background-coloured print) stays whole.
 */
function spread(mask: Uint8Array, width: number) {
  const xs: number[] = [];
  const ys: number[] = [];
  for (let i = 0; i < mask.length; i++) {
    if (!mask[i]) continue;
    xs.push(i % width);
    ys.push(Math.floor(i / width));
  }
  if (xs.length === 0) return null;
  ys.sort((a, b) => a - b);
  xs.sort((a, b) => a - b);
  const at = (v: number[], q: number) => v[Math.min(v.length - 1, Math.floor(q * v.length))]!;
  return { x0: at(xs, 0.03), x1: at(xs, 0.97), y0: at(ys, 0.03), y1: at(ys, 0.97) };
}

/** Morphological opening (3×3 erosion, then dilation): removes specks and thin lines. */
function open(mask: Uint8Array, width: number, height: number): Uint8Array {
  const pass = (src: Uint8Array, keep: (all: boolean, any: boolean) => boolean) => {
    const out = new Uint8Array(src.length);
    for (let y = 0; y < height; y++)
      for (let x = 0; x < width; x++) {
        let all = true;
        let any = false;
        for (let dy = -1; dy <= 1; dy++)
          for (let dx = -1; dx <= 1; dx++) {
            const nx = Math.min(width - 1, Math.max(0, x + dx));
            const ny = Math.min(height - 1, Math.max(0, y + dy));
            const v = src[ny * width + nx]!;
            all &&= v === 1;
            any ||= v === 1;
          }
        out[y * width + x] = keep(all, any) ? 1 : 0;
      }
    return out;
  };
  return pass(
    pass(mask, (all) => all),
    (_all, any) => any,
  );
}

/** k colour clusters of the pixels (k-means, seeded far apart), with their members. */
function kMeans(pixels: Rgb[], k: number): { centre: Rgb; members: Rgb[] }[] {
  const centres: Rgb[] = [pixels[0]!];
  const nearestDistance = (p: Rgb) => Math.min(...centres.map((c) => distance(c, p)));
  while (centres.length < k) {
    const far = pixels.reduce((best, p) => (nearestDistance(p) > nearestDistance(best) ? p : best));
    if (nearestDistance(far) === 0) break;
    centres.push(far);
  }
  let members: Rgb[][] = [];
  for (let round = 0; round < 6; round++) {
    members = centres.map(() => []);
    for (const p of pixels) members[nearest(centres, p)]!.push(p);
    members.forEach((m, i) => {
      if (m.length) centres[i] = [0, 1, 2].map((ch) => m.reduce((s, p) => s + p[ch]!, 0) / m.length) as Rgb;
    });
  }
  return centres.map((centre, i) => ({ centre, members: members[i]! }));
}

function nearest(centres: Rgb[], p: Rgb): number {
  let best = 0;
  for (let i = 1; i < centres.length; i++) if (distance(centres[i]!, p) < distance(centres[best]!, p)) best = i;
  return best;
}

function distance(a: Rgb, b: Rgb): number {
  return Math.hypot(a[0] - b[0], a[1] - b[1], a[2] - b[2]);
}

function percentile(values: number[], q: number): number {
  if (values.length === 0) return 0;
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.min(sorted.length - 1, Math.floor(q * sorted.length))]!;
}
