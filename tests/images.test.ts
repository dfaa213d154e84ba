import sharp from 'sharp';
import { toTensor } from '../src/ml/preprocess.js';
import { describe, expect, it } from 'vitest';
import {
  hammingDistance,
  ImageError,
  perceptualHash,
  rasterizeSvg,
  renderMedia,
  validateImage,
  withPixels,
  type ImageErrorCode,
} from '../src/images/index.js';
import {
  distort,
  encodeAs,
  exifRotatedJpeg,
  hugePng,
  productImage,
  productSvg,
  randomBytes,
  svgImage,
  transparentPng,
  truncated,
} from './support/images.js';

const MAX = 40_000_000;

async function rejects(p: Promise<unknown>, code: ImageErrorCode): Promise<ImageError> {
  const err = await p.then(
    () => undefined,
    (e: unknown) => e,
  );
  expect(err).toBeInstanceOf(ImageError);
  expect((err as ImageError).code).toBe(code);
  return err as ImageError;
}

describe('validateImage', () => {
  it.each(['jpeg', 'png', 'webp', 'gif', 'avif'] as const)('accepts and decodes %s', async (format) => {
    const bytes = await productImage(3, { width: 120, height: 90, format });
    const image = await validateImage(bytes, { maxPixels: MAX });
    expect(image.format).toBe(format);
    expect([image.width, image.height]).toEqual([120, 90]);
    expect(image.sha256).toMatch(/^[0-9a-f]{64}$/);
    expect(image.bytes.equals(bytes)).toBe(true);
  });

  it('accepts a Uint8Array as well as a Buffer', async () => {
    const bytes = await productImage(3, { width: 40, height: 30 });
    const image = await validateImage(new Uint8Array(bytes), { maxPixels: MAX });
    expect(image.width).toBe(40);
  });

  it('refuses SVG and random bytes as UNSUPPORTED_IMAGE_TYPE', async () => {
    const svg = await rejects(validateImage(svgImage(), { maxPixels: MAX }), 'UNSUPPORTED_IMAGE_TYPE');
    expect(svg.message).toMatch(/SVG/);
    await rejects(validateImage(randomBytes(), { maxPixels: MAX }), 'UNSUPPORTED_IMAGE_TYPE');
    await rejects(validateImage(Buffer.from('%PDF-1.4\n%âãÏÓ\n1 0 obj'), { maxPixels: MAX }), 'UNSUPPORTED_IMAGE_TYPE');
  });

  it('refuses empty, truncated and corrupt images as BAD_IMAGE', async () => {
    await rejects(validateImage(Buffer.alloc(0), { maxPixels: MAX }), 'BAD_IMAGE');
    const jpeg = await productImage(4, { format: 'jpeg' });
    const err = await rejects(validateImage(truncated(jpeg, 0.5), { maxPixels: MAX }), 'BAD_IMAGE');
    expect(err.message).toMatch(/JPEG/);
    for (const format of ['png', 'webp', 'gif', 'avif'] as const) {
      await rejects(validateImage(truncated(await productImage(4, { format }), 0.6), { maxPixels: MAX }), 'BAD_IMAGE');
    }
    // Right magic bytes, garbage after them.
    const garbage = Buffer.concat([jpeg.subarray(0, 4), randomBytes(2000, 7)]);
    await rejects(validateImage(garbage, { maxPixels: MAX }), 'BAD_IMAGE');
  });

  it('with decode: false checks the header only; preprocessing then refuses the bad pixels as BAD_IMAGE', async () => {
    // A search query is decoded once, by preprocessing: corrupt data must still end as BAD_IMAGE.
    const spec = { size: 32, scale: 255, mean: [0, 0, 0] as [number, number, number], std: [1, 1, 1] as [number, number, number] };
    for (const format of ['jpeg', 'png', 'webp', 'gif', 'avif'] as const) {
      const cut = truncated(await productImage(4, { format }), format === 'jpeg' ? 0.5 : 0.6);
      // Refused at the header (a WebP cut there) or by preprocessing; never accepted.
      const search = validateImage(cut, { maxPixels: MAX, decode: false }).then((image) => toTensor(image, spec));
      await rejects(search, 'BAD_IMAGE');
    }
    // A JPEG cut in its scan data has a sound header: only the decode finds it.
    const cutJpeg = truncated(await productImage(4, { format: 'jpeg' }), 0.5);
    const headerOnly = await validateImage(cutJpeg, { maxPixels: MAX, decode: false });
    expect([headerOnly.format, headerOnly.width]).toEqual(['jpeg', 256]);
    await rejects(toTensor(headerOnly, spec), 'BAD_IMAGE');
    // The importer hashes what it validated this way: the hash refuses the bad pixels.
    for (const format of ['jpeg', 'png', 'webp', 'gif', 'avif'] as const) {
      const cut = truncated(await productImage(4, { format }), format === 'jpeg' ? 0.5 : 0.6);
      const err = await rejects(validateImage(cut, { maxPixels: MAX, decode: false }).then(perceptualHash), 'BAD_IMAGE');
      expect(err.message).toMatch(format === 'avif' ? /AVIF|HEIF|corrupt|cannot be read/i : new RegExp(format.toUpperCase()));
      // …and so does the decode that keeps a small image's pixels for the embedder, which comes first.
      await rejects(validateImage(cut, { maxPixels: MAX, decode: false }).then(withPixels), 'BAD_IMAGE');
    }
    // The header checks still apply.
    await rejects(validateImage(hugePng(), { maxPixels: MAX, decode: false }), 'IMAGE_TOO_LARGE');
    await rejects(validateImage(randomBytes(), { maxPixels: MAX, decode: false }), 'UNSUPPORTED_IMAGE_TYPE');
  });

  it('refuses images over the pixel limit as IMAGE_TOO_LARGE, from the header', async () => {
    const bomb = hugePng(); // 20000×20000 in a few tens of kB
    expect(bomb.length).toBeLessThan(200_000);
    const started = performance.now();
    const err = await rejects(validateImage(bomb, { maxPixels: MAX }), 'IMAGE_TOO_LARGE');
    expect(performance.now() - started).toBeLessThan(2000);
    expect(err.message).toMatch(/20000×20000/);
    await rejects(validateImage(await productImage(5, { width: 200, height: 100 }), { maxPixels: 19_999 }), 'IMAGE_TOO_LARGE');
    await expect(validateImage(await productImage(5, { width: 200, height: 100 }), { maxPixels: 20_000 })).resolves.toBeTruthy();
  });

  it('reports dimensions after EXIF orientation', async () => {
    const upright = await productImage(6, { width: 160, height: 100 });
    const rotated = await exifRotatedJpeg(upright, 6);
    const raw = await sharp(rotated).metadata();
    expect(raw.orientation).toBe(6);
    const image = await validateImage(rotated, { maxPixels: MAX });
    expect([image.width, image.height]).toEqual([100, 160]);
  });
});

