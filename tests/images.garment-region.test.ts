// The automatic product region (src/images/garment-region.ts) on generated shopper photos: a
// product pasted on a large textured background is inside the region, and the region is not
// much more than the product; a photo the product fills, or a plain one, gets no region.
import { describe, expect, it } from 'vitest';
import { proposeRegion, validateImage, type ImageRegion } from '../src/images/index.js';
import { onTexturedBackground, productImage, type Texture } from './support/images.js';

const validate = (bytes: Buffer) => validateImage(bytes, { maxPixels: 40_000_000 });
const area = (r: ImageRegion) => r.width * r.height;
/** The share of box that lies inside region. */
function covered(box: ImageRegion, region: ImageRegion): number {
  const w = Math.max(0, Math.min(box.x + box.width, region.x + region.width) - Math.max(box.x, region.x));
  const h = Math.max(0, Math.min(box.y + box.height, region.y + region.height) - Math.max(box.y, region.y));
  return (w * h) / area(box);
}

describe('proposeRegion', () => {
  // 300 px products on 900 × 700 backgrounds, clear of the border the background is read from.
  const cases: [Texture, number, number, number][] = [
    ['noise', 1, 60, 80],
    ['stripes', 2, 500, 300],
    ['planks', 3, 250, 40],
    ['noise', 4, 520, 360],
    ['stripes', 5, 60, 330],
    ['planks', 6, 420, 150],
  ];
  it.each(cases)('finds a product on a %s background (seed %i) at (%i, %i)', async (texture, seed, left, top) => {
    const product = await productImage(seed, { width: 300, height: 300 });
    const { photo, box } = await onTexturedBackground(product, { width: 900, height: 700, left, top, texture, seed });
    const region = await proposeRegion(await validate(photo));
    expect(region, 'a region').not.toBeNull();
    expect(covered(box, region!)).toBeGreaterThan(0.9);
    expect(area(region!)).toBeLessThan(area(box) * 2);
    for (const v of [region!.x, region!.y, region!.x + region!.width, region!.y + region!.height]) {
      expect(v).toBeGreaterThanOrEqual(0);
      expect(v).toBeLessThanOrEqual(1);
    }
  });

  it('proposes nothing when the product fills the photo, or nothing stands out', async () => {
    const large = await onTexturedBackground(await productImage(7, { width: 800, height: 620 }), { width: 900, height: 700, left: 50, top: 40, texture: 'planks' });
    expect(await proposeRegion(await validate(large.photo))).toBeNull();
    const plain = await onTexturedBackground(await productImage(8, { width: 10, height: 10 }), { width: 600, height: 400, left: 0, top: 0, texture: 'noise' });
    expect(await proposeRegion(await validate(plain.photo))).toBeNull();
  });
});
