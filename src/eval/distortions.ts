// Photo-like distortions of a catalog image, for evaluation queries: what happens between a studio
// shot and a shopper's phone picture of the same product. Seeded: the same random source gives
// the same photo. Geometry (crop, rotation, perspective) is one homography sampled bilinearly;
// pixels that fall outside the original show the background.
import { blurRgb, decodeRgb, encodeJpeg, type RgbPixels } from '../images/index.js';

export const DISTORTIONS = ['background', 'crop', 'rotation', 'perspective', 'blur', 'colourCast', 'noise', 'jpeg'] as const;
export type Distortion = (typeof DISTORTIONS)[number];

export interface DistortOptions {
  /** Uniform random numbers in [0, 1); the only source of randomness. */
  random: () => number;
  /** 0 (JPEG re-encode only) to 1 (photo-like); scales every distortion. Default 1. */
  strength?: number;
  /** Chance that each distortion other than JPEG is applied. Default 0.6. */
  probability?: number;
}

export interface DistortedPhoto {
  bytes: Buffer;
  applied: Distortion[];
}

/** Larger inputs are shrunk first: a phone photo is resized by the model anyway. */
const MAX_SIDE = 512;
/** A studio backdrop rarely fills more of the frame than this; more means the product is white too. */
const MAX_BACKDROP_SHARE = 0.85;

/** Pixels the distortions write into (clamped: arithmetic past 0–255 saturates). */
interface Raster extends RgbPixels {
  data: Uint8ClampedArray;
}

/** A distorted JPEG of the image, with the list of distortions applied in order. */
export async function distortPhoto(bytes: Buffer, options: DistortOptions): Promise<DistortedPhoto> {
  const { random } = options;
  const strength = Math.min(1, Math.max(0, options.strength ?? 1));
  const p = strength === 0 ? 0 : (options.probability ?? 0.6);
  const pick = (d: Distortion) => (d === 'jpeg' || random() < p ? d : null);
  const applied = DISTORTIONS.map(pick).filter((d): d is Distortion => d !== null);
  const on = (d: Distortion) => applied.includes(d);

  const decoded = await decodeRgb(bytes, { maxSide: MAX_SIDE });
  let image: Raster = { ...decoded, data: new Uint8ClampedArray(decoded.data) };

  let backdrop = on('background') ? background(image.width, image.height, random) : null;
  if (backdrop && !replaceBackground(image, backdrop)) {
    backdrop = null;
    applied.splice(applied.indexOf('background'), 1);
  }
  if (on('crop') || on('rotation') || on('perspective')) {
    image = warp(image, sourceQuad(image, random, strength, on), backdrop);
  }
  if (on('blur')) image = { ...image, data: new Uint8ClampedArray(await blurRgb(image, 0.4 + 1.4 * strength * random())) };
  if (on('colourCast')) colourCast(image, random, strength);
  if (on('noise')) addNoise(image, random, (2 + 8 * random()) * strength);
  const quality = Math.round(92 - 50 * strength * random());
  return { bytes: await encodeJpeg(image, quality), applied };
}

/** A surface to lay the product on: a random colour with a gradient and fine grain (a bed, a floor). */
function background(width: number, height: number, random: () => number): Raster {
  const base = [0, 1, 2].map(() => 60 + random() * 170);
  const tilt = [0, 1, 2].map(() => (random() - 0.5) * 80);
  const angle = random() * Math.PI * 2;
  const [dx, dy] = [Math.cos(angle), Math.sin(angle)];
  const data = new Uint8ClampedArray(width * height * 3);
  for (let y = 0; y < height; y++) {
    for (let x = 0; x < width; x++) {
      const t = ((x / width - 0.5) * dx + (y / height - 0.5) * dy) * 2;
      const grain = (random() - 0.5) * 18;
      for (let c = 0; c < 3; c++) data[(y * width + x) * 3 + c] = base[c]! + tilt[c]! * t + grain;
    }
  }
  return { data, width, height };
}

