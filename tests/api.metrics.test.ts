// Where a search's time goes, seen from outside: GET /metrics (Prometheus text format) and the
// Server-Timing header of search responses, on both APIs and both databases.
import sharp from 'sharp';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { SEARCH_STAGES } from '../src/search/stage-timer.js';
import { productImage } from './support/images.js';
import { serviceBackends, startTestService, type TestService } from './support/service.js';

const SEARCH = `query($image: Upload) { similarProducts(image: $image, topK: 10) { id items { rank } } }`;
/** The stages every plain upload search goes through (rerank only with re-ranking). */
const UPLOAD_STAGES = SEARCH_STAGES.filter((s) => s !== 'rerank');

function graphqlForm(bytes: Buffer): FormData {
  const form = new FormData();
  form.append('operations', JSON.stringify({ query: SEARCH, variables: { image: null } }));
  form.append('map', JSON.stringify({ 0: ['variables.image'] }));
  form.append('0', new Blob([new Uint8Array(bytes)], { type: 'image/jpeg' }), 'query.jpg');
  return form;
}

const searchGraphql = (url: string, bytes: Buffer) =>
  fetch(`${url}/graphql`, { method: 'POST', headers: { 'apollo-require-preflight': 'true' }, body: graphqlForm(bytes) });

const searchRest = (url: string, bytes: Buffer) =>
  fetch(`${url}/api/match?topK=10`, { method: 'POST', headers: { 'content-type': 'image/jpeg' }, body: new Uint8Array(bytes) });

/** `name;dur=ms, …` → { name: ms }. */
function serverTiming(header: string | null): Record<string, number> {
  expect(header).toBeTruthy();
  return Object.fromEntries(
    header!.split(',').map((entry) => {
      const [name, dur] = entry.trim().split(';');
      return [name!, Number(dur!.replace('dur=', ''))];
    }),
  );
}

/** The `_count` of each stage's histogram for one endpoint, from the /metrics text. */
async function stageCounts(url: string, endpoint: 'graphql' | 'rest'): Promise<Record<string, number>> {
  const text = await (await fetch(`${url}/metrics`)).text();
  const counts: Record<string, number> = {};
  for (const [, labels, value] of text.matchAll(/^search_stage_seconds_count\{([^}]*)\} (\S+)$/gm)) {
    if (!labels!.includes(`endpoint="${endpoint}"`)) continue;
    counts[/stage="([^"]+)"/.exec(labels!)![1]!] = Number(value);
  }
  return counts;
}

describe.each(await serviceBackends())('search timings ($name)', (backend) => {
  let service: TestService;
  let photo: Buffer;

  beforeAll(async () => {
    service = await startTestService(backend);
    photo = await sharp(await productImage(7)).resize(224, 224).jpeg({ quality: 85 }).toBuffer();
  });

  afterAll(async () => {
    await service?.stop();
  });

  it('serves Prometheus text with process metrics at /metrics', async () => {
    const response = await fetch(`${service.url}/metrics`);
    expect(response.status).toBe(200);
    expect(response.headers.get('content-type')).toMatch(/^text\/plain; version=0\.0\.4/);
    const text = await response.text();
    expect(text).toMatch(/^process_cpu_user_seconds_total \d/m);
    expect(text).toMatch(/^nodejs_eventloop_lag_seconds \d/m);
    expect(text).toContain('# TYPE search_stage_seconds histogram');
  });

  it('counts every stage of a GraphQL search once per search in the histograms', async () => {
    const before = await stageCounts(service.url, 'graphql');
    for (let i = 0; i < 2; i++) expect((await searchGraphql(service.url, photo)).status).toBe(200);
    const after = await stageCounts(service.url, 'graphql');
    for (const stage of UPLOAD_STAGES) expect({ stage, added: after[stage]! - (before[stage] ?? 0) }).toEqual({ stage, added: 2 });
    expect(after.rerank ?? 0).toBe(before.rerank ?? 0);
  });

  it('names each stage in the Server-Timing header of a GraphQL search', async () => {
    const response = await searchGraphql(service.url, photo);
    expect(response.status).toBe(200);
    const timing = serverTiming(response.headers.get('server-timing'));
    expect(Object.keys(timing)).toEqual([...UPLOAD_STAGES, 'total']);
    for (const ms of Object.values(timing)) expect(ms).toBeGreaterThanOrEqual(0);
    // The stages follow one another (none overlap on a plain search): together they fit in the total.
    const stages = UPLOAD_STAGES.reduce((sum, s) => sum + timing[s]!, 0);
    expect(stages).toBeLessThanOrEqual(timing.total! + 0.1);
    expect(timing.embed).toBeGreaterThan(0);
  });

  it('times POST /api/match the same way, under endpoint="rest"', async () => {
    const before = await stageCounts(service.url, 'rest');
    const response = await searchRest(service.url, photo);
    expect(response.status).toBe(200);
    expect((await response.json()).items).toHaveLength(10);
    const timing = serverTiming(response.headers.get('server-timing'));
    expect(Object.keys(timing)).toEqual([...UPLOAD_STAGES, 'total']);
    const after = await stageCounts(service.url, 'rest');
    expect(after.embed! - (before.embed ?? 0)).toBe(1);
  });

  it('adds the re-ranking stage to a re-ranked search, and nothing to requests that search nothing', async () => {
    const searched = await (await searchGraphql(service.url, photo)).json();
    const rerank = await fetch(`${service.url}/graphql`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ query: `mutation { rerankSearch(searchId: "${searched.data.similarProducts.id}", topK: 5) { reranked } }` }),
    });
    expect((await rerank.json()).data.rerankSearch.reranked).toBe(true);
    expect(Object.keys(serverTiming(rerank.headers.get('server-timing')))).toEqual(expect.arrayContaining(['rerank', 'ann', 'hydrate']));

    const stats = await fetch(`${service.url}/graphql`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ query: '{ catalogStats { products } }' }),
    });
    expect(stats.status).toBe(200);
    expect(stats.headers.get('server-timing')).toBeNull();
  });
});

describe.each(await serviceBackends())('/metrics under overload ($name)', (backend) => {
  let service: TestService;

  beforeAll(async () => {
    // One search at a time, none waiting, and a rate limit the searches exceed.
    service = await startTestService(backend, { SEARCH_MAX_CONCURRENT: '1', SEARCH_MAX_QUEUE: '0', RATE_LIMIT_PER_MINUTE: '5' });
  });

  afterAll(async () => {
    await service?.stop();
  });

  it('answers while searches are refused by the load shedder and the rate limit', async () => {
    const photo = await sharp(await productImage(3)).resize(224, 224).jpeg().toBuffer();
    const searches = Array.from({ length: 12 }, () => searchRest(service.url, photo));
    const metrics = await fetch(`${service.url}/metrics`);
    const statuses = (await Promise.all(searches)).map((r) => r.status);
    expect(metrics.status).toBe(200);
    expect(statuses.filter((s) => s !== 200).length).toBeGreaterThan(0);
    expect(statuses.every((s) => [200, 429, 503].includes(s))).toBe(true);
    const after = await fetch(`${service.url}/metrics`);
    expect(after.status).toBe(200);
    expect(await after.text()).toMatch(/api_request_seconds_count\{endpoint="rest",status="(429|503)"\}/);
  });
});
