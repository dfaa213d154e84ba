// client/index.ts without a server: what it sends (JSON or the multipart request spec, always
// with the CSRF preflight header) and how failures come back (ApiError with a stable code).
// tests/web.e2e.test.ts runs the same client against the real service.
import { describe, expect, it } from 'vitest';
import { ApiError, createClient, describeError, SimilarProductsDocument } from '../client/index.js';

interface Captured {
  url: string;
  headers: Record<string, string>;
  body: BodyInit | null | undefined;
}

function fakeFetch(answer: () => Response | Promise<Response>) {
  const calls: Captured[] = [];
  const fetchImpl = (async (url: RequestInfo | URL, init?: RequestInit) => {
    calls.push({ url: String(url), headers: { ...(init?.headers as Record<string, string>) }, body: init?.body });
    return answer();
  }) as typeof fetch;
  return { calls, fetchImpl };
}

const json = (body: unknown, status = 200) => new Response(JSON.stringify(body), { status, headers: { 'content-type': 'application/json' } });
const emptyResult = { similarProducts: { id: 's1', tookMs: 1, model: 'm@1', reranked: false, items: [] } };

describe('client/index.ts', () => {
  it('sends an image as a multipart upload with the preflight header', async () => {
    const { calls, fetchImpl } = fakeFetch(() => json({ data: emptyResult }));
    const api = createClient({ url: 'http://api.test/graphql', fetch: fetchImpl, headers: { 'x-extra': '1' } });
    const bytes = Buffer.from([0xff, 0xd8, 0xff, 0xe0, 1, 2, 3]);
    const result = await api.similarProducts({ image: bytes, filename: 'shirt.jpg', topK: 3, filter: { colour: ['Red'] }, region: { x: 0, y: 0, width: 0.5, height: 1 } });
    expect(result.id).toBe('s1');
    expect(calls).toHaveLength(1);
    const [call] = calls;
    expect(call!.url).toBe('http://api.test/graphql');
    expect(call!.headers['apollo-require-preflight']).toBe('true');
    expect(call!.headers['x-extra']).toBe('1');
    expect(call!.headers['content-type']).toBeUndefined(); // fetch sets the multipart boundary
    const form = call!.body as FormData;
    expect(form).toBeInstanceOf(FormData);
    const operations = JSON.parse(form.get('operations') as string);
    expect(operations.query).toBe(SimilarProductsDocument.toString());
    expect(operations.variables).toEqual({ image: null, topK: 3, filter: { colour: ['Red'] }, region: { x: 0, y: 0, width: 0.5, height: 1 } });
    expect(JSON.parse(form.get('map') as string)).toEqual({ 0: ['variables.image'] });
    const file = form.get('0') as File;
    expect(file.name).toBe('shirt.jpg');
    expect(Buffer.from(await file.arrayBuffer())).toEqual(bytes);
  });

  it('sends JSON when there is no file, and drops undefined variables', async () => {
    const { calls, fetchImpl } = fakeFetch(() => json({ data: emptyResult }));
    const api = createClient({ url: 'http://api.test/graphql', fetch: fetchImpl });
    await api.similarProducts({ productId: 'p1', topK: 5, imageUrl: undefined });
    expect(calls[0]!.headers['content-type']).toBe('application/json');
    expect(calls[0]!.headers['apollo-require-preflight']).toBe('true');
    const body = JSON.parse(calls[0]!.body as string);
    expect(body.variables).toEqual({ productId: 'p1', topK: 5 });
  });

  it('turns GraphQL errors into ApiError with the server code and a plain sentence', async () => {
    const { fetchImpl } = fakeFetch(() =>
      json({ data: null, errors: [{ message: 'Unsupported image type text/plain: use JPEG…', extensions: { code: 'UNSUPPORTED_IMAGE_TYPE' } }] }),
    );
    const api = createClient({ url: 'http://api.test/graphql', fetch: fetchImpl });
    const error = await api.similarProducts({ image: new Blob(['hello']) }).catch((e) => e);
    expect(error).toBeInstanceOf(ApiError);
    expect(error.code).toBe('UNSUPPORTED_IMAGE_TYPE');
    expect(error.message).toMatch(/Unsupported image type/);
    expect(error.errors).toHaveLength(1);
    expect(describeError(error)).toMatch(/not a photo this service can read/);
  });

  it('reports an unreachable server and a non-GraphQL answer with their own codes', async () => {
    const down = createClient({ url: 'http://api.test/graphql', fetch: (() => Promise.reject(new TypeError('fetch failed'))) as typeof fetch });
    const e1 = await down.catalogStats().catch((e) => e);
    expect(e1).toBeInstanceOf(ApiError);
    expect(e1.code).toBe('NETWORK_ERROR');
    expect(describeError(e1)).toMatch(/cannot be reached/);

    const html = createClient({ url: 'http://api.test/graphql', fetch: (async () => new Response('<html>502</html>', { status: 502 })) as typeof fetch });
    const e2 = await html.catalogStats().catch((e) => e);
    expect(e2.code).toBe('BAD_RESPONSE');
    expect(e2.status).toBe(502);
  });

  it('passes an abort through as an AbortError, not as an API error', async () => {
    const controller = new AbortController();
    const api = createClient({
      url: 'http://api.test/graphql',
      fetch: ((_u: unknown, init?: RequestInit) =>
        new Promise((_resolve, reject) => init?.signal?.addEventListener('abort', () => reject(new DOMException('aborted', 'AbortError'))))) as typeof fetch,
    });
    const pending = api.products({ first: 5 }, { signal: controller.signal }).catch((e) => e);
    controller.abort();
    const error = await pending;
    expect(error.name).toBe('AbortError');
    expect(error).not.toBeInstanceOf(ApiError);
  });

  it('collects facet values across pages', async () => {
    let n = 0;
    const page = (items: { category: string; colour: string; brand: string }[], next: boolean) =>
      json({ data: { products: { pageInfo: { hasNextPage: next, endCursor: next ? `c${n}` : null }, edges: items.map((node) => ({ node })) } } });
    const { calls, fetchImpl } = fakeFetch(() =>
      ++n === 1
        ? page([{ category: 'Tops', colour: 'Red', brand: 'B' }], true)
        : page([{ category: 'Tank tops', colour: 'Red', brand: 'A' }], false),
    );
    const facets = await createClient({ url: 'http://api.test/graphql', fetch: fetchImpl }).facetValues(500);
    expect(facets).toEqual({ category: ['Tank tops', 'Tops'], colour: ['Red'], brand: ['A', 'B'] });
    expect(JSON.parse(calls[1]!.body as string).variables).toEqual({ first: 100, after: 'c1' });
  });
});