/**
 * Replaces the studio backdrop — near-white pixels connected to the border, so that white parts
 * of the product stay — with the background, feathering the edge over one pixel. Returns false,
 * changing nothing, when that would take most of the picture (a white product on white).
 */
function replaceBackground(image: Raster, backdrop: Raster): boolean {
  const { data, width, height } = image;
  const n = width * height;
  const light = (i: number, min: number, spread: number) => {
    const r = data[i * 3]!;
    const g = data[i * 3 + 1]!;
    const b = data[i * 3 + 2]!;
    return Math.min(r, g, b) >= min && Math.max(r, g, b) - Math.min(r, g, b) <= spread;
  };
  const whiteish = (i: number) => light(i, 244, 10);
  const mask = new Uint8Array(n);
  const stack: number[] = [];
  const push = (i: number) => {
    if (!mask[i] && whiteish(i)) {
      mask[i] = 1;
      stack.push(i);
    }
  };
  for (let x = 0; x < width; x++) {
    push(x);
    push((height - 1) * width + x);
  }
  for (let y = 0; y < height; y++) {
    push(y * width);
    push(y * width + width - 1);
  }
  while (stack.length) {
    const i = stack.pop()!;
    const x = i % width;
    if (x > 0) push(i - 1);
    if (x < width - 1) push(i + 1);
    if (i >= width) push(i - width);
    if (i < n - width) push(i + width);
  }
  if (mask.reduce((a, b) => a + b, 0) > MAX_BACKDROP_SHARE * n) return false;
  // Grow two pixels into light edge pixels (JPEG ringing around the product), which would
  // otherwise leave a white fringe.
  for (let pass = 0; pass < 2; pass++) {
    const grow: number[] = [];
    for (let i = 0; i < n; i++) {
      const x = i % width;
      const touches = (x > 0 && mask[i - 1]) || (x < width - 1 && mask[i + 1]) || mask[i - width] || mask[i + width];
      if (!mask[i] && touches && light(i, 200, 30)) grow.push(i);
    }
    for (const i of grow) mask[i] = 1;
  }
  for (let i = 0; i < n; i++) {
    const x = i % width;
    // Feather: a masked pixel's weight is the share of its 4-neighbourhood (and itself) masked.
    if (!mask[i] && !(x > 0 && mask[i - 1]) && !(x < width - 1 && mask[i + 1]) && !mask[i - width] && !mask[i + width]) continue;
    const around = [i, x > 0 ? i - 1 : i, x < width - 1 ? i + 1 : i, i >= width ? i - width : i, i < n - width ? i + width : i];
    const w = around.reduce((s, j) => s + mask[j]!, 0) / around.length;
    for (let c = 0; c < 3; c++) data[i * 3 + c] = data[i * 3 + c]! * (1 - w) + backdrop.data[i * 3 + c]! * w;
  }
  return true;
}

type Point = [number, number];

/** Where the output's corners come from in the input: zoom/crop, then rotation, then corner jitter. */
function sourceQuad(image: Raster, random: () => number, strength: number, on: (d: Distortion) => boolean): Point[] {
  const { width: w, height: h } = image;
  const signed = () => random() * 2 - 1;
  // Zoom in (a crop) or slightly out (the product smaller in the frame), off-centre.
  const scale = on('crop') ? 1 - 0.3 * strength * random() + 0.1 * strength * Math.max(0, signed()) : 1;
  const shift: Point = on('crop') ? [signed() * 0.08 * strength * w, signed() * 0.08 * strength * h] : [0, 0];
  const angle = on('rotation') ? signed() * ((15 * Math.PI) / 180) * strength : 0;
  const jitter = on('perspective') ? 0.1 * strength : 0;
  const [cx, cy] = [w / 2, h / 2];
  const corners: Point[] = [
    [0, 0],
    [w, 0],
    [w, h],
    [0, h],
  ];
  return corners.map(([x, y]) => {
    const dx = (x - cx) * scale;
    const dy = (y - cy) * scale;
    return [
      cx + shift[0] + dx * Math.cos(angle) - dy * Math.sin(angle) + signed() * jitter * w,
      cy + shift[1] + dx * Math.sin(angle) + dy * Math.cos(angle) + signed() * jitter * h,
    ];
  });
}

