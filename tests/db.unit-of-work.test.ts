// The catalog's batch write (saveProducts) and the unit of work it runs in, which run as plain SQL
// on the driver: created / updated / unchanged products, image positions, a key written twice in
// one batch, and a failure inside the unit of work leaving nothing behind — on both databases.
import { afterEach, describe, expect, it } from 'vitest';
import type { ProductWrite, VectorModel } from '../src/db/index.js';
import { testBackends, type OpenedBackend } from './support/databases.js';

const MODEL: VectorModel = { key: 'm', dim: 2, metric: 'l2' };
let n = 0;

/** A new image of a product as the write path takes it. */
const image = (features = [n]) => {
  n++;
  return {
    id: crypto.randomUUID(),
    sha256: n.toString(16).padStart(64, '0'),
    phash: 'a'.repeat(16),
    width: 10,
    height: 20,
    mediaPath: `a/${n}.jpg`,
    sourceUrl: `https://shop.example/${n}.jpg`,
    vector: new Float32Array([1, n]),
    features: new Float32Array(features),
  };
};

describe.each(testBackends())('the catalog unit of work on $name', ({ open }) => {
  const cleanups: Array<() => Promise<unknown>> = [];
  afterEach(async () => {
    while (cleanups.length) await cleanups.pop()!();
  });
  const opened = async (): Promise<OpenedBackend> => {
    const t = await open();
    cleanups.push(() => t.cleanup());
    await t.db.models.ensure(MODEL);
    return t;
  };

  it('creates, updates and leaves products unchanged, appending images after the stored ones', async () => {
    const { db } = await opened();
    // Keys in an order jsonb does not keep (it sorts them by length): still the same attributes.
    const lamp = { source: 's', externalId: 'lamp', title: 'Lamp', price: 12.5, currency: 'EUR', attributes: { season: 'summer', year: 2011 } };
    const chair = { source: 's', externalId: 'chair', title: 'Chair' };
    const first = await db.catalog.saveProducts(MODEL, [
      { product: lamp, images: [image(), image()] },
      { product: chair, images: [image()] },
    ]);
    expect(first.map((s) => s.change)).toEqual(['created', 'created']);

    const third = image([7, 8, 9]);
    const again = await db.catalog.saveProducts(MODEL, [
      { product: lamp, images: [] }, // the same fields: unchanged
      { product: { ...chair, title: 'Oak chair', price: 99 }, images: [] }, // a field changed
      { product: lamp, images: [third] }, // the same fields and a new image: updated
    ]);
    expect(again.map((s) => s.change)).toEqual(['unchanged', 'updated', 'updated']);
    expect(again.map((s) => s.productId)).toEqual([first[0]!.productId, first[1]!.productId, first[0]!.productId]);

    const stored = (await db.catalog.product(first[0]!.productId))!;
    expect(stored).toMatchObject({ ...lamp, description: null });
    expect(stored.images.map((i) => i.position)).toEqual([0, 1, 2]);
    expect(stored.images[2]).toMatchObject({ id: third.id, sha256: third.sha256, width: 10, height: 20, sourceUrl: third.sourceUrl });
    expect(stored.updatedAt.getTime()).toBeGreaterThan(stored.createdAt.getTime());
    expect(await db.catalog.productByKey('s', 'chair')).toMatchObject({ title: 'Oak chair', price: 99, currency: null });
    const emb = (await db.vectors.get([third.id], MODEL)).get(third.id)!;
    expect([Array.from(emb.vector), Array.from(emb.features)]).toEqual([[1, Array.from(third.vector)[1]], [7, 8, 9]]);
  });

  it('keeps the last fields of a key written twice in one batch', async () => {
    const { db } = await opened();
    const writes: ProductWrite[] = [
      { product: { source: 's', externalId: 'k', title: 'First' }, images: [image()] },
      { product: { source: 's', externalId: 'k', title: 'Second', brand: 'B' }, images: [image()] },
    ];
    const saved = await db.catalog.saveProducts(MODEL, writes);
    expect(saved.map((s) => s.change)).toEqual(['created', 'updated']);
    expect(saved[0]!.productId).toBe(saved[1]!.productId);
    const stored = (await db.catalog.productByKey('s', 'k'))!;
    expect([stored.title, stored.brand, stored.images.map((i) => i.position)]).toEqual(['Second', 'B', [0, 1]]);
    expect(await db.catalog.countProducts()).toBe(1);
  });

  it('writes nothing when the unit of work fails after its writes', async () => {
    const t = await opened();
    const { db } = t;
    const run = (await db.ingestRuns.create({ fingerprint: 'f'.repeat(64), kind: 'api', source: 's', spec: {}, owner: 'me' }))!;
    const img = image();
    await expect(
      db.transaction(async (tx) => {
        const [saved] = await tx.catalog.saveProducts(MODEL, [{ product: { source: 's', externalId: 'gone', title: 'Gone' }, images: [img] }]);
        await tx.ingestRuns.recordItems(run.id, 0, [{ key: 'gone', outcome: 'created', productId: saved!.productId, images: [] }], [], { created: 1 });
        throw new Error('the disk is full');
      }),
    ).rejects.toThrow('the disk is full');
    expect(await db.catalog.countProducts()).toBe(0);
    expect(await t.sql('SELECT * FROM image_embeddings')).toEqual([]);
    expect(await db.ingestRuns.get(run.id)).toMatchObject({ itemsDone: 0, counts: {} });
    // A statement that fails (the same image id twice) rolls back the statements before it too.
    const dup = image();
    await expect(
      db.transaction((tx) =>
        tx.catalog.saveProducts(MODEL, [
          { product: { source: 's', externalId: 'a', title: 'A' }, images: [dup] },
          { product: { source: 's', externalId: 'b', title: 'B' }, images: [{ ...dup, sha256: 'e'.repeat(64) }] },
        ]),
      ),
    ).rejects.toThrow();
    expect(await db.catalog.countProducts()).toBe(0);
    // And the connection it ran on is fine for the next one.
    await db.transaction((tx) => tx.catalog.saveProducts(MODEL, [{ product: { source: 's', externalId: 'ok', title: 'OK' }, images: [image()] }]));
    expect(await db.catalog.countProducts()).toBe(1);
  });
});
