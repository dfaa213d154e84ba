// Scraping a store's paginated JSON API (a real local server) into the real service on each
// database: dedupe decisions, recorded failures, retries, idempotence, updates and pruning.
import 'reflect-metadata';
import { readdir } from 'node:fs/promises';
import path from 'node:path';
import sharp from 'sharp';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { IngestSpecInput } from '../src/ingest/spec.js';
import { hammingDistance, perceptualHash, validateImage } from '../src/images/index.js';
import { graphql } from './support/graphql.js';
import { productImage, svgImage, truncated } from './support/images.js';
import { serviceBackends, startTestService, type TestService } from './support/service.js';
import { FakeStore } from './ingest.store.js';

const ROWS = 5;
const USER_AGENT = 'ingest-test-bot/1.0 (+https://example.test/bot)';
const NEAR_DUP_MAX_HAMMING = 16;

/** Seeded "product photos": image(n) is the same bytes every time. */
const image = (seed: number) => productImage(seed, { width: 320, height: 320 });

async function fileCount(dir: string): Promise<number> {
  const entries = await readdir(dir, { recursive: true, withFileTypes: true }).catch(() => []);
  return entries.filter((e) => e.isFile()).length;
}

describe.each(await serviceBackends())('ingest from a paginated API ($name)', (backend) => {
  let t: TestService;
  const store = new FakeStore();
  let spec: IngestSpecInput;
  const db = () => t.service.db;
  const byId = async (externalId: string) => {
    const product = await db().catalog.productByKey('store', externalId);
    if (!product) throw new Error(`no product store/${externalId}`);
    return product;
  };
  const allProducts = async () => {
    const { products } = await db().catalog.listProducts({}, 100, null);
    return products.sort((a, b) => a.externalId.localeCompare(b.externalId));
  };

  beforeAll(async () => {
    t = await startTestService(backend, {
      DEMO_CATALOG: 'false',
      INGEST_RATE_PER_SECOND: '0',
      INGEST_TIMEOUT_MS: '5000',
      INGEST_RETRIES: '2',
      INGEST_USER_AGENT: USER_AGENT,
      INGEST_BATCH_SIZE: '3',
      NEAR_DUP_MAX_HAMMING: String(NEAR_DUP_MAX_HAMMING),
    });
    const base = await store.start();
    const img = async (name: string, bytes: Promise<Buffer> | Buffer, type?: string) => store.addImage(name, await bytes, type);
    const original2 = await image(2);
    // Re-encoded as JPEG and shrunk: the same picture, other bytes.
    const near2 = await sharp(original2).resize(256).jpeg({ quality: 85 }).toBuffer();
    const hashes = await Promise.all([original2, near2].map(async (b) => perceptualHash(await validateImage(b, { maxPixels: 1e7 }))));
    expect(hammingDistance(hashes[0]!, hashes[1]!), 'the near-duplicate fixture must be a phash candidate').toBeLessThanOrEqual(NEAR_DUP_MAX_HAMMING);

    store.pages = [
      [
        { styleid: 'A1', product: 'Red dress', price: 1999, articleType: 'Dresses', baseColour: 'Red', search_image: await img('a1.png', image(1)) },
        { styleid: 'A2', product: 'Striped shirt', price: '1,299.00', currency: 'inr', search_image: await img('a2.png', original2) },
        { styleid: 'A3', product: 'Blue jeans', brand: 'Denimco', search_image: await img('a3.png', image(3)) },
        { styleid: 'A4', product: 'Two-view sneaker', images: [await img('a4-front.png', image(4)), await img('a4-side.png', image(5))] },
        { styleid: 'A5', product: 'Green cap', search_image: await img('a5.png', image(6)) },
      ],
      [
        // The same bytes as A1 under another product: an exact duplicate.
        { styleid: 'A6', product: 'Red dress (again)', search_image: await img('a6.png', image(1)) },
        { styleid: 'A7', product: 'Striped shirt, small photo', search_image: await img('a7.jpg', near2, 'image/jpeg') },
        { styleid: 'A8', product: 'Lost photo', search_image: `${base}/img/missing.png` },
        { styleid: 'A9', product: 'Broken photo', search_image: await img('a9.png', truncated(await image(8), 0.4)) },
        { styleid: 'A10', search_image: await img('a10.png', image(13)) },
      ],
      [
        { styleid: 'A11', product: 'Scarf', images: [await img('a11.png', image(7)), `${base}/img/a11-gone.png`] },
        { styleid: 'A12', product: 'Vector logo tee', search_image: await img('a12.svg', svgImage(3), 'image/svg+xml') },
        { styleid: 'A13', product: 'Flaky host bag', search_image: await img('a13.png', image(9)) },
        { styleid: 'A14', product: 'Relative URL belt', search_image: '/img/a14.png' },
        { styleid: 'A15', product: 'Watch', search_image: await img('a15.png', image(11)) },
      ],
      [
        { styleid: 'A16', product: 'Boots', search_image: await img('a16.png', image(12)) },
        { styleid: 'A17', product: 'Gloves', search_image: await img('a17.png', image(14)) },
      ],
    ];
    await img('a14.png', image(10));
    store.slow.set(store.pageUrl(3, ROWS), 1500);
    store.failFirst.set(store.pageUrl(4, ROWS), [{ status: 503, retryAfter: '1' }]);
    store.failFirst.set('/img/a13.png', [{ status: 500 }]);

    spec = {
      kind: 'api',
      url: `${base}/api/products`,
      itemsPath: 'data.results.products',
      pageSize: ROWS,
      source: 'store',
      map: 'id=styleid,title=product,image=search_image|images.*,category=articleType,colour=baseColour',
    };
  });

  afterAll(async () => {
    await store.stop();
    await t?.stop();
  });

  it('ingests every page, deduplicates, and records each bad item with its reason', async () => {
    const report = await t.service.ingest.run(spec);
    expect(report.status).toBe('completed');
    expect(report.pagesDone).toBe(4);
    expect(report.counts).toMatchObject({
      created: 13,
      updated: 0,
      unchanged: 0,
      failed: 4,
      newImages: 12,
      exactDuplicates: 1,
      nearDuplicates: 1,
      failedImages: 4,
    });
    expect(report.nearDuplicateGroups.total).toBe(1);
    expect(report.nearDuplicateGroups.groups[0]).toMatchObject({ externalId: 'A2', members: ['A7'] });

    expect(await db().catalog.countProducts()).toBe(13);
    expect(await db().catalog.countImages()).toBe(13);
    expect(await db().vectors.count()).toBe(13);

    const a1 = await byId('A1');
    expect(a1).toMatchObject({ title: 'Red dress', category: 'Dresses', colour: 'Red' });
    expect(Number(a1.price)).toBe(1999);
    const a2 = await byId('A2');
    expect(Number(a2.price)).toBe(1299);
    expect(a2.currency?.trim()).toBe('INR');
    expect((await byId('A4')).images.map((i) => i.position)).toEqual([0, 1]);
    // Exact duplicate: the product exists, its photo stays with A1 only.
    expect((await byId('A6')).images).toHaveLength(0);
    // Near-duplicate: stored and linked to A2's photo.
    const a7 = await byId('A7');
    expect(a7.images).toHaveLength(1);
    expect(await db().nearDuplicates.count()).toBe(1);
    const link = (await db().nearDuplicates.known([a7.images[0]!.sha256])).get(a7.images[0]!.sha256);
    expect(link).toMatchObject({ imageId: a7.images[0]!.id, duplicateOf: a2.images[0]!.id, action: 'linked', productId: a7.id });
    // One bad image of two: the product keeps the good one.
    expect((await byId('A11')).images).toHaveLength(1);
    expect((await byId('A14')).images[0]!.sourceUrl).toBe(`${store.base}/img/a14.png`);

    const failures = (await db().ingestRuns.failures(report.runId, 100)).sort((a, b) => a.itemKey!.localeCompare(b.itemKey!));
    expect(failures.map((f) => [f.itemKey, f.code])).toEqual([
      ['A10', 'MISSING_FIELD'],
      ['A11', 'IMAGE_FETCH_FAILED'],
      ['A12', 'UNSUPPORTED_IMAGE_TYPE'],
      ['A8', 'IMAGE_FETCH_FAILED'],
      ['A9', 'BAD_IMAGE'],
    ]);
    expect(failures.find((f) => f.itemKey === 'A8')!.reason).toMatch(/HTTP 404/);
    const items = (await db().ingestRuns.items(report.runId)).filter((i) => i.outcome === 'failed');
    expect(items.map((i) => i.key).sort()).toEqual(['A10', 'A12', 'A8', 'A9']);
  });

  it('is polite: custom User-Agent, retries 5xx honouring Retry-After, stops at the empty page', () => {
    expect(new Set(store.requests.map((r) => r.userAgent))).toEqual(new Set([USER_AGENT]));
    const page4 = store.requestsTo(store.pageUrl(4, ROWS));
    expect(page4.map((r) => r.status)).toEqual([503, 200]);
    expect(page4[1]!.at - page4[0]!.at).toBeGreaterThanOrEqual(950);
    expect(store.requestsTo('/img/a13.png').map((r) => r.status)).toEqual([500, 200]);
    // 404s are final: asked once.
    expect(store.requestsTo('/img/missing.png')).toHaveLength(1);
    expect(store.requestsTo(store.pageUrl(5, ROWS))).toHaveLength(1);
    expect(store.requestsTo(store.pageUrl(6, ROWS))).toHaveLength(0);
  });

  it('makes ingested products searchable', async () => {
    const r = await graphql(t.url, 'query($f: Upload){ similarProducts(image: $f, topK: 3){ items { product { externalId } } } }', {}, {
      files: [{ variable: 'f', bytes: await image(11) }],
    });
    expect(r.errors).toBeUndefined();
    expect(r.data.similarProducts.items[0].product.externalId).toBe('A15');
  });

  it('changes nothing when run again', async () => {
    expect((await db().ingestRuns.list(10)).map((r) => r.status)).toEqual(['completed']);
    const before = {
      products: await allProducts(),
      media: await fileCount(path.join(t.dataDir, 'media')),
    };
    const report = await t.service.ingest.run(spec);
    expect(report.resumed).toBe(false);
    expect(report.counts).toMatchObject({ created: 0, updated: 0, unchanged: 13, failed: 4, newImages: 0, unchangedImages: 12, exactDuplicates: 1, nearDuplicates: 1 });
    const after = await allProducts();
    expect(after).toHaveLength(13);
    expect(after).toEqual(before.products);
    expect(await db().vectors.count()).toBe(13);
    expect(await db().nearDuplicates.count()).toBe(1);
    expect(await fileCount(path.join(t.dataDir, 'media'))).toBe(before.media);
    expect((await db().ingestRuns.list(10)).filter((r) => r.status === 'completed')).toHaveLength(2);
  });

  it('updates changed fields, keeps vanished products, and deletes them with prune', async () => {
    store.pages[0]![2] = { ...store.pages[0]![2], product: 'Blue jeans, slim' };
    const a5 = store.pages[0]!.splice(4, 1);
    const kept = await t.service.ingest.run(spec);
    expect(kept.counts).toMatchObject({ created: 0, updated: 1, unchanged: 11, pruned: 0 });
    expect((await byId('A3')).title).toBe('Blue jeans, slim');
    expect(await db().catalog.productByKey('store', 'A5')).not.toBeNull();

    const mediaBefore = await fileCount(path.join(t.dataDir, 'media'));
    const pruned = await t.service.ingest.run(spec, { prune: true });
    expect(pruned.counts.pruned).toBe(1);
    expect(await db().catalog.productByKey('store', 'A5')).toBeNull();
    expect(await db().catalog.countProducts()).toBe(12);
    // Its display rendition and thumbnail are gone too.
    expect(await fileCount(path.join(t.dataDir, 'media'))).toBe(mediaBefore - 2);
    store.pages[0]!.push(...a5);
  });
});
