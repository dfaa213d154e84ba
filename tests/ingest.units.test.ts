// The ingest's pure parts (field mapping, run identity) and its HTTP client against a real
// local server: no database, no model.
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { HttpClient, retryAfterMs } from '../src/fetch/http-client.js';
import { mapRecord, parseFieldMap, valuesAt } from '../src/ingest/mapping.js';
import { fingerprint, parseIngestSpec, sourceName } from '../src/ingest/spec.js';
import { StageClock } from '../src/ingest/stage-clock.js';
import { formatSummary } from '../src/ingest/summary.js';
import { FakeStore } from './ingest.store.js';

describe('field mapping', () => {
  it('reads same-named fields by default and takes --map overrides and attributes', () => {
    const map = parseFieldMap('id=styleid, title=productDisplayName,color=baseColour,attr.gender=gender');
    expect(map.fields).toMatchObject({ id: 'styleid', title: 'productDisplayName', colour: 'baseColour', brand: 'brand', image: 'image' });
    expect(map.attributes).toEqual({ gender: 'gender' });
    expect(() => parseFieldMap('titel=name')).toThrow(/unknown field "titel"/);
    expect(() => parseFieldMap('title')).toThrow(/not field=path/);
  });

  it('follows paths, wildcards and alternatives', () => {
    const record = { a: { b: [{ url: 'x' }, { url: 'y' }] }, 'dotted.key': 1, c: 'z' };
    expect(valuesAt(record, 'a.b.*.url')).toEqual(['x', 'y']);
    expect(valuesAt(record, 'a.b.1.url')).toEqual(['y']);
    expect(valuesAt(record, 'dotted.key')).toEqual([1]);
    expect(valuesAt(record, 'missing|c')).toEqual(['z']);
  });

  it('maps a record to a product, or says which field is wrong', () => {
    const map = parseFieldMap('id=sku,title=name,image=photos.*|photo,attr.size=size');
    const ok = mapRecord({ sku: 42, name: ' Tee ', price: '₹1,299.50', currency: 'inr', photos: ['a.jpg', 'b.jpg'], photo: 'a.jpg|c.jpg', size: 'M' }, map, 's');
    expect(ok).toEqual({
      ok: true,
      key: '42',
      imageRefs: ['a.jpg', 'b.jpg', 'c.jpg'],
      product: expect.objectContaining({ source: 's', externalId: '42', title: 'Tee', price: 1299.5, currency: 'INR', attributes: { size: 'M' } }),
    });
    expect(mapRecord({ name: 'x' }, map, 's')).toMatchObject({ ok: false, key: null, code: 'MISSING_FIELD' });
    expect(mapRecord({ sku: 1 }, map, 's')).toMatchObject({ ok: false, key: '1', code: 'MISSING_FIELD' });
    expect(mapRecord({ sku: 1, name: 'x', price: 'free' }, map, 's')).toMatchObject({ ok: false, code: 'BAD_FIELD' });
    expect(mapRecord({ sku: 1, name: 'x', currency: 'euro' }, map, 's')).toMatchObject({ ok: false, code: 'BAD_FIELD' });
  });
});

describe('run identity', () => {
  it('is the same for the same source however it is written, and not otherwise', () => {
    const a = parseIngestSpec({ kind: 'folder', dir: 'data/shop', meta: 'data/shop/styles.csv', map: 'title=name,id=sku' });
    const b = parseIngestSpec({ kind: 'folder', dir: path.resolve('data/shop'), meta: path.resolve('data/shop/styles.csv'), map: 'id=sku, title=name' });
    expect(fingerprint(a)).toBe(fingerprint(b));
    expect(fingerprint(a)).not.toBe(fingerprint({ ...a, map: 'id=sku,title=name,brand=maker' }));
    expect(sourceName(a)).toBe('shop');
    const api = parseIngestSpec({ kind: 'api', url: 'https://store.example/api?x=1' });
    expect(api).toMatchObject({ pageParam: 'p', sizeParam: 'rows', startPage: 1, pageSize: 50 });
    expect(sourceName(api)).toBe('store.example');
    // Asking for more pages continues the same listing.
    expect(fingerprint(parseIngestSpec({ kind: 'api', url: 'https://store.example/api?x=1', maxPages: 3 }))).toBe(fingerprint(api));
    expect(() => parseIngestSpec({ kind: 'api', url: 'file:///etc/passwd' })).toThrow(/url/);
  });
});