/** The JPEG with a JFIF header (APP0) right after SOI, carrying a 1 × 1 thumbnail or none. */
function withJfif(jpeg: Buffer, thumbnail: boolean): Buffer {
  expect([jpeg[2], jpeg[3]]).not.toEqual([0xff, 0xe0]); // sharp writes none
  const header = [...Buffer.from('JFIF\0'), 1, 2, 0, 0, 1, 0, 1, ...(thumbnail ? [1, 1, 0xff, 0, 0] : [0, 0])];
  return Buffer.concat([jpeg.subarray(0, 2), Buffer.from([0xff, 0xe0, 0, header.length + 2, ...header]), jpeg.subarray(2)]);
}

describe('renderMedia', () => {
  it('makes WebP display and thumbnail renditions, oriented, bounded, stripped of metadata', async () => {
    const big = await exifRotatedJpeg(await productImage(7, { width: 1200, height: 900 }), 6);
    const media = await renderMedia(await validateImage(big, { maxPixels: MAX }));
    expect(media.contentType).toBe('image/webp');
    expect(media.extension).toBe('webp');
    const display = await sharp(media.display).metadata();
    const thumb = await sharp(media.thumbnail).metadata();
    expect(display.format).toBe('webp');
    expect([display.width, display.height]).toEqual([600, 800]); // portrait after orientation
    expect([thumb.width, thumb.height]).toEqual([192, 256]);
    expect(display.orientation).toBeUndefined();
    expect(display.exif).toBeUndefined();
  });

  it('never enlarges a small image and keeps transparency', async () => {
    const media = await renderMedia(await validateImage(await transparentPng(100), { maxPixels: MAX }));
    const display = await sharp(media.display).metadata();
    expect([display.width, display.height]).toEqual([100, 100]);
    expect(display.hasAlpha).toBe(true);
    // Within the thumbnail's size both renditions are the same pixels: one encoding serves both.
    expect(media.thumbnail).toBe(media.display);
  });

  it('keeps a small, bare JPEG or WebP as it is, and re-encodes one with metadata, a comment, appended data, a rotation or a larger size', async () => {
    const small = await productImage(5, { width: 224, height: 200 });
    for (const [format, extension] of [['jpeg', 'jpg'], ['webp', 'webp']] as const) {
      const bytes = await encodeAs(small, format);
      const image = await validateImage(bytes, { maxPixels: MAX });
      expect(image.webReady).toBe(true);
      const media = await renderMedia(image);
      expect([media.extension, media.contentType]).toEqual([extension, `image/${format}`]);
      expect(media.display.equals(bytes) && media.thumbnail.equals(bytes)).toBe(true);
    }
    const withExif = await sharp(small).jpeg().withMetadata({ exif: { IFD0: { Copyright: 'someone' } } }).toBuffer();
    const jpeg = await encodeAs(small, 'jpeg');
    const comment = Buffer.from([0xff, 0xfe, 0x00, 0x07, ...Buffer.from('hello')]);
    const webp = await encodeAs(small, 'webp');
    const progressive = await sharp(small).jpeg({ progressive: true }).toBuffer();
    expect((await validateImage(progressive, { maxPixels: MAX })).webReady).toBe(true);
    expect((await validateImage(withJfif(jpeg, false), { maxPixels: MAX })).webReady).toBe(true);
    const refused = [
      withExif,
      Buffer.concat([jpeg.subarray(0, 2), comment, jpeg.subarray(2)]), // a comment segment
      withJfif(jpeg, true), // a second, 1 × 1 picture in its JFIF header
      Buffer.concat([jpeg, Buffer.from('<html><script>alert(1)</script></html>')]), // data after the picture
      Buffer.concat([webp, Buffer.from('<html></html>')]),
      await sharp(small).webp().withMetadata({ exif: { IFD0: { Copyright: 'someone' } } }).toBuffer(),
      await exifRotatedJpeg(small, 3),
      await encodeAs(await productImage(5, { width: 300, height: 200 }), 'jpeg'), // larger than the thumbnail
      await encodeAs(small, 'png'),
    ];
    for (const [i, bytes] of refused.entries()) {
      const image = await validateImage(bytes, { maxPixels: MAX });
      // Each one but the large one carries more than its picture.
      expect(image.webReady, `refused[${i}]`).toBe(i === refused.length - 2);
      const media = await renderMedia(image);
      expect(media.extension).toBe('webp');
      expect((await sharp(media.display).metadata()).exif).toBeUndefined();
    }
  });

  it('encodes the two renditions apart once the image is larger than the thumbnail', async () => {
    const media = await renderMedia(await validateImage(await productImage(3, { width: 300, height: 200 }), { maxPixels: MAX }));
    const [display, thumb] = await Promise.all([sharp(media.display).metadata(), sharp(media.thumbnail).metadata()]);
    expect([display.width, display.height]).toEqual([300, 200]);
    expect([thumb.width, thumb.height]).toEqual([256, 171]);
  });
});

