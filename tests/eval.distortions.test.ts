import sharp from 'sharp';
import { describe, expect, it } from 'vitest';
import { itemSeed, sample, seededRandom } from '../src/eval/random.js';
import { DISTORTIONS, distortPhoto, homography } from '../src/eval/distortions.js';
import { productImage } from './support/images.js';

const pixels = async (bytes: Buffer) => sharp(bytes).resize(64, 64, { fit: 'fill' }).removeAlpha().raw().toBuffer();
const meanAbsDiff = (a: Buffer, b: Buffer) => a.reduce((s, v, i) => s + Math.abs(v - b[i]!), 0) / a.length;

describe('photo-like distortions', () => {
  it('are reproducible from the seed and differ between seeds', async () => {
    const image = await productImage(11);
    const a = await distortPhoto(image, { random: seededRandom(itemSeed(5, 0)) });
    const again = await distortPhoto(image, { random: seededRandom(itemSeed(5, 0)) });
    const other = await distortPhoto(image, { random: seededRandom(itemSeed(5, 1)) });
    expect(again.bytes.equals(a.bytes)).toBe(true);
    expect(again.applied).toEqual(a.applied);
    expect(other.bytes.equals(a.bytes)).toBe(false);
    const meta = await sharp(a.bytes).metadata();
    expect(meta).toMatchObject({ format: 'jpeg', width: 256, height: 256 });
  });

  it('apply every kind over a few seeds, and change the picture with strength', async () => {
    const image = await productImage(4);
    const seen = new Set<string>();
    const original = await pixels(image);
    const diffs: number[] = [];
    for (let i = 0; i < 8; i++) {
      const d = await distortPhoto(image, { random: seededRandom(itemSeed(1, i)) });
      d.applied.forEach((k) => seen.add(k));
      expect(d.applied.at(-1)).toBe('jpeg');
      diffs.push(meanAbsDiff(original, await pixels(d.bytes)));
    }
    expect([...seen].sort()).toEqual([...DISTORTIONS].sort());
    // Strength 0 is a JPEG re-encode only: nearly the original.
    const none = await distortPhoto(image, { random: seededRandom(1), strength: 0 });
    expect(none.applied).toEqual(['jpeg']);
    expect(meanAbsDiff(original, await pixels(none.bytes))).toBeLessThan(3);
    expect(Math.max(...diffs)).toBeGreaterThan(15);
  });

  it('solve the homography that takes four corners to four points', () => {
    const from: [number, number][] = [[0, 0], [100, 0], [100, 80], [0, 80]];
    const to: [number, number][] = [[5, 3], [96, -2], [103, 85], [-4, 77]];
    const m = homography(from, to);
    from.forEach(([x, y], i) => {
      const z = m[6]! * x + m[7]! * y + m[8]!;
      expect((m[0]! * x + m[1]! * y + m[2]!) / z).toBeCloseTo(to[i]![0], 9);
      expect((m[3]! * x + m[4]! * y + m[5]!) / z).toBeCloseTo(to[i]![1], 9);
    });
  });

  it('samples without replacement, seeded', () => {
    const items = Array.from({ length: 10 }, (_, i) => i);
    const a = sample(items, 6, seededRandom(3));
    expect(new Set(a).size).toBe(6);
    expect(sample(items, 6, seededRandom(3))).toEqual(a);
    const more = sample(items, 25, seededRandom(3));
    expect(more).toHaveLength(25);
    expect(new Set(more.slice(0, 10)).size).toBe(10);
    expect(sample([], 3, seededRandom(1))).toEqual([]);
  });
});
