// Vector search on both backends: models and their partial HNSW indexes, one hit per product,
// filters applied inside the index scan without starving, exact vs ANN, embeddings round-trip.
import pino from 'pino';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  indexName,
  openDatabase,
  VectorModelError,
  type NearestHit,
  type ProductFilter,
  type ProductWrite,
  type SearchSettings,
  type VectorModel,
} from '../src/db/index.js';
import { testBackends, type OpenedBackend } from './support/databases.js';

/** Deterministic PRNG (mulberry32). */
function rng(seed: number) {
  return () => {
    seed = (seed + 0x6d2b79f5) | 0;
    let t = Math.imul(seed ^ (seed >>> 15), 1 | seed);
    t = (t + Math.imul(t ^ (t >>> 7), 61 | t)) ^ t;
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}
function randomVector(r: () => number, dim: number): Float32Array {
  return Float32Array.from({ length: dim }, () => r() * 2 - 1);
}
const hex = (n: number, width: number) => n.toString(16).padStart(width, '0');

function distance(metric: VectorModel['metric'], a: Float32Array, b: Float32Array): number {
  let dot = 0, na = 0, nb = 0, l2 = 0;
  for (let i = 0; i < a.length; i++) {
    dot += a[i]! * b[i]!;
    na += a[i]! * a[i]!;
    nb += b[i]! * b[i]!;
    l2 += (a[i]! - b[i]!) ** 2;
  }
  if (metric === 'l2') return Math.sqrt(l2);
  if (metric === 'ip') return -dot;
  return 1 - dot / Math.sqrt(na * nb);
}

interface Img { id: string; productId: string; vector: Float32Array }
interface Catalog { products: { id: string; category: string; colour: string; brand: string; price: number; title: string }[]; images: Img[] }

/** Products written per unit of work while seeding (each is one transaction). */
const SEED_CHUNK = 250;

/** Products with 1-3 images each, embedded under `model`, through the catalog's write path. */
async function seed(t: OpenedBackend, model: VectorModel, nProducts: number, seedNo: number, opts: { rareEvery?: number; imagesPerProduct?: () => number } = {}): Promise<Catalog> {
  const r = rng(seedNo);
  const colours = ['red', 'green', 'blue', 'black'];
  const brands = ['acme', 'globex', 'initech'];
  const fields = Array.from({ length: nProducts }, (_, i) => ({
    source: `test-${seedNo}`,
    externalId: String(i),
    title: i % 7 === 0 ? `Striped 100%_cotton shirt ${i}` : `Plain item ${i}`,
    category: opts.rareEvery && i % opts.rareEvery === 0 ? 'rare' : 'common',
    colour: colours[i % colours.length]!,
    brand: brands[i % brands.length]!,
    price: (i % 50) + 0.99,
  }));
  let j = 0;
  const writes: ProductWrite[] = fields.map((product) => {
    const n = opts.imagesPerProduct ? opts.imagesPerProduct() : 1 + Math.floor(r() * 3);
    const images = Array.from({ length: n }, () => {
      const id = crypto.randomUUID();
      const vector = randomVector(r, model.dim);
      const k = j++;
      return { id, sha256: hex(seedNo, 8) + hex(k, 56), phash: hex(k, 16), width: 64, height: 64, mediaPath: `${id}.jpg`, vector, features: vector.slice(0, 4) };
    });
    return { product, images };
  });
  const products: Catalog['products'] = [];
  const images: Img[] = [];
  for (let i = 0; i < writes.length; i += SEED_CHUNK) {
    const chunk = writes.slice(i, i + SEED_CHUNK);
    const saved = await t.db.catalog.saveProducts(model, chunk);
    saved.forEach((s, n) => {
      products.push({ id: s.productId, ...fields[i + n]! });
      for (const im of chunk[n]!.images) images.push({ id: im.id, productId: s.productId, vector: im.vector });
    });
  }
  return { products, images };
}

/** Exact answer computed in JS: best image per product, sorted, k. */
function bruteForce(c: Catalog, model: VectorModel, q: Float32Array, k: number, keep: (productId: string) => boolean = () => true): NearestHit[] {
  const best = new Map<string, NearestHit>();
  for (const im of c.images) {
    if (!keep(im.productId)) continue;
    const d = distance(model.metric, im.vector, q);
    const cur = best.get(im.productId);
    if (!cur || d < cur.distance) best.set(im.productId, { productId: im.productId, imageId: im.id, distance: d });
  }
  return [...best.values()].sort((a, b) => a.distance - b.distance).slice(0, k);
}

/** Plan settings that leave the planner only the HNSW index for ordering (small test tables). */
const forceIndex: SearchSettings = {
  efSearch: 40,
  iterativeScan: true,
  extraSettings: { enable_seqscan: 'off', enable_bitmapscan: 'off', enable_sort: 'off' },
};

const isSorted = (hits: NearestHit[]) => hits.every((h, i) => i === 0 || hits[i - 1]!.distance <= h.distance);

describe.each(testBackends())('vector search on $name', ({ name, open }) => {
  let t: OpenedBackend;
  const m32: VectorModel = { key: 'test/embedder@1', dim: 32, metric: 'l2', name: 'test embedder', version: '1' };
  const m8: VectorModel = { key: "other'model", dim: 8, metric: 'cosine' };
  const m16: VectorModel = { key: 'scale', dim: 16, metric: 'l2' };
  let big: Catalog;
  let small: Catalog;

  beforeAll(async () => {
    t = await open();
    await t.db.models.ensure(m32);
    await t.db.models.ensure(m8);
    // 1,000 products, one image each; every 33rd product (3%) is category 'rare'.
    big = await seed(t, m32, 1000, 1, { rareEvery: 33, imagesPerProduct: () => 1 });
    // 60 products with 1-3 images under the second model.
    small = await seed(t, m8, 60, 2);
    // Enough rows (2,500) that the planner prefers the HNSW index on its own.
    await t.db.models.ensure(m16);
    const started = Date.now();
    await seed(t, m16, 2500, 4, { imagesPerProduct: () => 1 });
    console.log(`seeded 2,500 on ${t.url ? 'postgres' : 'embedded'} in ${Date.now() - started} ms`);
  });
  afterAll(async () => {
    await t?.cleanup();
  });
  const countOf = async (query: string, params: unknown[]) => (await t.sql<{ n: number }>(query, params))[0]!.n;

  it('registers models idempotently, records them, and refuses a changed dim or metric', async () => {
    await t.db.models.ensure(m32);
    await t.db.models.ensure(m8);
    const rows = await t.db.models.list();
    expect(rows.map((r) => [r.key, r.dim, r.metric, r.name, r.version])).toEqual([
      ["other'model", 8, 'cosine', "other'model", ''],
      ['scale', 16, 'l2', 'scale', ''],
      ['test/embedder@1', 32, 'l2', 'test embedder', '1'],
    ]);
    await expect(t.db.models.ensure({ ...m32, dim: 64 })).rejects.toThrow(VectorModelError);
    await expect(t.db.models.ensure({ ...m32, metric: 'ip' })).rejects.toThrow(/registered with dim 32 and metric l2/);
    await expect(t.db.models.ensure({ key: 'bad\\key\n', dim: 3, metric: 'l2' })).rejects.toThrow(VectorModelError);
    await expect(t.db.models.ensure({ key: 'huge', dim: 4096, metric: 'l2' })).rejects.toThrow(/dim must be/);
  });

  it.runIf(name === 'postgres')('registers a model from concurrent processes without a clash', async () => {
    const dbs = await Promise.all([0, 1, 2].map(() => openDatabase({ url: t.url, dataDir: t.dataDir, efSearch: 40, logger: pino({ level: 'silent' }) })));
    try {
      const model: VectorModel = { key: 'concurrent', dim: 5, metric: 'cosine' };
      await Promise.all(dbs.map((d) => d.models.ensure(model)));
      expect((await t.db.models.indexInfo(model))?.name).toBe(indexName(model.key, 'vector'));
      expect((await t.db.models.list()).filter((m) => m.key === 'concurrent')).toHaveLength(1);
    } finally {
      await Promise.all(dbs.map((d) => d.close()));
    }
  });

  it('reports each model index with its HNSW parameters', async () => {
    expect(await t.db.models.indexInfo(m32)).toEqual({ name: indexName(m32.key, 'vector'), m: 16, efConstruction: 64, efSearch: 100 });
    expect((await t.db.models.indexInfo(m8))?.name).toBe(indexName(m8.key, 'vector'));
    expect(await t.db.models.indexInfo({ key: 'never-registered', dim: 3, metric: 'l2' })).toBeNull();
    const info = await t.db.serverInfo();
    expect(info.vectorVersion).toMatch(/^0\.(8|9|\d\d)\./);
    expect(info.iterativeScan).toBe(true);
  });

  it('plans the search through the model’s partial HNSW index', async () => {
    const q32 = randomVector(rng(99), 32);
    // 2,500 rows and fresh statistics: the planner picks the index by itself.
    const plan16 = await t.db.vectors.explain({ model: m16, vector: randomVector(rng(97), 16), k: 10 });
    expect(plan16).toContain(`Index Scan using ${indexName(m16.key, 'vector')}`);
    expect(plan16).toContain('Order By: ((embedding)::vector(16) <-> ');
    // The second model's index matches its own search expression and predicate too (its table
    // share is small, so take the alternatives away to see that the index is usable).
    const plan8 = await t.db.vectors.explain({ model: m8, vector: randomVector(rng(98), 8), k: 5 }, forceIndex);
    expect(plan8).toContain(`Index Scan using ${indexName(m8.key, 'vector')}`);
    expect(plan8).toContain('<=>');
    // The 1,000-row model: the index is used once the alternatives are gone.
    expect(await t.db.vectors.explain({ model: m32, vector: q32, k: 10 }, forceIndex)).toContain(
      `Index Scan using ${indexName(m32.key, 'vector')}`,
    );
    const exact = await t.db.vectors.explain({ model: m32, vector: q32, k: 10, exact: true });
    expect(exact).not.toContain('image_embeddings_hnsw_');
  });

  it('a plain search is one statement, outside any transaction; an exact one opens a transaction for its settings', async () => {
    let transactions = 0;
    const db = t.over({}, () => transactions++);
    const vector = big.images[3]!.vector;
    const plain = await db.vectors.nearest({ model: m32, vector, k: 10 });
    expect(plain[0]!.imageId).toBe(big.images[3]!.id);
    expect(transactions).toBe(0);
    const filtered = await db.vectors.nearest({ model: m32, vector, k: 5, filter: { category: ['rare'] } });
    expect(filtered.length).toBe(5);
    expect(transactions).toBe(0);
    const exact = await db.vectors.nearest({ model: m32, vector, k: 10, exact: true });
    expect(exact[0]!.imageId).toBe(big.images[3]!.id);
    expect(transactions).toBe(1);
  });

  it('finds the nearest products, one entry per product with its closest image', async () => {
    const r = rng(7);
    for (let n = 0; n < 5; n++) {
      const q = randomVector(r, 8);
      const hits = await t.db.vectors.nearest({ model: m8, vector: q, k: 10, exact: true });
      const expected = bruteForce(small, m8, q, 10);
      expect(hits.map((h) => [h.productId, h.imageId])).toEqual(expected.map((h) => [h.productId, h.imageId]));
      hits.forEach((h, i) => expect(h.distance).toBeCloseTo(expected[i]!.distance, 4));
      const ann = await t.db.vectors.nearest({ model: m8, vector: q, k: 10 });
      expect(new Set(ann.map((h) => h.productId)).size).toBe(ann.length);
      expect(isSorted(ann)).toBe(true);
    }
  });

  it('keeps two models apart: each search sees only its own embeddings', async () => {
    const hits32 = await t.db.vectors.nearest({ model: m32, vector: randomVector(rng(5), 32), k: 20 });
    const bigIds = new Set(big.products.map((p) => p.id));
    expect(hits32).toHaveLength(20);
    expect(hits32.every((h) => bigIds.has(h.productId))).toBe(true);
    const hits8 = await t.db.vectors.nearest({ model: m8, vector: randomVector(rng(6), 8), k: 100 });
    const smallIds = new Set(small.products.map((p) => p.id));
    expect(hits8).toHaveLength(60); // all of that model's products, none of the other's
    expect(hits8.every((h) => smallIds.has(h.productId))).toBe(true);
  });

  it('ANN agrees with the exact scan on a small set', async () => {
    const r = rng(11);
    let found = 0;
    let total = 0;
    for (let n = 0; n < 10; n++) {
      const q = randomVector(r, 32);
      const exact = await t.db.vectors.nearest({ model: m32, vector: q, k: 10, exact: true });
      const ann = await t.db.vectors.nearest({ model: m32, vector: q, k: 10 });
      expect(exact.map((h) => h.productId)).toEqual(bruteForce(big, m32, q, 10).map((h) => h.productId));
      const want = new Set(exact.map((h) => h.productId));
      found += ann.filter((h) => want.has(h.productId)).length;
      total += exact.length;
    }
    expect(found / total).toBeGreaterThanOrEqual(0.95);
  });

  it('a selective filter (3% of products) still returns k matching hits, sorted', async () => {
    const rare = new Set(big.products.filter((p) => p.category === 'rare').map((p) => p.id));
    expect(rare.size).toBe(31);
    const r = rng(13);
    for (let n = 0; n < 5; n++) {
      const q = randomVector(r, 32);
      const query = { model: m32, vector: q, k: 10, filter: { category: ['rare'] } };
      const exact = bruteForce(big, m32, q, 10, (id) => rare.has(id));
      // as planned by the server, and with the HNSW index scan forced (iterative scan at work)
      for (const hits of [await t.db.vectors.nearest(query), await t.db.vectors.nearest(query, forceIndex)]) {
        expect(hits).toHaveLength(10);
        expect(hits.every((h) => rare.has(h.productId))).toBe(true);
        expect(isSorted(hits)).toBe(true);
        const overlap = hits.filter((h) => exact.some((e) => e.productId === h.productId)).length;
        expect(overlap).toBeGreaterThanOrEqual(8);
      }
    }
    const q = randomVector(r, 32);
    const query = { model: m32, vector: q, k: 10, filter: { category: ['rare'] } };
    const plan = await t.db.vectors.explain(query, forceIndex);
    expect(plan).toContain(`Index Scan using ${indexName(m32.key, 'vector')}`);
    // what the iterative scan saves us from: a plain HNSW scan stops after ef_search=40 rows
    const starved = await t.db.vectors.nearest(query, {
      ...forceIndex,
      extraSettings: { ...forceIndex.extraSettings, 'hnsw.iterative_scan': 'off', 'hnsw.ef_search': '40' },
    });
    expect(starved.length).toBeLessThan(10);
  });

  it('applies colour, brand, price, keyword and exclusion filters', async () => {
    const q = randomVector(rng(17), 32);
    const byId = new Map(big.products.map((p) => [p.id, p]));
    const check = async (filter: ProductFilter, keep: (p: Catalog['products'][number]) => boolean, excludeProductId?: string) => {
      const hits = await t.db.vectors.nearest({ model: m32, vector: q, k: 15, filter, excludeProductId });
      const exact = bruteForce(big, m32, q, 15, (id) => keep(byId.get(id)!));
      expect(hits).toHaveLength(exact.length);
      expect(hits.every((h) => keep(byId.get(h.productId)!))).toBe(true);
      expect(isSorted(hits)).toBe(true);
      return hits;
    };
    await check({ colour: ['red', 'blue'], brand: ['acme'] }, (p) => ['red', 'blue'].includes(p.colour) && p.brand === 'acme');
    await check({ minPrice: 10, maxPrice: 12.5 }, (p) => p.price >= 10 && p.price <= 12.5);
    // ILIKE with % and _ taken literally
    await check({ keyword: '100%_COTTON' }, (p) => p.title.toLowerCase().includes('100%_cotton'));
    const noMatch = await t.db.vectors.nearest({ model: m32, vector: q, k: 5, filter: { keyword: '100%x' } });
    expect(noMatch).toEqual([]);
    const first = (await t.db.vectors.nearest({ model: m32, vector: q, k: 1 }))[0]!;
    await check({}, (p) => p.id !== first.productId, first.productId);
    await check({ category: [] }, () => true); // empty list = no filter
  });

  it('supports the ip metric with its own index', async () => {
    const mip: VectorModel = { key: 'ip-model', dim: 4, metric: 'ip' };
    await t.db.models.ensure(mip);
    const c = await seed(t, mip, 30, 3);
    const q = randomVector(rng(23), 4);
    const hits = await t.db.vectors.nearest({ model: mip, vector: q, k: 5, exact: true });
    expect(hits.map((h) => h.imageId)).toEqual(bruteForce(c, mip, q, 5).map((h) => h.imageId));
    expect(await t.db.vectors.explain({ model: mip, vector: q, k: 5 }, forceIndex)).toContain(
      `Index Scan using ${indexName(mip.key, 'vector')}`,
    );
    const ann = await t.db.vectors.nearest({ model: mip, vector: q, k: 5 }, forceIndex);
    expect(ann.map((h) => h.imageId)).toEqual(hits.map((h) => h.imageId));
  });

  it('upserts replace, and vectors and features round-trip exactly', async () => {
    const im = small.images[0]!;
    const r = rng(29);
    const vector = Float32Array.from({ length: 8 }, () => (r() - 0.5) * 10 ** Math.floor(r() * 12 - 6));
    const features = Float32Array.from([0, -0, 1e-45, -3.4028234663852886e38, Math.PI, -1 / 3, 1e30, 7.006492321624085e-46, ...Array.from({ length: 1000 }, () => r() - 0.5)]);
    // a view at an odd offset of a bigger buffer
    const backing = new ArrayBuffer(features.byteLength + 8);
    const view = new Float32Array(backing, 4, features.length);
    view.set(features);
    await t.db.vectors.upsert(m8, [{ imageId: im.id, vector, features: view }]);
    const got = (await t.db.vectors.get([im.id, im.id, crypto.randomUUID()], m8)).get(im.id)!;
    expect(Array.from(got.vector)).toEqual(Array.from(vector));
    expect(Buffer.from(got.features.buffer).equals(Buffer.from(features.buffer))).toBe(true);
    expect(await countOf(`SELECT count(*)::int AS n FROM image_embeddings WHERE image_id = $1 AND model_key = $2`, [im.id, m8.key])).toBe(1);
    // the replaced vector is what the search sees
    const hits = await t.db.vectors.nearest({ model: m8, vector, k: 1, exact: true });
    expect(hits[0]).toMatchObject({ imageId: im.id });
    expect(hits[0]!.distance).toBeLessThan(1e-6);
    await expect(t.db.vectors.upsert(m8, [{ imageId: im.id, vector: new Float32Array(7), features: view }])).rejects.toThrow(/7 dimensions/);
    expect((await t.db.vectors.get([], m8)).size).toBe(0);
  });

  it('analyzes tables another writer changed before an index read (PGlite has no autovacuum, a server may have none)', async () => {
    // statistics reach pg_stat_user_tables when the backend flushes them
    const flushed = async () => {
      await t.sql('SELECT pg_stat_force_next_flush()::text');
      await t.db.ping();
    };
    // Counts of earlier writes still pending in a backend would land after the ANALYZE (a backend
    // flushes them at most once a second): flush them first, or a slow run sees the tables stale.
    await flushed();
    await t.db.analyze();
    await flushed();
    expect(await t.db.staleTables()).toEqual([]);
    await seed(t, m8, 300, 5, { imagesPerProduct: () => 2 });
    // Postgres shows the writing connections' counts once each of them flushes (within a second or so).
    const modified = async () => {
      await flushed();
      const [row] = await t.sql<{ n: number }>(`SELECT n_mod_since_analyze::int AS n FROM pg_stat_user_tables WHERE relname = 'image_embeddings'`);
      return row!.n;
    };
    await expect.poll(modified, { timeout: 15_000, interval: 250 }).toBeGreaterThanOrEqual(600);
    expect(await t.db.staleTables()).toEqual(expect.arrayContaining(['product_images', 'image_embeddings']));
    // A second Database (another process, say) has written nothing itself: it must still see the change.
    await t.over({}).vectors.nearest({ model: m8, vector: randomVector(rng(31), 8), k: 3 }); // analyzes first
    await flushed();
    expect(await t.db.staleTables()).toEqual([]);
  });

  it('deleting a product cascades to its images and embeddings; deleting a model to its embeddings', async () => {
    const p = small.products[1]!;
    const imageIds = small.images.filter((im) => im.productId === p.id).map((im) => im.id);
    const embeddingsOf = () => countOf('SELECT count(*)::int AS n FROM image_embeddings WHERE image_id = ANY($1::uuid[])', [imageIds]);
    expect(await embeddingsOf()).toBe(imageIds.length);
    expect(await t.db.catalog.deleteProducts([p.id])).toEqual({ productIds: [p.id], mediaPaths: expect.arrayContaining(imageIds.map((id) => `${id}.jpg`)) });
    expect(await countOf('SELECT count(*)::int AS n FROM product_images WHERE product_id = $1', [p.id])).toBe(0);
    expect(await embeddingsOf()).toBe(0);
    expect((await t.db.vectors.get(imageIds, m8)).size).toBe(0);
    expect(await t.db.vectors.count('ip-model')).toBeGreaterThan(0);
    await t.sql(`DELETE FROM vector_models WHERE key = 'ip-model'`);
    expect(await t.db.vectors.count('ip-model')).toBe(0);
    await t.db.ping();
  });
});
