// VECTOR_STORAGE=halfvec on both backends: the indexes are rebuilt for 2-byte floats at start-up
// (syncIndexes), searches and near-duplicate lookups go through them with the same answers as the
// full-precision scan, switching back restores the `vector` index, retiring drops either kind.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { loadConfig } from '../src/config.js';
import { indexName, type Database, type NewModel, type SearchSettings } from '../src/db/index.js';
import { testBackends, type OpenedBackend } from './support/databases.js';

const DIM = 32;
const model: NewModel = {
  key: 'half/test@1',
  name: 'half test',
  version: '1',
  dim: DIM,
  metric: 'cosine',
  status: 'active',
  path: '/nowhere',
  embedderSha256: 'a'.repeat(64),
  training: null,
};

/** Deterministic vectors: a seeded xorshift, so that failures reproduce. */
function vectors(n: number, seed: number): Float32Array[] {
  let x = seed;
  const next = () => {
    x ^= x << 13;
    x ^= x >>> 17;
    x ^= x << 5;
    return ((x >>> 0) / 4294967296) * 2 - 1;
  };
  return Array.from({ length: n }, () => Float32Array.from({ length: DIM }, next));
}

const cosine = (a: Float32Array, b: Float32Array) => {
  let dot = 0, na = 0, nb = 0;
  for (let i = 0; i < a.length; i++) {
    dot += a[i]! * b[i]!;
    na += a[i]! ** 2;
    nb += b[i]! ** 2;
  }
  return 1 - dot / Math.sqrt(na * nb);
};

/** Only the index can order the rows (small tables would otherwise be scanned). */
const forceIndex: Partial<SearchSettings> = { extraSettings: { enable_seqscan: 'off', enable_bitmapscan: 'off', enable_sort: 'off' } };
const hex = (n: number) => n.toString(16).padStart(16, '0');

describe.each(testBackends())('halfvec storage on $name', ({ open }) => {
  let t: OpenedBackend;
  let half: Database;
  const stored = vectors(300, 7);
  const productOf = new Map<string, number>();
  const indexes = async () =>
    (await t.sql<{ name: string }>(`SELECT indexname AS name FROM pg_indexes WHERE indexname LIKE 'image_embeddings_hnsw_%' ORDER BY 1`)).map((r) => r.name);

  beforeAll(async () => {
    t = await open();
    await t.db.modelVersions.add(model);
    const saved = await t.db.catalog.saveProducts(
      model,
      stored.map((vector, i) => ({
        product: { source: 'halfvec', externalId: String(i), title: `item ${i}` },
        images: [{ id: crypto.randomUUID(), sha256: hex(i).repeat(4), phash: hex(i), width: 8, height: 8, mediaPath: `${i}.jpg`, vector, features: vector.slice(0, 4) }],
      })),
    );
    saved.forEach((s, i) => productOf.set(s.productId, i));
    half = t.over({ vectorStorage: 'halfvec' });
  });
  afterAll(async () => {
    await t?.cleanup();
  });

  it('rebuilds the indexes for halfvec, once', async () => {
    expect(await indexes()).toEqual([indexName(model.key, 'vector')]);
    expect(await half.modelVersions.syncIndexes()).toEqual({ created: [indexName(model.key, 'halfvec')], dropped: [indexName(model.key, 'vector')] });
    expect(await indexes()).toEqual([indexName(model.key, 'halfvec')]);
    expect(await half.modelVersions.syncIndexes()).toEqual({ created: [], dropped: [] });
  });

  it('searches through the halfvec index with the answers of the exact scan', async () => {
    const plan = await half.vectors.explain({ model, vector: stored[0]!, k: 10 }, forceIndex);
    expect(plan).toContain(`Index Scan using ${indexName(model.key, 'halfvec')}`);
    expect(plan).toContain('::halfvec(32)');
    let found = 0;
    for (const [n, q] of vectors(10, 99).entries()) {
      const exact = [...stored.keys()].sort((a, b) => cosine(stored[a]!, q) - cosine(stored[b]!, q)).slice(0, 10);
      const hits = await half.vectors.nearest({ model, vector: q, k: 10 }, forceIndex);
      expect(hits).toHaveLength(10);
      found += hits.filter((h) => exact.includes(productOf.get(h.productId)!)).length;
      // 2-byte floats: distances agree with float32 arithmetic to about 1e-3.
      for (const h of hits) expect(Math.abs(h.distance - cosine(stored[productOf.get(h.productId)!]!, q))).toBeLessThan(5e-3);
      if (n === 0) expect(productOf.get(hits[0]!.productId)).toBe(exact[0]);
    }
    expect(found / 100).toBeGreaterThanOrEqual(0.95);
  });

  it('finds near-duplicates through the halfvec index', async () => {
    const [match] = await half.nearDuplicates.find(model, [{ phash: hex(42), vector: stored[42]! }], { maxHamming: 0, maxDistance: 0.01 });
    expect(match).toMatchObject({ probe: 0, hamming: 0 });
    expect(productOf.get(match!.productId)).toBe(42);
  });

  it('drops both kinds of index when a model is retired', async () => {
    const other = { ...model, key: 'half/other@1', status: 'indexing' as const };
    await half.modelVersions.add(other);
    expect(await indexes()).toContain(indexName(other.key, 'halfvec'));
    expect(await half.modelVersions.retire(other.key)).toBe(true);
    expect(await indexes()).toEqual([indexName(model.key, 'halfvec')]);
  });

  it('switching back to vector restores the full-precision index', async () => {
    expect(await t.db.modelVersions.syncIndexes()).toEqual({ created: [indexName(model.key, 'vector')], dropped: [indexName(model.key, 'halfvec')] });
    const plan = await t.db.vectors.explain({ model, vector: stored[1]!, k: 5 }, forceIndex);
    expect(plan).toContain(`Index Scan using ${indexName(model.key, 'vector')}`);
    const [best] = await t.db.vectors.nearest({ model, vector: stored[1]!, k: 5 }, forceIndex);
    expect(productOf.get(best!.productId)).toBe(1);
  });
});

it('reads VECTOR_STORAGE from the environment and refuses other values', () => {
  expect(loadConfig({ VECTOR_STORAGE: 'halfvec' }).VECTOR_STORAGE).toBe('halfvec');
  expect(loadConfig({}).VECTOR_STORAGE).toBe('vector');
  expect(() => loadConfig({ VECTOR_STORAGE: 'float16' })).toThrow(/VECTOR_STORAGE/);
});
