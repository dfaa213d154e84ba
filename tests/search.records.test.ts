// The records rerankSearch needs are kept off the search's path: held in memory at once, written
// to the database after the response (best effort), read back from there when memory no longer
// holds them; a search whose record cannot be written still answers and can still be re-ranked.
import pg from 'pg';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { errorCode, graphql } from './support/graphql.js';
import { productImage } from './support/images.js';
import { serviceBackends, startTestService, type TestService } from './support/service.js';

const SEARCH = `query($image: Upload) { similarProducts(image: $image, topK: 5) { id items { product { id } } } }`;
const RERANK = `mutation($id: ID!) { rerankSearch(searchId: $id, candidates: 20, topK: 5) { id reranked items { product { id } score } } }`;

describe.each(await serviceBackends())('search records ($name)', (backend) => {
  let t: TestService;
  const search = async (seed: number) => {
    const r = await graphql(t.url, SEARCH, {}, { files: [{ variable: 'image', bytes: await productImage(seed) }] });
    expect(r.errors).toBeUndefined();
    return r.data.similarProducts.id as string;
  };
  const rerank = (id: string) => graphql(t.url, RERANK, { id });

  beforeAll(async () => {
    // Memory for one search's record (mostly its features: 73 KB with 2.5.0's 128×12×12): the next
    // pushes it out, to the database's copy.
    t = await startTestService(backend, { SEARCH_MEMORY_MB: '0.1' });
  });

  afterAll(async () => {
    await t?.stop();
  });

  it('re-ranks a search straight after it, and from the database once memory has let it go', async () => {
    const first = await search(11);
    const soon = await rerank(first);
    expect(soon.errors).toBeUndefined();
    expect(soon.data.rerankSearch).toMatchObject({ id: first, reranked: true });

    await t.service.services.search.flushRecords();
    const stored = await t.service.db.searches.toRerank(first);
    expect(stored?.id).toBe(first);
    await search(12);
    await search(13);
    const later = await rerank(first);
    expect(later.errors).toBeUndefined();
    // The same query, from the stored embedding and features: the same order and scores.
    expect(later.data.rerankSearch.items).toEqual(soon.data.rerankSearch.items);

    // Memory holds the newest search only: with every stored copy deleted, the first is found
    // nowhere, while the newest still re-ranks from memory.
    const newest = await search(14);
    await t.service.services.search.flushRecords();
    await t.service.db.searches.prune(new Date(Date.now() + 48 * 3600_000));
    expect(errorCode(await rerank(first))).toBe('NOT_FOUND');
    expect((await rerank(newest)).errors).toBeUndefined();
  });

  it('answers a search found nowhere with NOT_FOUND and says why', async () => {
    const r = await rerank('00000000-0000-4000-8000-000000000001');
    expect(errorCode(r)).toBe('NOT_FOUND');
    expect(r.errors![0]!.message).toMatch(/no search with that id.*run the search again/i);
  });

  // A real write failure needs a second connection to the database, which only Postgres offers.
  it.runIf(backend.name === 'postgres')('answers and re-ranks searches whose record cannot be written', async () => {
    const client = new pg.Client({ connectionString: t.databaseUrl });
    await client.connect();
    // Earlier tests' pending writes (a re-rank's new order) land first: only this search's write may fail.
    await t.service.services.search.flushRecords();
    try {
      await client.query('ALTER TABLE searches ADD CONSTRAINT no_new_searches CHECK (false) NOT VALID');
      const metrics = async () => Number(/^search_record_write_failures_total (\S+)$/m.exec(await (await fetch(`${t.url}/metrics`)).text())?.[1]);
      const failuresBefore = await metrics();
      const id = await search(21);
      await t.service.services.search.flushRecords();
      expect(await metrics()).toBe(failuresBefore + 1);
      expect(await t.service.db.searches.toRerank(id)).toBeNull();
      const r = await rerank(id);
      expect(r.errors).toBeUndefined();
      expect(r.data.rerankSearch.reranked).toBe(true);
    } finally {
      await client.query('ALTER TABLE searches DROP CONSTRAINT IF EXISTS no_new_searches');
      await client.end();
    }
  });
});