/** Resamples the image so that the output's corners show the quad's corners (bilinear). */
function warp(image: Raster, quad: Point[], backdrop: Raster | null): Raster {
  const { width: w, height: h, data } = image;
  const m = homography(
    [
      [0, 0],
      [w, 0],
      [w, h],
      [0, h],
    ],
    quad,
  );
  const out = new Uint8ClampedArray(w * h * 3);
  for (let y = 0; y < h; y++) {
    for (let x = 0; x < w; x++) {
      const px = x + 0.5;
      const py = y + 0.5;
      const z = m[6]! * px + m[7]! * py + 1;
      const u = (m[0]! * px + m[1]! * py + m[2]!) / z - 0.5;
      const v = (m[3]! * px + m[4]! * py + m[5]!) / z - 0.5;
      const o = (y * w + x) * 3;
      if (u < 0 || v < 0 || u > w - 1 || v > h - 1) {
        for (let c = 0; c < 3; c++) out[o + c] = backdrop ? backdrop.data[o + c]! : 255;
        continue;
      }
      const x0 = Math.floor(u);
      const y0 = Math.floor(v);
      const x1 = Math.min(w - 1, x0 + 1);
      const y1 = Math.min(h - 1, y0 + 1);
      const fx = u - x0;
      const fy = v - y0;
      for (let c = 0; c < 3; c++) {
        const top = data[(y0 * w + x0) * 3 + c]! * (1 - fx) + data[(y0 * w + x1) * 3 + c]! * fx;
        const bottom = data[(y1 * w + x0) * 3 + c]! * (1 - fx) + data[(y1 * w + x1) * 3 + c]! * fx;
        out[o + c] = top * (1 - fy) + bottom * fy;
      }
    }
  }
  return { data: out, width: w, height: h };
}

/** The 3×3 projective map (h33 = 1, row-major, 8 values + 1) taking each `from` point to its `to` point. */
export function homography(from: Point[], to: Point[]): number[] {
  const a: number[][] = [];
  from.forEach(([x, y], i) => {
    const [u, v] = to[i]!;
    a.push([x, y, 1, 0, 0, 0, -u * x, -u * y, u]);
    a.push([0, 0, 0, x, y, 1, -v * x, -v * y, v]);
  });
  // Gaussian elimination with partial pivoting on the 8×9 augmented system.
  for (let col = 0; col < 8; col++) {
    let pivot = col;
    for (let r = col + 1; r < 8; r++) if (Math.abs(a[r]![col]!) > Math.abs(a[pivot]![col]!)) pivot = r;
    [a[col], a[pivot]] = [a[pivot]!, a[col]!];
    const p = a[col]![col]!;
    if (Math.abs(p) < 1e-12) throw new Error('homography: degenerate points');
    for (let r = 0; r < 8; r++) {
      if (r === col) continue;
      const f = a[r]![col]! / p;
      for (let c = col; c < 9; c++) a[r]![c]! -= f * a[col]![c]!;
    }
  }
  return [...a.map((row, i) => row[8]! / row[i]!), 1];
}

/** A white-balance error: a gain per channel and a brightness shift. */
function colourCast(image: Raster, random: () => number, strength: number): void {
  const gains = [0, 1, 2].map(() => 1 + (random() * 2 - 1) * 0.22 * strength);
  const shift = (random() * 2 - 1) * 28 * strength;
  const { data } = image;
  for (let i = 0; i < data.length; i++) data[i] = data[i]! * gains[i % 3]! + shift;
}

/** Sensor noise: Gaussian, independent per channel (Box–Muller). */
function addNoise(image: Raster, random: () => number, sigma: number): void {
  const { data } = image;
  for (let i = 0; i < data.length; i += 2) {
    const r = Math.sqrt(-2 * Math.log(1 - random()));
    const t = 2 * Math.PI * random();
    data[i] = data[i]! + sigma * r * Math.cos(t);
    if (i + 1 < data.length) data[i + 1] = data[i + 1]! + sigma * r * Math.sin(t);
  }
}
