// The catalog write path's steps on their own: the exact-duplicate sort by content hash, the
// near-duplicate check within a batch, and the product's field schema the faces derive from.
import { describe, expect, it } from 'vitest';
import { sortByHash } from '../src/catalog/exact-duplicates.js';
import type { FreshImage, ImportItem, PreparedImage } from '../src/catalog/import-types.js';
import { vectorDistance, withinBatch, type NearMatch } from '../src/catalog/near-duplicates.js';
import type { KnownImage, KnownNearDuplicate } from '../src/db/index.js';
import { productPatchSchema } from '../src/db/product-fields.js';

const sha = (n: number) => n.toString(16).padStart(64, '0');
const prepared = (n: number, phash = '0000000000000000'): PreparedImage => ({
  image: { bytes: Buffer.alloc(0), format: 'png', width: 1, height: 1, sha256: sha(n), webReady: false },
  phash,
  ref: `img-${n}`,
});
const item = (externalId: string, ...images: PreparedImage[]): ImportItem => ({ product: { source: 's', externalId, title: externalId }, images });

describe('exact duplicates (sortByHash)', () => {
  it('sorts images into unchanged, exact duplicate, earlier judgement, same batch and fresh', () => {
    const images = new Map<string, KnownImage>([
      [sha(1), { imageId: 'own-image', productId: 'p-a', source: 's', externalId: 'A' }],
      [sha(2), { imageId: 'other-image', productId: 'p-z', source: 's', externalId: 'Z' }],
    ]);
    const skipped: KnownNearDuplicate = { duplicateOf: 'kept', ofProductId: 'p-k', imageId: null, productId: null, action: 'skipped', hamming: 2, distance: 0.1 };
    const nearDuplicates = new Map([[sha(3), skipped]]);
    const pending = sortByHash(
      [item('A', prepared(1), prepared(2), prepared(3), prepared(4), prepared(4)), item('B', prepared(4), prepared(5))],
      { images, nearDuplicates },
    );
    const [a, b] = pending;
    expect(a!.map((p) => p.kind)).toEqual(['decided', 'decided', 'decided', 'fresh']);
    expect(a![0]).toMatchObject({ decision: { decision: 'unchanged', imageId: 'own-image', ref: 'img-1' } });
    expect(a![1]).toMatchObject({ decision: { decision: 'exact_duplicate', ofProductId: 'p-z', ofImageId: 'other-image' } });
    expect(a![2]).toMatchObject({ decision: { decision: 'near_duplicate', action: 'skipped', ofImageId: 'kept', ofProductId: 'p-k' } });
    // Listed twice for A: one image; listed again by B: a repeat of A's within the batch.
    const fresh4 = a![3] as FreshImage;
    expect(b![0]).toEqual({ kind: 'sameBatch', ref: 'img-4', sha256: sha(4), item: 0, imageId: fresh4.id });
    expect(b![1]).toMatchObject({ kind: 'fresh', ref: 'img-5' });
    expect((b![1] as FreshImage).id).not.toBe(fresh4.id);
  });
});

describe('near duplicates within a batch (withinBatch)', () => {
  const fresh = (id: string, phash: string): FreshImage => ({ kind: 'fresh', ref: id, prepared: prepared(0, phash), id });
  const vectors = new Map([
    ['a', { vector: Float32Array.from([1, 0]) }],
    ['b', { vector: Float32Array.from([0.99, 0.141]) }],
    ['c', { vector: Float32Array.from([0, 1]) }],
  ]);

  it('links a later image to a kept earlier one that is close in hash and embedding', () => {
    const best = new Map<string, NearMatch>();
    const images = [fresh('a', '0000000000000000'), fresh('b', '0000000000000003'), fresh('c', '0000000000000001')];
    withinBatch('l2', images, vectors, { action: 'link', maxHamming: 4, maxDistance: 0.5 }, best);
    expect([...best.keys()]).toEqual(['b']);
    expect(best.get('b')).toMatchObject({ imageId: 'a', productId: null, hamming: 2, action: 'linked' });
    expect(best.get('b')!.distance).toBeCloseTo(vectorDistance('l2', vectors.get('a')!.vector, vectors.get('b')!.vector), 6);
  });

  it('does not match against an image that is itself skipped, nor beyond the hash limit', () => {
    const best = new Map<string, NearMatch>([['a', { imageId: 'x', productId: 'p', hamming: 0, distance: 0, action: 'skipped' }]]);
    withinBatch('l2', [fresh('a', '0000000000000000'), fresh('b', '0000000000000000')], vectors, { action: 'skip', maxHamming: 4, maxDistance: 0.5 }, best);
    expect(best.has('b')).toBe(false);
    const far = new Map<string, NearMatch>();
    withinBatch('l2', [fresh('a', '0000000000000000'), fresh('b', '00000000000000ff')], vectors, { action: 'link', maxHamming: 4, maxDistance: 0.5 }, far);
    expect(far.size).toBe(0);
  });

  it('measures distances as pgvector does', () => {
    const a = Float32Array.from([3, 4]);
    const b = Float32Array.from([0, 1]);
    expect(vectorDistance('l2', a, b)).toBeCloseTo(Math.sqrt(9 + 9), 6);
    expect(vectorDistance('cosine', a, b)).toBeCloseTo(1 - 4 / 5, 6);
    expect(vectorDistance('ip', a, b)).toBe(-4);
  });
});

describe('the product field schema', () => {
  it('normalises values, keeps absent fields absent, and names the first bad field', () => {
    expect(productPatchSchema.parse({ title: ' Lamp ', brand: '  ', price: 12.345, currency: ' eur ', attributes: null })).toEqual({
      title: 'Lamp',
      brand: null,
      price: 12.35,
      currency: 'EUR',
      attributes: {},
    });
    expect(Object.keys(productPatchSchema.parse({}))).toEqual([]);
    const bad = productPatchSchema.safeParse({ price: 1e11, currency: 'euro' });
    expect(bad.error?.issues.map((i) => [i.path[0], i.message])).toEqual([
      ['price', 'price must be between 0 and 9999999999.99.'],
      ['currency', 'currency must be an ISO 4217 code such as EUR.'],
    ]);
  });
});
