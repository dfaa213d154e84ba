import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Database, VectorModel } from '../src/db/index.js';
import { errorCode, graphql } from './support/graphql.js';
import { distort, productImage } from './support/images.js';
import { serviceBackends, startTestService, type TestService } from './support/service.js';

const HITS = 'id tookMs reranked items { rank distance score product { id externalId } image { id } }';
const SEARCH = `query($image: Upload, $topK: Int, $rerank: Boolean) { similarProducts(image: $image, topK: $topK, rerank: $rerank) { ${HITS} } }`;
const RERANK = `mutation($id: ID!, $candidates: Int, $topK: Int) { rerankSearch(searchId: $id, candidates: $candidates, topK: $topK) { ${HITS} } }`;

const PRODUCTS = 60;
const TARGET = 7;
/**
 * The ANN rank the planted match is pushed down to: just outside the top 10. The scorer's base is the
 * embeddings' cosine (the decoy's, after planting), so only its feature comparison can lift it.
 */
const PLANTED_RANK = 11;

describe.each(await serviceBackends())('rerankSearch over HTTP ($name)', (backend) => {
  let t: TestService;
  let db: Database;
  let model: VectorModel;
  let query: Buffer;
  let plantedSearchId: string;

  const search = (variables: Record<string, unknown>) =>
    graphql(t.url, SEARCH, variables, { files: [{ variable: 'image', bytes: query }] });
  const rerank = (variables: Record<string, unknown>) => graphql(t.url, RERANK, variables);
  const rankOf = (items: any[], externalId: string) => items.findIndex((i) => i.product.externalId === externalId) + 1;

  beforeAll(async () => {
    t = await startTestService(backend, { DEMO_CATALOG: 'false' });
    // The service's own database, to plant a match and to expire a search: the API can do neither.
    db = t.service.db;
    for (let seed = 1; seed <= PRODUCTS; seed++) {
      await t.service.importer.import(
        { source: 'test', externalId: `p${seed}`, title: `Generated product ${seed}` },
        [{ bytes: await productImage(seed) }],
      );
    }
    const stats = (await graphql(t.url, '{ catalogStats { model { key dim metric } } }')).data.catalogStats;
    model = stats.model;
    query = await distort(await productImage(TARGET), { seed: 3 });
  });

  afterAll(() => t?.stop());

  it('moves a planted true match from outside the top 10 into it', async () => {
    const before = await search({ topK: 50 });
    expect(before.errors).toBeUndefined();
    const items = before.data.similarProducts.items;
    expect(items).toHaveLength(50);
    const target = items.find((i: any) => i.product.externalId === `p${TARGET}`);
    expect(target, 'the true match is in the ANN top 50').toBeDefined();

    // Plant: give the true match another product's embedding (ANN rank 11) but keep its own
    // scorer features, so only the scorer's comparison of feature maps can tell that it is the one.
    const decoy = items.filter((i: any) => i !== target)[PLANTED_RANK - 1];
    const stored = await db.vectors.get([target.image.id, decoy.image.id], model);
    await db.vectors.upsert(model, [{ imageId: target.image.id, vector: stored.get(decoy.image.id)!.vector, features: stored.get(target.image.id)!.features }]);

    const ann = await search({ topK: 10 });
    expect(ann.errors).toBeUndefined();
    expect(ann.data.similarProducts.reranked).toBe(false);
    expect(rankOf(ann.data.similarProducts.items, `p${TARGET}`), 'planted match is out of the ANN top 10').toBe(0);
    plantedSearchId = ann.data.similarProducts.id;

    const r = await rerank({ id: plantedSearchId, candidates: 50, topK: 10 });
    expect(r.errors).toBeUndefined();
    const result = r.data.rerankSearch;
    expect(result.id).toBe(plantedSearchId);
    expect(result.reranked).toBe(true);
    expect(result.items).toHaveLength(10);
    const planted = rankOf(result.items, `p${TARGET}`);
    expect(planted, 'the scorer lifts the planted match into the top 10').toBeGreaterThan(0);
    expect(result.items.map((i: any) => i.rank)).toEqual([1, 2, 3, 4, 5, 6, 7, 8, 9, 10]);
    const scores = result.items.map((i: any) => i.score);
    for (const s of scores) {
      expect(s).toBeGreaterThanOrEqual(0);
      expect(s).toBeLessThanOrEqual(1);
    }
    expect([...scores].sort((a, b) => b - a)).toEqual(scores);
    // Each hit keeps its ANN distance next to the score: the planted one has the decoy's.
    expect(result.items[planted - 1].distance).toBeCloseTo(items.find((i: any) => i.product.id === decoy.product.id).distance, 4);

    // The same in one call.
    const both = await search({ topK: 10, rerank: true });
    expect(both.errors).toBeUndefined();
    expect(both.data.similarProducts.reranked).toBe(true);
    expect(both.data.similarProducts.items.map((i: any) => i.product.id)).toEqual(result.items.map((i: any) => i.product.id));
  });

  it('re-ranks 50 candidates the same way every time, and reports its time', async () => {
    // Its speed is measured by the evaluation (bench/results/eval-myntra.md), not asserted here.
    const orders: string[] = [];
    for (let i = 0; i < 3; i++) {
      const r = await rerank({ id: plantedSearchId, candidates: 50, topK: 10 });
      expect(r.errors).toBeUndefined();
      expect(r.data.rerankSearch.tookMs).toBeGreaterThan(0);
      orders.push(r.data.rerankSearch.items.map((h: any) => h.product.id).join(','));
    }
    expect(new Set(orders).size).toBe(1);
  });

  it('answers unknown, expired and out-of-bounds requests with stable codes', async () => {
    expect(errorCode(await rerank({ id: '00000000-0000-4000-8000-000000000000' }))).toBe('NOT_FOUND');
    expect(errorCode(await rerank({ id: 'not-a-search' }))).toBe('NOT_FOUND');
    for (const variables of [
      { candidates: 0 },
      { candidates: 201 },
      { candidates: 50, topK: 0 },
      { candidates: 5, topK: 10 },
      { candidates: 50, topK: 101 },
    ]) {
      const r = await rerank({ id: plantedSearchId, ...variables });
      expect(errorCode(r), JSON.stringify(variables)).toBe('BAD_USER_INPUT');
    }
    expect(errorCode(await search({ topK: 0, rerank: true }))).toBe('BAD_USER_INPUT');

    const fresh = (await search({ topK: 3 })).data.similarProducts.id;
    // The same search, stored as if it had expired a second ago (records are written after the response).
    await t.service.services.search.flushRecords();
    const stored = (await db.searches.toRerank(fresh))!;
    const old = await db.searches.save({ ...stored, expiresAt: new Date(Date.now() - 1000), queryImageHash: null, results: [] });
    expect((await rerank({ id: fresh })).errors).toBeUndefined();
    const expired = await rerank({ id: old });
    expect(errorCode(expired)).toBe('SEARCH_EXPIRED');
    expect(expired.errors![0]!.message).toMatch(/expired/i);
  });
});
