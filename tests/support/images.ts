// Generated test images (sharp, deterministic from a seed). Shared by every suite that needs
// pictures: nothing here reads files from disk, and nothing depends on the datasets.
import { deflateSync } from 'node:zlib';
import sharp from 'sharp';
import { seededRandom } from '../../src/eval/random.js';

export type TestImageFormat = 'jpeg' | 'png' | 'webp' | 'gif' | 'avif';

/** Deterministic PRNG: same seed, same sequence (the evaluation's, reused). */
export const rng = seededRandom;

const hsl = (h: number, s: number, l: number) => `hsl(${Math.round(h)},${Math.round(s)}%,${Math.round(l)}%)`;

/** SVG source of a "product" picture from a seed: coloured shapes, stripes and dots on white. */
export function productSvg(seed: number, width = 256, height = 256): string {
  const r = rng(seed * 7919 + 17);
  const hue = r() * 360;
  const parts: string[] = [];
  // The "object": a large body shape in the product's main colour, with a pattern inside.
  const cx = width * (0.4 + r() * 0.2);
  const cy = height * (0.4 + r() * 0.2);
  const bw = width * (0.35 + r() * 0.25);
  const bh = height * (0.35 + r() * 0.25);
  const kind = Math.floor(r() * 3);
  const body = hsl(hue, 55 + r() * 40, 35 + r() * 30);
  const clip = `<clipPath id="b">${
    kind === 0
      ? `<rect x="${cx - bw / 2}" y="${cy - bh / 2}" width="${bw}" height="${bh}" rx="${r() * 30}"/>`
      : kind === 1
        ? `<ellipse cx="${cx}" cy="${cy}" rx="${bw / 2}" ry="${bh / 2}"/>`
        : `<polygon points="${cx},${cy - bh / 2} ${cx + bw / 2},${cy + bh / 2} ${cx - bw / 2},${cy + bh / 2}"/>`
  }</clipPath>`;
  parts.push(`<rect x="0" y="0" width="${width}" height="${height}" fill="${body}" clip-path="url(#b)"/>`);
  const stripeHue = (hue + 120 + r() * 120) % 360;
  const stripes = 3 + Math.floor(r() * 8);
  const angle = Math.floor(r() * 4) * 45;
  const stripeGroup: string[] = [];
  for (let i = 0; i < stripes; i++) {
    const pos = (i / stripes) * Math.max(width, height) * 2 - Math.max(width, height) / 2;
    stripeGroup.push(
      `<rect x="${pos}" y="${-height}" width="${(Math.max(width, height) / stripes) * (0.2 + r() * 0.4)}" height="${height * 3}" fill="${hsl(stripeHue, 70, 30 + r() * 40)}"/>`,
    );
  }
  parts.push(
    `<g clip-path="url(#b)"><g transform="rotate(${angle} ${cx} ${cy})">${stripeGroup.join('')}</g></g>`,
  );
  // Accents: a few small shapes around the object (buttons, logo, label).
  const accents = 2 + Math.floor(r() * 5);
  for (let i = 0; i < accents; i++) {
    const x = r() * width;
    const y = r() * height;
    const s = 6 + r() * width * 0.08;
    const fill = hsl((hue + r() * 360) % 360, 80, 25 + r() * 50);
    parts.push(r() < 0.5 ? `<circle cx="${x}" cy="${y}" r="${s}" fill="${fill}"/>` : `<rect x="${x}" y="${y}" width="${s * 2}" height="${s}" fill="${fill}"/>`);
  }
  return `<svg xmlns="http://www.w3.org/2000/svg" width="${width}" height="${height}" viewBox="0 0 ${width} ${height}"><defs>${clip}</defs><rect width="100%" height="100%" fill="#ffffff"/>${parts.join('')}</svg>`;
}

