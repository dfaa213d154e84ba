import sharp from 'sharp';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { demoProducts } from '../src/demo/demo-catalog.js';
import { rasterizeSvg } from '../src/images/index.js';
import { errorCode, graphql } from './support/graphql.js';
import { startImageServer, type ImageServer } from './support/image-server.js';
import { distort, hugePng, productImage, svgImage, truncated } from './support/images.js';
import { serviceBackends, startTestService, type TestService } from './support/service.js';

const SEARCH = `query Search($image: Upload, $imageUrl: String, $productId: ID, $region: RegionInput, $topK: Int, $filter: ProductFilter) {
  similarProducts(image: $image, imageUrl: $imageUrl, productId: $productId, region: $region, topK: $topK, filter: $filter) {
    id tookMs model reranked
    items { rank distance similarity score image { id url thumbnailUrl width height }
            product { id externalId title category colour brand price images { id url } } }
  }
}`;

const demo = demoProducts();
const demoPhoto = (index: number) => rasterizeSvg(demo[index].svg, 400);

describe.each(await serviceBackends())('search API over HTTP ($name)', (backend) => {
  let service: TestService;
  let url: string;
  let images: ImageServer;

  beforeAll(async () => {
    service = await startTestService(backend, { UPLOAD_MAX_BYTES: String(600 * 1024), IMAGE_MAX_PIXELS: String(5_000_000) });
    url = service.url;
    images = await startImageServer();
  });

  afterAll(async () => {
    images?.close();
    await service?.stop();
  });

  const search = (variables: Record<string, unknown>, image?: Buffer) =>
    graphql(url, SEARCH, variables, image ? { files: [{ variable: 'image', bytes: image }] } : {});

  it('loads the generated demo catalog on first start', async () => {
    const r = await graphql(url, '{ catalogStats { products images embeddings database model { key dim provider } index { type m efSearch } } }');
    expect(r.errors).toBeUndefined();
    const stats = r.data.catalogStats;
    expect(stats.products).toBe(demo.length);
    expect(stats.images).toBe(demo.length);
    expect(stats.embeddings).toBe(demo.length);
    expect(stats.database).toBe(backend.name);
    expect(stats.index).toMatchObject({ type: 'hnsw', m: 16 });
    expect(stats.model.provider).toBe('cpu');
  });

  it('finds the product of a distorted photo at rank 1', async () => {
    for (const index of [3, 77, 150, 201, 260]) {
      const photo = await distort(await demoPhoto(index), { seed: index });
      const r = await search({ topK: 5 }, photo);
      expect(r.errors).toBeUndefined();
      const result = r.data.similarProducts;
      expect(result.items).toHaveLength(5);
      expect(result.items[0].product.externalId).toBe(demo[index].product.externalId);
      expect(result.items.map((i: any) => i.rank)).toEqual([1, 2, 3, 4, 5]);
      const distances = result.items.map((i: any) => i.distance);
      expect([...distances].sort((a, b) => a - b)).toEqual(distances);
      expect(result.items[0].similarity).toBeCloseTo(1 - distances[0] ** 2 / 2, 5);
      expect(result.items[0].score).toBeNull();
      expect(result.model).toMatch(/@/);
    }
  });

  it('applies filters inside the search without starving the result', async () => {
    const photo = await demoPhoto(10);
    const byCategory = await search({ topK: 10, filter: { category: ['Tank tops'] } }, photo);
    expect(byCategory.errors).toBeUndefined();
    expect(byCategory.data.similarProducts.items).toHaveLength(10);
    for (const item of byCategory.data.similarProducts.items) expect(item.product.category).toBe('Tank tops');

    const narrow = await search({ topK: 10, filter: { colour: ['Purple'], category: ['Tops'] } }, photo);
    const items = narrow.data.similarProducts.items;
    expect(items).toHaveLength(8); // 8 patterns of purple long-sleeve tops exist, and no more
    for (const item of items) expect(item.product).toMatchObject({ colour: 'Purple', category: 'Tops' });

    const priced = await search({ topK: 20, filter: { minPrice: 20, maxPrice: 25, keyword: 'striped' } }, photo);
    expect(priced.data.similarProducts.items.length).toBeGreaterThan(0);
    for (const item of priced.data.similarProducts.items) {
      expect(item.product.price).toBeGreaterThanOrEqual(20);
      expect(item.product.price).toBeLessThanOrEqual(25);
      expect(item.product.title.toLowerCase()).toContain('striped');
    }
  });

  it('enforces topK bounds', async () => {
    const photo = await demoPhoto(1);
    expect(errorCode(await search({ topK: 0 }, photo))).toBe('BAD_USER_INPUT');
    expect(errorCode(await search({ topK: 101 }, photo))).toBe('BAD_USER_INPUT');
    const max = await search({ topK: 100 }, photo);
    expect(max.data.similarProducts.items).toHaveLength(100);
  });

  it('searches "more like this" by productId, leaving the product itself out', async () => {
    const first = await search({ topK: 1 }, await demoPhoto(40));
    const productId = first.data.similarProducts.items[0].product.id;
    const r = await search({ productId, topK: 10 });
    expect(r.errors).toBeUndefined();
    const ids = r.data.similarProducts.items.map((i: any) => i.product.id);
    expect(ids).toHaveLength(10);
    expect(ids).not.toContain(productId);
    expect(errorCode(await search({ productId: '00000000-0000-4000-8000-000000000000' }))).toBe('NOT_FOUND');
    expect(errorCode(await search({ productId: 'not-an-id' }))).toBe('NOT_FOUND');
  });

  it('searches by image URL', async () => {
    // The fetch path is under test here, not robustness: the product's own photo, as a JPEG.
    images.served.set('/shirt.jpg', await sharp(await demoPhoto(120)).jpeg({ quality: 85 }).toBuffer());
    const r = await search({ imageUrl: `${images.base}/shirt.jpg`, topK: 3 });
    expect(r.errors).toBeUndefined();
    expect(r.data.similarProducts.items[0].product.externalId).toBe(demo[120].product.externalId);
    expect(errorCode(await search({ imageUrl: `${images.base}/missing.jpg` }))).toBe('IMAGE_FETCH_FAILED');
    expect(errorCode(await search({ imageUrl: 'file:///etc/passwd' }))).toBe('BAD_USER_INPUT');
  });

  it('crops the query to a region before embedding', async () => {
    const [left, right] = [await demoPhoto(30), await demoPhoto(230)];
    const canvas = await sharp({ create: { width: 800, height: 400, channels: 3, background: '#ffffff' } })
      .composite([{ input: left, left: 0, top: 0 }, { input: right, left: 400, top: 0 }])
      .jpeg({ quality: 90 })
      .toBuffer();
    const leftHalf = await search({ topK: 1, region: { x: 0, y: 0, width: 0.5, height: 1 } }, canvas);
    const rightHalf = await search({ topK: 1, region: { x: 0.5, y: 0, width: 0.5, height: 1 } }, canvas);
    expect(leftHalf.data.similarProducts.items[0].product.externalId).toBe(demo[30].product.externalId);
    expect(rightHalf.data.similarProducts.items[0].product.externalId).toBe(demo[230].product.externalId);
    expect(errorCode(await search({ region: { x: 0.6, y: 0, width: 0.5, height: 1 } }, canvas))).toBe('BAD_USER_INPUT');
  });

  it('answers every bad input with a stable code and no internals', async () => {
    const photo = await productImage(3);
    const cases: [string, Promise<any>][] = [
      ['UNSUPPORTED_IMAGE_TYPE', search({}, svgImage(2))],
      ['UNSUPPORTED_IMAGE_TYPE', search({}, Buffer.from('just some text, not an image'))],
      ['BAD_IMAGE', search({}, truncated(await sharp(photo).jpeg().toBuffer(), 0.4))],
      ['IMAGE_TOO_LARGE', search({}, Buffer.concat([await sharp(photo).jpeg().toBuffer(), Buffer.alloc(700 * 1024)]))],
      ['IMAGE_TOO_LARGE', search({}, hugePng(3000, 3000))],
      ['BAD_USER_INPUT', search({})],
      ['BAD_USER_INPUT', search({ imageUrl: `${images.base}/x.jpg` }, photo)],
      ['BAD_USER_INPUT', search({ topK: 'ten' }, photo)],
    ];
    for (const [code, pending] of cases) {
      const r = await pending;
      expect(errorCode(r), `expected ${code}`).toBe(code);
      expect(r.errors[0].message.length).toBeGreaterThan(5);
      expect(JSON.stringify(r.errors)).not.toMatch(/stacktrace|at .*\.ts:\d+/);
    }
    // Uploads without the preflight header are refused (CSRF prevention stays on).
    const form = new FormData();
    form.append('operations', JSON.stringify({ query: SEARCH, variables: { image: null } }));
    form.append('map', JSON.stringify({ 0: ['variables.image'] }));
    form.append('0', new Blob([new Uint8Array(photo)]), 'a.png');
    const csrf = await fetch(`${url}/graphql`, { method: 'POST', body: form });
    expect(csrf.status).toBe(400);
    // ...and the server is still answering.
    expect((await search({ topK: 1 }, photo)).data.similarProducts.items).toHaveLength(1);
  });

  it('serves media with content types and cache headers, and nothing outside the media folder', async () => {
    const r = await search({ topK: 1 }, await demoPhoto(0));
    const image = r.data.similarProducts.items[0].image;
    for (const path of [image.url, image.thumbnailUrl]) {
      const response = await fetch(url + path);
      expect(response.status).toBe(200);
      expect(response.headers.get('content-type')).toMatch(/^image\/(webp|jpeg)/);
      expect(response.headers.get('cache-control')).toMatch(/max-age=\d+.*immutable/);
      expect(response.headers.get('x-content-type-options')).toBe('nosniff');
      const meta = await sharp(Buffer.from(await response.arrayBuffer())).metadata();
      expect(Math.max(meta.width!, meta.height!)).toBeLessThanOrEqual(path === image.url ? 800 : 256);
    }
    for (const evil of ['/media/../package.json', '/media/%2e%2e/%2e%2e/package.json', '/media/..%2fpackage.json', '/media/nope.webp']) {
      const response = await fetch(url + evil);
      expect(response.status, evil).toBeGreaterThanOrEqual(400);
      expect(await response.text()).not.toContain('"name"');
    }
  });

  it('pages through products with cursors and filters', async () => {
    const query = `query($first: Int, $after: String, $filter: ProductFilter) { products(first: $first, after: $after, filter: $filter) {
      totalCount pageInfo { hasNextPage endCursor } edges { cursor node { id title category images { url thumbnailUrl width height } } } } }`;
    const page1 = (await graphql(url, query, { first: 100 })).data.products;
    expect(page1.totalCount).toBe(demo.length);
    expect(page1.edges).toHaveLength(100);
    expect(page1.pageInfo.hasNextPage).toBe(true);
    const seen = new Set(page1.edges.map((e: any) => e.node.id));
    let after = page1.pageInfo.endCursor;
    let pages = 1;
    while (after) {
      const next = (await graphql(url, query, { first: 100, after })).data.products;
      for (const e of next.edges) {
        expect(seen.has(e.node.id)).toBe(false);
        seen.add(e.node.id);
      }
      after = next.pageInfo.hasNextPage ? next.pageInfo.endCursor : null;
      pages++;
    }
    expect(seen.size).toBe(demo.length);
    expect(pages).toBe(Math.ceil(demo.length / 100));
    const tanks = (await graphql(url, query, { first: 100, filter: { category: ['Tank tops'] } })).data.products;
    expect(tanks.totalCount).toBe(demo.length / 3);
    expect(errorCode(await graphql(url, query, { first: 0 }))).toBe('BAD_USER_INPUT');
    expect(errorCode(await graphql(url, query, { first: 5, after: 'bogus' }))).toBe('BAD_USER_INPUT');
    const one = await graphql(url, `query($id: ID!) { product(id: $id) { id title } }`, { id: page1.edges[0].node.id });
    expect(one.data.product.title).toBe(page1.edges[0].node.title);
  });
});
