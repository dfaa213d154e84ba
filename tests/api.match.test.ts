// POST /api/match end to end over real HTTP: the REST face of the same search as GraphQL, its
// errors as HTTP statuses, and the OpenAPI document that describes it.
import { Validator } from '@seriousme/openapi-schema-validator';
import { pino } from 'pino';
import sharp from 'sharp';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { demoProducts } from '../src/demo/demo-catalog.js';
import { HTTP_STATUS } from '../src/http/client-errors.js';
import { errorResponse, matchResponse, openApiDocument } from '../src/http/match-api.js';
import { REST_PREFIX, restApi } from '../src/http/rest-api.js';
import { rasterizeSvg } from '../src/images/index.js';
import type { Services } from '../src/resolvers/context.js';
import { errorCode, graphql } from './support/graphql.js';
import { startImageServer, type ImageServer } from './support/image-server.js';
import { distort, hugePng, onTexturedBackground, productImage, svgImage, truncated } from './support/images.js';
import { serviceBackends, startTestService, type TestService } from './support/service.js';

const demo = demoProducts();
const demoPhoto = (index: number) => rasterizeSvg(demo[index].svg, 400);
const UPLOAD_MAX_BYTES = 600 * 1024;

interface Reply {
  status: number;
  body: any;
}

describe.each(await serviceBackends())('POST /api/match ($name)', (backend) => {
  let service: TestService;
  let images: ImageServer;

  beforeAll(async () => {
    service = await startTestService(backend, { UPLOAD_MAX_BYTES: String(UPLOAD_MAX_BYTES), IMAGE_MAX_PIXELS: String(5_000_000) });
    images = await startImageServer();
  });

  afterAll(async () => {
    images?.close();
    await service?.stop();
  });

  /** POSTs to /api/match with query parameters and, optionally, a form or a raw body. */
  async function match(params: Record<string, string | string[]> = {}, body?: FormData | { raw: Buffer; type: string }): Promise<Reply> {
    const query = new URLSearchParams();
    for (const [k, v] of Object.entries(params)) for (const value of [v].flat()) query.append(k, value);
    const init: RequestInit = { method: 'POST' };
    if (body instanceof FormData) init.body = body;
    else if (body) Object.assign(init, { body: new Uint8Array(body.raw), headers: { 'content-type': body.type } });
    const response = await fetch(`${service.url}/api/match?${query}`, init);
    expect(response.headers.get('content-type')).toMatch(/^application\/json/);
    return { status: response.status, body: await response.json() };
  }

  const form = (...files: [field: string, bytes: Buffer][]) => {
    const f = new FormData();
    for (const [field, bytes] of files) f.append(field, new Blob([new Uint8Array(bytes)], { type: 'image/jpeg' }), 'photo.jpg');
    return f;
  };
  const upload = (bytes: Buffer, params: Record<string, string | string[]> = {}) => match(params, form(['image', bytes]));

  /** A successful reply, checked against the schema the OpenAPI document is made from. */
  const ok = (reply: Reply) => {
    expect(reply.status, JSON.stringify(reply.body)).toBe(200);
    return matchResponse.parse(reply.body);
  };
  const failed = (reply: Reply, code: keyof typeof HTTP_STATUS) => {
    expect(reply.status, JSON.stringify(reply.body)).toBe(HTTP_STATUS[code]);
    const { error } = errorResponse.parse(reply.body);
    expect(error.code).toBe(code);
    expect(error.message.length).toBeGreaterThan(5);
    expect(JSON.stringify(reply.body)).not.toMatch(/stack|at .*\.ts:\d+/);
  };

  it('finds the product of a distorted photo uploaded as the multipart field "image"', async () => {
    for (const index of [77, 201]) {
      const result = ok(await upload(await distort(await demoPhoto(index), { seed: index }), { topK: '5' }));
      expect(result.items).toHaveLength(5);
      expect(result.items.slice(0, 3).map((i) => i.product.externalId)).toContain(demo[index]!.product.externalId);
      expect(result.items.map((i) => i.rank)).toEqual([1, 2, 3, 4, 5]);
      const similarities = result.items.map((i) => i.similarity);
      expect([...similarities].sort((a, b) => b - a)).toEqual(similarities);
      expect(result.model).toMatch(/@/);
      expect(result.reranked).toBe(false);
      expect(result.tookMs).toBeGreaterThan(0);
      expect(result.items[0]!.image.url).toMatch(/^\/media\//);
      expect(result.items[0]!.product.images.length).toBeGreaterThan(0);
    }
  });

  it('gives the same answer as GraphQL (one search path)', async () => {
    const photo = await distort(await demoPhoto(60), { seed: 6 });
    const rest = ok(await upload(photo, { topK: '8' }));
    const graph = await service.service.services.search.similarProducts({ source: { kind: 'upload', bytes: photo }, topK: 8 });
    expect(rest.items.map((i) => i.product.id)).toEqual(graph.items.map((i) => i.product.id));
    expect(rest.items.map((i) => i.similarity)).toEqual(graph.items.map((i) => i.similarity));
  });

  it('takes the image as the whole body too (content-type image/*)', async () => {
    const result = ok(await match({ topK: '3' }, { raw: await sharp(await demoPhoto(90)).jpeg().toBuffer(), type: 'image/jpeg' }));
    expect(result.items[0]!.product.externalId).toBe(demo[90]!.product.externalId);
  });

  it('searches by imageUrl and by productId', async () => {
    images.served.set('/shirt.jpg', await sharp(await demoPhoto(120)).jpeg({ quality: 85 }).toBuffer());
    const byUrl = ok(await match({ imageUrl: `${images.base}/shirt.jpg`, topK: '3' }));
    expect(byUrl.items[0]!.product.externalId).toBe(demo[120]!.product.externalId);

    const productId = byUrl.items[0]!.product.id;
    const byProduct = ok(await match({ productId, topK: '10' }));
    expect(byProduct.items).toHaveLength(10);
    expect(byProduct.items.map((i) => i.product.id)).not.toContain(productId);
  });

  it('applies the filters and re-ranks on request', async () => {
    const photo = await demoPhoto(10);
    const tanks = ok(await upload(photo, { topK: '10', category: 'Tank tops' }));
    expect(tanks.items).toHaveLength(10);
    for (const item of tanks.items) expect(item.product.category).toBe('Tank tops');

    const two = ok(await upload(photo, { topK: '30', category: ['Tank tops', 'Tops'], colour: 'Purple' }));
    expect(two.items.length).toBeGreaterThan(0);
    expect(new Set(two.items.map((i) => i.product.category))).toEqual(new Set(['Tank tops', 'Tops']));
    for (const item of two.items) expect(item.product.colour).toBe('Purple');

    const priced = ok(await upload(photo, { topK: '20', minPrice: '20', maxPrice: '25', keyword: 'striped' }));
    expect(priced.items.length).toBeGreaterThan(0);
    for (const { product } of priced.items) {
      expect(product.price).toBeGreaterThanOrEqual(20);
      expect(product.price).toBeLessThanOrEqual(25);
      expect(product.title.toLowerCase()).toContain('striped');
    }
    const brand = demo.find((d) => d.product.brand)?.product.brand;
    if (brand) for (const { product } of ok(await upload(photo, { brand })).items) expect(product.brand).toBe(brand);

    const reranked = ok(await upload(photo, { topK: '5', rerank: 'true' }));
    expect(reranked.reranked).toBe(true);
    const scores = reranked.items.map((i) => i.score!);
    for (const s of scores) expect(s).toBeGreaterThanOrEqual(0);
    expect([...scores].sort((a, b) => b - a)).toEqual(scores);
  });

  it('searches the part of the photo that holds the product when asked (autoRegion) and says which part it searched', async () => {
    const index = 77;
    const { photo, box } = await onTexturedBackground(await demoPhoto(index), { width: 1100, height: 900, left: 560, top: 300, texture: 'planks', seed: 4 });
    const covered = (r: { x: number; y: number; width: number; height: number }) =>
      (Math.max(0, Math.min(box.x + box.width, r.x + r.width) - Math.max(box.x, r.x)) *
        Math.max(0, Math.min(box.y + box.height, r.y + r.height) - Math.max(box.y, r.y))) /
      (box.width * box.height);

    const auto = ok(await upload(photo, { topK: '3', autoRegion: 'true' }));
    expect(auto.autoRegion).toBe(true);
    expect(covered(auto.region!)).toBeGreaterThan(0.9);
    expect(auto.region!.width * auto.region!.height).toBeLessThan(box.width * box.height * 2);
    expect(auto.items.map((i) => i.product.externalId)).toContain(demo[index]!.product.externalId);

    // The server's default (AUTO_REGION off): the whole photo, and nothing claimed.
    const whole = ok(await upload(photo, { topK: '3' }));
    expect(whole).toMatchObject({ autoRegion: false, region: null });
    // A region the client gives wins, and is the one reported.
    const given = ok(await upload(photo, { topK: '3', autoRegion: 'true', region: '0.5,0.3,0.4,0.4' }));
    expect(given).toMatchObject({ autoRegion: false, region: { x: 0.5, y: 0.3, width: 0.4, height: 0.4 } });
    failed(await upload(photo, { region: '0.5,0.3' }), 'BAD_USER_INPUT');
    failed(await upload(photo, { region: '0.8,0,0.5,1' }), 'BAD_USER_INPUT');

    // GraphQL: the same search, the same region.
    const r = await graphql(
      service.url,
      'query($f: Upload) { similarProducts(image: $f, topK: 3, autoRegion: true, rerank: true) { autoRegion reranked region { x y width height } } }',
      {},
      { files: [{ variable: 'f', bytes: photo }] },
    );
    expect(errorCode(r)).toBeUndefined();
    expect(r.data.similarProducts).toMatchObject({ autoRegion: true, reranked: true, region: auto.region });
  });

  it('answers every bad request with its code and HTTP status', async () => {
    const photo = await sharp(await productImage(3)).jpeg().toBuffer();
    failed(await match(), 'BAD_USER_INPUT'); // no query source
    failed(await upload(photo, { productId: 'x' }), 'BAD_USER_INPUT'); // two sources
    failed(await upload(photo, { topK: '0' }), 'BAD_USER_INPUT');
    failed(await upload(photo, { topK: 'ten' }), 'BAD_USER_INPUT');
    failed(await upload(photo, { rerank: 'maybe' }), 'BAD_USER_INPUT');
    failed(await upload(photo, { top_k: '5' }), 'BAD_USER_INPUT'); // a typo is refused, not ignored
    failed(await match({ imageUrl: 'file:///etc/passwd' }), 'BAD_USER_INPUT');
    failed(await match({}, form(['photo', photo])), 'BAD_USER_INPUT'); // the wrong field name
    const withField = form(['image', photo]);
    withField.append('topK', '5');
    failed(await match({}, withField), 'BAD_USER_INPUT');
    const malformed = await fetch(`${service.url}/api/match`, {
      method: 'POST',
      headers: { 'content-type': 'multipart/form-data; boundary=x' },
      body: '--x\r\ncontent-disposition: form-data; name="image"; filename="a.jpg"\r\n\r\nabc',
    });
    failed({ status: malformed.status, body: await malformed.json() }, 'BAD_USER_INPUT');
    const noBoundary = await fetch(`${service.url}/api/match`, { method: 'POST', headers: { 'content-type': 'multipart/form-data' }, body: 'x' });
    failed({ status: noBoundary.status, body: await noBoundary.json() }, 'BAD_USER_INPUT');

    failed(await upload(svgImage(2)), 'UNSUPPORTED_IMAGE_TYPE');
    failed(await upload(Buffer.from('just some text, not an image')), 'UNSUPPORTED_IMAGE_TYPE');
    failed(await upload(truncated(photo, 0.4)), 'BAD_IMAGE');
    failed(await match({ imageUrl: `${images.base}/missing.jpg` }), 'IMAGE_FETCH_FAILED');
    failed(await upload(hugePng(3000, 3000)), 'IMAGE_TOO_LARGE'); // over the pixel limit
    failed(await match({}, form(['image', photo], ['image', photo])), 'TOO_MANY_FILES');
    failed(await match({ productId: '00000000-0000-4000-8000-000000000000' }), 'NOT_FOUND');
    failed(await match({ productId: 'not-an-id' }), 'NOT_FOUND');
    const route = await fetch(`${service.url}/api/nothing-here`);
    failed({ status: route.status, body: await route.json() }, 'NOT_FOUND');
    // ...and the server is still answering.
    expect(ok(await upload(photo, { topK: '1' })).items).toHaveLength(1);
  });

  it('refuses a body over UPLOAD_MAX_BYTES with 413, as a form or as a raw body', async () => {
    const big = Buffer.concat([await sharp(await productImage(4)).jpeg().toBuffer(), Buffer.alloc(UPLOAD_MAX_BYTES)]);
    failed(await upload(big), 'IMAGE_TOO_LARGE');
    failed(await match({}, { raw: big, type: 'image/jpeg' }), 'IMAGE_TOO_LARGE');
    // Just under the limit goes through to the image checks.
    const justUnder = Buffer.concat([await sharp(await productImage(4)).jpeg().toBuffer(), Buffer.alloc(1024)]);
    expect(justUnder.length).toBeLessThan(UPLOAD_MAX_BYTES);
    ok(await upload(justUnder, { topK: '1' }));
  });

  it('serves the OpenAPI document', async () => {
    const response = await fetch(`${service.url}/api/openapi.json`);
    expect(response.status).toBe(200);
    expect(await response.json()).toEqual(JSON.parse(JSON.stringify(openApiDocument())));
  });
});

describe('the OpenAPI document', () => {
  const document = openApiDocument();

  it('is a valid OpenAPI 3.1 document', async () => {
    const result = await new Validator().validate(JSON.parse(JSON.stringify(document)));
    expect(result.errors ?? [], JSON.stringify(result.errors)).toEqual([]);
    expect(result.valid).toBe(true);
    expect(document.openapi).toBe('3.1.0');
  });

  it('lists exactly the routes the /api router serves', () => {
    const router = restApi({
      services: {} as Pick<Services, 'search' | 'fetchImageUrl'>,
      uploadMaxBytes: UPLOAD_MAX_BYTES,
      logger: pino({ level: 'silent' }),
    });
    const served = router.stack
      .filter((layer) => layer.route)
      .flatMap((layer) => Object.keys((layer.route as any).methods).map((m) => `${m.toUpperCase()} ${REST_PREFIX}${layer.route!.path}`))
      .sort();
    const documented = Object.entries(document.paths ?? {})
      .flatMap(([path, item]) => Object.keys(item as object).map((m) => `${m.toUpperCase()} ${path}`))
      .sort();
    expect(documented).toEqual(served);
    expect(served).toEqual(['GET /api/openapi.json', 'POST /api/match']);
  });

  it('documents the status of every error code it lists, as client-errors.ts maps them', () => {
    const responses = (document.paths!['/api/match'] as any).post.responses as Record<string, { description: string }>;
    for (const [status, { description }] of Object.entries(responses)) {
      if (status === '200') continue;
      const codes = [...description.matchAll(/\b([A-Z_]{4,}):/g)].map((m) => m[1]!);
      expect(codes.length, status).toBeGreaterThan(0);
      for (const code of codes) expect(HTTP_STATUS[code as keyof typeof HTTP_STATUS], code).toBe(Number(status));
    }
  });
});