/** A "product" photo from a seed (default 256×256 PNG); different seeds look unrelated. */
export async function productImage(
  seed: number,
  opts: { width?: number; height?: number; format?: TestImageFormat } = {},
): Promise<Buffer> {
  const png = await sharp(Buffer.from(productSvg(seed, opts.width ?? 256, opts.height ?? 256)))
    .flatten({ background: '#ffffff' })
    .png()
    .toBuffer();
  return opts.format && opts.format !== 'png' ? encodeAs(png, opts.format) : png;
}

/** A mild "shopper photo" distortion: small crop, slight rotation, brightness change, JPEG re-encode. */
export async function distort(
  image: Buffer,
  opts: { seed?: number; crop?: number; degrees?: number; brightness?: number; quality?: number } = {},
): Promise<Buffer> {
  const r = rng(opts.seed ?? 1);
  const meta = await sharp(image).autoOrient().metadata();
  const w = meta.autoOrient?.width ?? meta.width;
  const h = meta.autoOrient?.height ?? meta.height;
  const crop = opts.crop ?? 0.06;
  const left = Math.round(w * crop * r());
  const top = Math.round(h * crop * r());
  const rotated = await sharp(image)
    .autoOrient()
    .extract({ left, top, width: Math.round(w * (1 - crop)), height: Math.round(h * (1 - crop)) })
    .rotate(opts.degrees ?? (r() - 0.5) * 8, { background: '#ffffff' })
    .toBuffer();
  return sharp(rotated)
    .modulate({ brightness: opts.brightness ?? 1.08 })
    .flatten({ background: '#ffffff' })
    .jpeg({ quality: opts.quality ?? 80 })
    .toBuffer();
}

/** Re-encodes an image as jpeg, png, webp, gif or avif. */
export async function encodeAs(image: Buffer, format: TestImageFormat): Promise<Buffer> {
  const s = sharp(image);
  switch (format) {
    case 'jpeg':
      return s.flatten({ background: '#ffffff' }).jpeg({ quality: 90 }).toBuffer();
    case 'png':
      return s.png().toBuffer();
    case 'webp':
      return s.webp({ quality: 90 }).toBuffer();
    case 'gif':
      return s.gif().toBuffer();
    case 'avif':
      return s.avif({ quality: 60, effort: 0 }).toBuffer();
  }
}

/** A JPEG whose pixels are stored sideways with an EXIF Orientation tag (6 = rotate 90° cw to view). */
export async function exifRotatedJpeg(image: Buffer, orientation: 1 | 2 | 3 | 4 | 5 | 6 | 7 | 8 = 6): Promise<Buffer> {
  return sharp(image).flatten({ background: '#ffffff' }).jpeg({ quality: 92 }).withMetadata({ orientation }).toBuffer();
}

/** A PNG with a transparent background and an opaque coloured square in the middle. */
export async function transparentPng(size = 128, colour = '#d03020'): Promise<Buffer> {
  const inner = Math.round(size / 2);
  const square = await sharp({ create: { width: inner, height: inner, channels: 4, background: colour } }).png().toBuffer();
  return sharp({ create: { width: size, height: size, channels: 4, background: { r: 0, g: 0, b: 0, alpha: 0 } } })
    .composite([{ input: square, left: Math.round(size / 4), top: Math.round(size / 4) }])
    .png()
    .toBuffer();
}

/** An SVG document (a valid image format that the service refuses). */
export function svgImage(seed = 1): Buffer {
  return Buffer.from(productSvg(seed, 64, 64));
}

/** Random bytes that are no image format at all. */
export function randomBytes(length = 4096, seed = 1): Buffer {
  const r = rng(seed);
  const out = Buffer.alloc(length);
  for (let i = 0; i < length; i++) out[i] = Math.floor(r() * 256);
  return out;
}

/** The first `fraction` of an encoded image: right magic bytes, missing pixel data. */
export function truncated(image: Buffer, fraction = 0.5): Buffer {
  return image.subarray(0, Math.max(16, Math.floor(image.length * fraction)));
}

