// Crop regions: fractions of the oriented image, validated and mapped to whole pixels before
// preprocessing.
import { describe, expect, it } from 'vitest';
import { ImageError } from '../src/images/index.js';
import { regionToPixels, validateRegion } from '../src/ml/preprocess.js';
import { RegionError } from '../src/ml/types.js';

describe('regions', () => {
  it('validates fractional regions', () => {
    expect(() => validateRegion({ x: 0, y: 0, width: 1, height: 1 })).not.toThrow();
    expect(() => validateRegion({ x: 0.25, y: 0.5, width: 0.75, height: 0.5 })).not.toThrow();
    for (const r of [
      { x: -0.1, y: 0, width: 0.5, height: 0.5 },
      { x: 0, y: 1, width: 0.5, height: 0.5 },
      { x: 0, y: 0, width: 0, height: 0.5 },
      { x: 0, y: 0, width: 1.2, height: 0.5 },
      { x: 0.6, y: 0, width: 0.5, height: 0.5 },
      { x: 0, y: 0.6, width: 0.5, height: 0.5 },
      { x: Number.NaN, y: 0, width: 0.5, height: 0.5 },
    ]) {
      expect(() => validateRegion(r), JSON.stringify(r)).toThrow(RegionError);
    }
    try {
      validateRegion({ x: 2, y: 0, width: 1, height: 1 });
    } catch (e) {
      expect((e as RegionError).code).toBe('BAD_USER_INPUT');
      expect(e).toBeInstanceOf(ImageError);
    }
  });

  it('maps regions to at least one whole pixel', () => {
    expect(regionToPixels({ x: 0.5, y: 0.25, width: 0.5, height: 0.5 }, 200, 100)).toEqual({ left: 100, top: 25, width: 100, height: 50 });
    expect(regionToPixels({ x: 0.999, y: 0.999, width: 0.001, height: 0.001 }, 10, 10)).toEqual({ left: 9, top: 9, width: 1, height: 1 });
  });
});