describe('withPixels', () => {
  it("keeps a small image's pixels, hashed and embedded as a fresh decode would be, and leaves a large one's", async () => {
    const spec = { size: 48, scale: 255, mean: [0.5, 0.5, 0.5] as [number, number, number], std: [0.2, 0.2, 0.2] as [number, number, number] };
    const small = await validateImage(await productImage(21, { width: 256, height: 200, format: 'jpeg' }), { maxPixels: MAX, decode: false });
    const kept = await withPixels(small);
    expect([kept.pixels?.width, kept.pixels?.height, kept.pixels?.data.length]).toEqual([256, 200, 256 * 200 * 3]);
    expect(await perceptualHash(kept)).toBe(await perceptualHash(small));
    expect(Array.from(await toTensor(kept, spec))).toEqual(Array.from(await toTensor(small, spec)));
    const large = await validateImage(await productImage(22, { width: 300, height: 300 }), { maxPixels: MAX, decode: false });
    expect((await withPixels(large)).pixels).toBeUndefined();
  });
});

describe('perceptualHash', () => {
  it('is 16 hex digits, stable, close for a distortion and far for another product', async () => {
    const a = await productImage(11);
    const hash = async (b: Buffer) => perceptualHash(await validateImage(b, { maxPixels: MAX }));
    const ha = await hash(a);
    expect(ha).toMatch(/^[0-9a-f]{16}$/);
    expect(await hash(a)).toBe(ha);
    // Re-encoding and mild brightness change: near-identical.
    expect(hammingDistance(ha, await hash(await encodeAs(a, 'jpeg')))).toBeLessThanOrEqual(4);
    expect(hammingDistance(ha, await hash(await distort(a, { crop: 0, degrees: 0, brightness: 1.05 })))).toBeLessThanOrEqual(6);
    const others = await Promise.all([12, 13, 14, 15].map(async (s) => hammingDistance(ha, await hash(await productImage(s)))));
    for (const d of others) expect(d).toBeGreaterThan(10);
  });

  it('is computed on the oriented image', async () => {
    const upright = await productImage(16, { width: 160, height: 100 });
    const hash = async (b: Buffer) => perceptualHash(await validateImage(b, { maxPixels: MAX }));
    const plain = await hash(await encodeAs(upright, 'jpeg'));
    const rotatedPixels = await sharp(upright).rotate(-90).toBuffer(); // stored sideways…
    const tagged = await exifRotatedJpeg(rotatedPixels, 6); // …with a tag that turns it back upright
    expect(hammingDistance(plain, await hash(tagged))).toBeLessThanOrEqual(4);
  });

  it('hammingDistance counts differing bits and checks its input', () => {
    expect(hammingDistance('0000000000000000', 'ffffffffffffffff')).toBe(64);
    expect(hammingDistance('00000000000000f0', '0000000000000001')).toBe(5);
    expect(() => hammingDistance('xyz', '0000000000000000')).toThrow(TypeError);
  });
});

describe('rasterizeSvg', () => {
  it('renders an SVG at the requested size onto white', async () => {
    const png = await rasterizeSvg(productSvg(1, 64, 48), 400);
    const meta = await sharp(png).metadata();
    expect([meta.format, meta.width, meta.height, meta.hasAlpha]).toEqual(['png', 400, 300, false]);
  });

  it('renders an SVG at a scale of its own size (a chart)', async () => {
    const svg = '<svg xmlns="http://www.w3.org/2000/svg" width="30" height="20"><rect x="10" width="20" height="20" fill="#f00"/></svg>';
    const png = await rasterizeSvg(svg, { scale: 2 });
    const { data, info } = await sharp(png).raw().toBuffer({ resolveWithObject: true });
    expect([info.width, info.height, info.channels]).toEqual([60, 40, 3]);
    // Left third: the transparent background flattened onto white; the rest: the red rectangle.
    expect([...data.subarray(0, 3)]).toEqual([255, 255, 255]);
    expect([...data.subarray((20 * 60 + 50) * 3, (20 * 60 + 50) * 3 + 3)]).toEqual([255, 0, 0]);
  });
});