/** A valid all-white PNG with huge dimensions (default 20000×20000 = 400 MP) in a ~60 kB file. */
export function hugePng(width = 20_000, height = 20_000): Buffer {
  // 1-bit greyscale, every row: filter byte 0 then all bits set (white).
  const rowBytes = Math.ceil(width / 8);
  const row = Buffer.alloc(rowBytes + 1, 0xff);
  row[0] = 0;
  const raw = Buffer.alloc((rowBytes + 1) * height);
  for (let y = 0; y < height; y++) row.copy(raw, y * (rowBytes + 1));
  const ihdr = Buffer.alloc(13);
  ihdr.writeUInt32BE(width, 0);
  ihdr.writeUInt32BE(height, 4);
  ihdr[8] = 1; // bit depth
  ihdr[9] = 0; // greyscale
  return Buffer.concat([
    Buffer.from([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a]),
    pngChunk('IHDR', ihdr),
    pngChunk('IDAT', deflateSync(raw, { level: 9 })),
    pngChunk('IEND', Buffer.alloc(0)),
  ]);
}

function pngChunk(type: string, data: Buffer): Buffer {
  const head = Buffer.alloc(8);
  head.writeUInt32BE(data.length, 0);
  head.write(type, 4, 'ascii');
  const crc = Buffer.alloc(4);
  crc.writeUInt32BE(crc32(Buffer.concat([head.subarray(4), data])), 0);
  return Buffer.concat([head, data, crc]);
}

const CRC_TABLE = (() => {
  const t = new Uint32Array(256);
  for (let n = 0; n < 256; n++) {
    let c = n;
    for (let k = 0; k < 8; k++) c = c & 1 ? 0xedb88320 ^ (c >>> 1) : c >>> 1;
    t[n] = c >>> 0;
  }
  return t;
})();

function crc32(buf: Buffer): number {
  let c = 0xffffffff;
  for (const b of buf) c = CRC_TABLE[(c ^ b) & 0xff]! ^ (c >>> 8);
  return (c ^ 0xffffffff) >>> 0;
}

export type Texture = 'noise' | 'stripes' | 'planks';

/**
 * A shopper's photo of a product: the image pasted at (left, top) on a large textured background
 * (a noisy carpet, a striped bedspread, floor planks), as a JPEG; the box it occupies is returned.
 */
export async function onTexturedBackground(
  product: Buffer,
  opts: { width: number; height: number; left: number; top: number; texture: Texture; seed?: number },
): Promise<{ photo: Buffer; box: { x: number; y: number; width: number; height: number } }> {
  const r = rng(opts.seed ?? 1);
  const { width, height } = opts;
  const base = [80 + r() * 120, 60 + r() * 120, 40 + r() * 120];
  const other = base.map((c) => 255 - c);
  const pixels = Buffer.alloc(width * height * 3);
  for (let y = 0; y < height; y++)
    for (let x = 0; x < width; x++) {
      const band =
        opts.texture === 'stripes' ? Math.floor(y / 24) % 2 === 0 : opts.texture === 'planks' ? (Math.floor(x / 60) + Math.floor(y / 300)) % 3 === 0 : false;
      const colour = band ? other : base;
      const grain = opts.texture === 'planks' ? Math.sin(y / 7 + Math.floor(x / 60)) * 12 : 0;
      for (let c = 0; c < 3; c++) pixels[(y * width + x) * 3 + c] = Math.max(0, Math.min(255, colour[c]! + grain + (r() - 0.5) * 50));
    }
  const meta = await sharp(product).metadata();
  const photo = await sharp(pixels, { raw: { width, height, channels: 3 } })
    .composite([{ input: product, left: opts.left, top: opts.top }])
    .jpeg({ quality: 88 })
    .toBuffer();
  return { photo, box: { x: opts.left / width, y: opts.top / height, width: meta.width! / width, height: meta.height! / height } };
}