describe('polite HTTP client', () => {
  const store = new FakeStore();
  const options = { concurrency: 4, ratePerSecond: 0, timeoutMs: 2000, retries: 2, userAgent: 'units/1', maxBytes: 1000, backoffMs: 20 };

  beforeAll(async () => {
    await store.start();
    store.addImage('small', Buffer.alloc(100, 1));
    store.addImage('big', Buffer.alloc(5000, 1));
  });
  afterAll(() => store.stop());

  it('parses Retry-After as seconds or a date', () => {
    expect(retryAfterMs('3')).toBe(3000);
    expect(retryAfterMs(new Date(10_000).toUTCString(), 4000)).toBe(6000);
    expect(retryAfterMs('soon')).toBeUndefined();
    expect(retryAfterMs(null)).toBeUndefined();
  });

  it('spaces requests to the rate', async () => {
    const http = new HttpClient({ ...options, ratePerSecond: 20 });
    const started = Date.now();
    await Promise.all(Array.from({ length: 5 }, () => http.bytes(`${store.base}/img/small`)));
    expect(Date.now() - started).toBeGreaterThanOrEqual(190);
  });

  it('retries 429 and 5xx, gives up on 404 at once, refuses oversized bodies', async () => {
    store.failFirst.set('/img/small', [{ status: 429, retryAfter: '0' }, { status: 502 }]);
    const http = new HttpClient(options);
    expect((await http.bytes(`${store.base}/img/small`)).length).toBe(100);
    expect(store.requestsTo('/img/small').slice(-3).map((r) => r.status)).toEqual([429, 502, 200]);

    store.failFirst.set('/img/small', [{ status: 503 }, { status: 503 }, { status: 503 }]);
    await expect(http.bytes(`${store.base}/img/small`)).rejects.toMatchObject({ name: 'FetchError', status: 503, message: 'HTTP 503 (after 3 attempts)' });
    await expect(http.bytes(`${store.base}/img/none`)).rejects.toThrow(/^HTTP 404$/);
    await expect(http.bytes(`${store.base}/img/big`)).rejects.toThrow(/larger than 1000 bytes/);
  });

  it('times out slow answers and retries them', async () => {
    store.slow.set('/img/small', 400);
    const http = new HttpClient({ ...options, timeoutMs: 100, retries: 1 });
    await expect(http.bytes(`${store.base}/img/small`)).rejects.toThrow(/timed out after 100 ms \(after 2 attempts\)/);
    store.slow.delete('/img/small');
  });
});

describe('the CLI summary', () => {
  it('lists added / updated / unchanged, duplicates, near-duplicate groups and failures with reasons', () => {
    const counts = { created: 5, updated: 1, unchanged: 2, failed: 1, newImages: 6, unchangedImages: 2, exactDuplicates: 3, nearDuplicates: 2, failedImages: 1, pruned: 0 };
    const text = formatSummary({
      runId: 'r1',
      source: 'shop',
      resumed: true,
      status: 'completed',
      error: null,
      pagesDone: 2,
      itemsDone: 9,
      itemsTotal: 9,
      counts,
      failures: [{ code: 'IMAGE_FETCH_FAILED', count: 1, examples: [{ itemKey: 'A8', image: 'http://x/a8.png', reason: 'HTTP 404' }] }],
      nearDuplicateGroups: { total: 1, groups: [{ imageId: 'i', externalId: 'A2', members: ['A7', 'A9'] }] },
      elapsedMs: 2000,
      imagesHandled: 10,
      stages: [
        { stage: 'read', images: 10, activeMs: 100, imagesPerSecond: 100 },
        { stage: 'embed', images: 6, activeMs: 1500, imagesPerSecond: 4 },
      ],
    });
    expect(text).toContain('Ingest of "shop" completed (resumed) in 2.0s');
    expect(text).toContain('9 of 9 in 2 pages: 5 added, 1 updated, 2 unchanged, 1 failed');
    expect(text).toContain('6 new, 2 unchanged, 3 exact duplicates, 2 near-duplicates in 1 groups, 1 failed');
    expect(text).toContain('5.0 images/s');
    expect(text).toMatch(/IMAGE_FETCH_FAILED\s+1\n\s+A8: HTTP 404 \(http:\/\/x\/a8.png\)/);
    expect(text).toContain('A2 ← A7, A9');
    expect(text).toContain('stages   read 100/s (5 % of the time), embed 4/s (75 % of the time)');
  });
});

describe('the stage clock', () => {
  const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

  it('counts overlapping calls of a stage once, and every call’s images', async () => {
    const clock = new StageClock();
    await Promise.all([clock.time('embed', 3, () => sleep(120)), clock.time('embed', 2, () => sleep(120)), clock.time('read', 1, () => sleep(10))]);
    await clock.time('embed', 5, () => sleep(60));
    const [read, embed] = clock.rates();
    expect(read).toMatchObject({ stage: 'read', images: 1 });
    expect(embed).toMatchObject({ stage: 'embed', images: 10 });
    // Two 120 ms calls side by side, then one of 60 ms: ~180 ms, not the 300 ms of their sum.
    expect(embed!.activeMs).toBeGreaterThanOrEqual(175);
    expect(embed!.activeMs).toBeLessThan(280);
    expect(embed!.imagesPerSecond).toBeCloseTo((10 / embed!.activeMs) * 1000, 0);
  });

  it('still counts a call that fails, and lists only the stages that ran, in pipeline order', async () => {
    const clock = new StageClock();
    await expect(clock.time('write', 4, () => Promise.reject(new Error('no')))).rejects.toThrow('no');
    await clock.time('read', 4, () => sleep(5));
    expect(clock.rates().map((r) => [r.stage, r.images])).toEqual([
      ['read', 4],
      ['write', 4],
    ]);
  });
});
