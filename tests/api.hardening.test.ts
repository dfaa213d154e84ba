// Issue 13: no request can take the service down, and it says when it is unwell. A seeded corpus
// of hostile requests, the per-operation limits, thin images, broken multipart, timeouts, load
// shedding, rate limits, readiness through a database outage, housekeeping — against the real
// service over HTTP. Graceful shutdown of the real process: tests/api.shutdown.test.ts.
import { mkdtemp, readdir, rm, utimes, writeFile, mkdir } from 'node:fs/promises';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { loadConfig } from '../src/config.js';
import { MediaStore } from '../src/storage/media-store.js';
import { errorCode, graphql } from './support/graphql.js';
import { hostileCorpus, hostileMaterial } from './support/hostile.js';
import sharp from 'sharp';
import { hugePng, productImage, randomBytes } from './support/images.js';
import { classify, forEachConcurrently, sendRaw, type RawAnswer } from './support/raw-http.js';
import { createPostgresDatabase, serviceBackends, startTestService, type TestService } from './support/service.js';

const SEARCH =
  'query($i: Upload, $p: ID, $r: Boolean) { similarProducts(image: $i, productId: $p, topK: 3, rerank: $r) { id items { rank product { externalId } } } }';
const PRODUCTS = 4;

async function seed(t: TestService): Promise<void> {
  for (let s = 1; s <= PRODUCTS; s++) {
    await t.service.importer.import({ source: 'test', externalId: `p${s}`, title: `Product ${s}` }, [
      { bytes: await productImage(s, { width: 96, height: 96 }) },
    ]);
  }
}

const search = async (url: string, image: Buffer) =>
  graphql(url, SEARCH, {}, { files: [{ variable: 'i', bytes: image }] });

const answered = (a: RawAnswer | 'timeout' | 'reset'): RawAnswer => {
  if (typeof a === 'string') throw new Error(`no answer: ${a}`);
  return a;
};

describe.each(await serviceBackends())('hardening over HTTP ($name)', (backend) => {
  let t: TestService;

  beforeAll(async () => {
    // Four search slots whatever the machine's cores: the corpus below is sent four at a time.
    t = await startTestService(backend, { DEMO_CATALOG: 'false', REQUEST_TIMEOUT_MS: '3000', SEARCH_MAX_CONCURRENT: '4' });
    await seed(t);
  });
  afterAll(() => t?.stop());

  it('answers 1,000 hostile requests with coded errors, no 5xx, and searches normally afterwards', async () => {
    const outcomes = new Map<string, string[]>();
    let sent = 0;
    // As many at once as the service runs searches: shedding (503) is not what this measures.
    await forEachConcurrently(hostileCorpus(await hostileMaterial(), 1000, 13), 4, async (request) => {
      const answer = await sendRaw(t.url, request, 20_000);
      sent++;
      const outcome = typeof answer === 'string' ? answer : classify(answer);
      if (outcome !== 'ok' && outcome !== 'coded') {
        outcomes.set(request.kind, [
          ...(outcomes.get(request.kind) ?? []),
          typeof answer === 'string' ? answer : `${answer.status} ${answer.body.slice(0, 160)}`,
        ]);
      }
    });
    expect(sent).toBe(1000);
    expect(Object.fromEntries(outcomes)).toEqual({});
    const after = await search(t.url, await productImage(2, { width: 96, height: 96 }));
    expect(after.errors).toBeUndefined();
    expect(after.data.similarProducts.items[0].product.externalId).toBe('p2');
  }, 240_000);

  it('refuses a 39,000,000 × 1 PNG from its header, in milliseconds', async () => {
    const thin = hugePng(39_000_000, 1);
    const started = performance.now();
    const r = await search(t.url, thin);
    const ms = performance.now() - started;
    expect(errorCode(r)).toBe('IMAGE_TOO_LARGE');
    expect(r.errors![0]!.message).toMatch(/39000000×1/);
    expect(ms).toBeLessThan(1000); // decoding it took 3.1 s before the side limit
  });

  it('answers a multipart request without a boundary at once, and a broken form with 400', async () => {
    const noBoundary = answered(
      await sendRaw(
        t.url,
        {
          method: 'POST',
          path: '/graphql',
          headers: { 'apollo-require-preflight': 'true', 'content-type': 'multipart/form-data' },
          body: Buffer.from('x'),
        },
        5000,
      ),
    );
    expect(noBoundary.status).toBe(400);
    expect(JSON.parse(noBoundary.body).errors[0].extensions.code).toBe('BAD_USER_INPUT');
    const noForm = answered(
      await sendRaw(
        t.url,
        {
          method: 'POST',
          path: '/graphql',
          headers: { 'apollo-require-preflight': 'true', 'content-type': 'multipart/form-data; boundary=abc' },
          body: Buffer.from('x'),
        },
        5000,
      ),
    );
    expect([noForm.status, JSON.parse(noForm.body).errors[0].extensions.code]).toEqual([400, 'BAD_USER_INPUT']);
    // Operations that are no object, and a map whose path runs through a string: one chunk each,
    // so that the map is parsed before the failure can stop the parser.
    const form = (operations: string, map: string) =>
      Buffer.from(
        `--b0\r\ncontent-disposition: form-data; name="operations"\r\n\r\n${operations}\r\n` +
          `--b0\r\ncontent-disposition: form-data; name="map"\r\n\r\n${map}\r\n` +
          `--b0\r\ncontent-disposition: form-data; name="0"; filename="a.png"\r\ncontent-type: image/png\r\n\r\nxx\r\n--b0--\r\n`,
      );
    for (const [operations, map] of [
      ['"a string"', '{"0":["variables.i"]}'],
      ['["a string"]', '{"0":["0.variables.i"]}'],
      ['{"query":"{ __typename }","variables":"a string"}', '{"0":["variables.i"]}'],
      ['{"query":"{ __typename }"}', '{"0":["__proto__.polluted"]}'],
    ]) {
      const bad = answered(
        await sendRaw(t.url, {
          method: 'POST',
          path: '/graphql',
          headers: { 'apollo-require-preflight': 'true', 'content-type': 'multipart/form-data; boundary=b0' },
          body: form(operations!, map!),
        }),
      );
      expect([bad.status, JSON.parse(bad.body).errors[0].extensions.code], operations).toEqual([400, 'BAD_USER_INPUT']);
    }
    expect(({} as Record<string, unknown>).polluted).toBeUndefined();
    expect((await search(t.url, await productImage(2, { width: 96, height: 96 }))).data.similarProducts.items[0].product.externalId).toBe('p2');
    const big = answered(
      await sendRaw(t.url, {
        method: 'POST',
        path: '/graphql',
        headers: { 'apollo-require-preflight': 'true', 'content-type': 'application/json' },
        body: Buffer.from(JSON.stringify({ query: '{ __typename }', pad: 'x'.repeat(1_100_000) })),
      }),
    );
    expect([big.status, JSON.parse(big.body).errors[0].extensions.code]).toEqual([413, 'REQUEST_TOO_LARGE']);
  });

  it('gives a stalled request body 408 after REQUEST_TIMEOUT_MS instead of holding the socket', async () => {
    const { port } = new URL(t.url);
    const socket = net.connect(Number(port), '127.0.0.1');
    const started = performance.now();
    socket.write(
      'POST /graphql HTTP/1.1\r\nhost: x\r\ncontent-type: application/json\r\ncontent-length: 1000\r\n\r\n{"query":',
    );
    const reply = await new Promise<string>((resolve) => {
      let text = '';
      socket.on('data', (chunk) => (text += chunk));
      socket.on('close', () => resolve(text));
    });
    expect(reply).toMatch(/^HTTP\/1\.1 408/);
    expect(performance.now() - started).toBeLessThan(10_000);
  });

  it('refuses operations over the cost, alias and search limits before running them', async () => {
    const aliases = (n: number, field: string) =>
      `{ ${Array.from({ length: n }, (_, i) => `a${i}: ${field}`).join(' ')} }`;
    const product = (await graphql(t.url, '{ products(first: 1) { edges { node { id } } } }')).data.products.edges[0]
      .node.id;
    // The reported attack: 200 aliased re-ranked searches in one request.
    const started = performance.now();
    const reranks = await graphql(t.url, aliases(200, `similarProducts(productId: "${product}", rerank: true) { id }`));
    expect([reranks.status, errorCode(reranks)]).toEqual([400, 'QUERY_TOO_COMPLEX']);
    expect(performance.now() - started).toBeLessThan(2000);
    const five = await graphql(t.url, aliases(5, `similarProducts(productId: "${product}") { id }`));
    expect(errorCode(five)).toBe('QUERY_TOO_COMPLEX');
    expect(
      (await graphql(t.url, aliases(4, `similarProducts(productId: "${product}") { id }`))).errors,
    ).toBeUndefined();
    expect(errorCode(await graphql(t.url, aliases(500, 'catalogStats { products }')))).toBe('QUERY_TOO_COMPLEX');
    expect(
      errorCode(
        await graphql(t.url, aliases(30, 'products(first: 100) { edges { node { id title images { url } } } }')),
      ),
    ).toBe('QUERY_TOO_COMPLEX');
    expect(errorCode(await graphql(t.url, `{ ${'__typename '.repeat(8000)} }`))).toBe('GRAPHQL_PARSE_FAILED');
  });

  it('tells liveness (/healthz) from readiness (/readyz, per component)', async () => {
    const live = await fetch(`${t.url}/healthz`);
    expect([live.status, (await live.json()).ok]).toEqual([200, true]);
    const ready = await fetch(`${t.url}/readyz`);
    const body = await ready.json();
    expect(ready.status).toBe(200);
    expect(body).toMatchObject({
      ready: true,
      components: {
        database: { ok: true, kind: backend.name },
        migrations: { ok: true, pending: [] },
        models: { ok: true },
        server: { ok: true },
      },
    });
  });
});

describe('overload, rate limits and housekeeping (embedded)', () => {
  let t: TestService;
  const RATE = 40;

  beforeAll(async () => {
    t = await startTestService(
      { name: 'embedded' },
      {
        DEMO_CATALOG: 'false',
        SEARCH_MAX_CONCURRENT: '1',
        SEARCH_MAX_QUEUE: '1',
        RATE_LIMIT_PER_MINUTE: String(RATE),
        SEARCH_PRUNE_INTERVAL_MINUTES: '0.01',
      },
    );
    await seed(t);
  });
  afterAll(() => t?.stop());

  it('sheds load past the queue with 503 + Retry-After (OVERLOADED), rate-limits with 429, and /healthz stays fast', async () => {
    const image = await productImage(3, { width: 256, height: 256 });
    const health: number[] = [];
    let done = false;
    const probe = (async () => {
      while (!done) {
        const started = performance.now();
        expect((await fetch(`${t.url}/healthz`)).status).toBe(200);
        health.push(performance.now() - started);
        await new Promise((r) => setTimeout(r, 20));
      }
    })();
    const burst = await Promise.all(
      Array.from({ length: RATE + 10 }, async () => {
        const response = await fetch(`${t.url}/graphql`, {
          method: 'POST',
          headers: { 'apollo-require-preflight': 'true' },
          body: (() => {
            const form = new FormData();
            form.append('operations', JSON.stringify({ query: SEARCH, variables: { i: null, r: true } }));
            form.append('map', '{"0":["variables.i"]}');
            form.append('0', new Blob([new Uint8Array(image)], { type: 'image/png' }), 'q.png');
            return form;
          })(),
        });
        const body = await response.json();
        return {
          status: response.status,
          retryAfter: response.headers.get('retry-after'),
          code: body.errors?.[0]?.extensions?.code,
        };
      }),
    );
    done = true;
    await probe;
    const statuses = new Set(burst.map((b) => b.status));
    expect([...statuses].every((s) => [200, 429, 503].includes(s))).toBe(true);
    const shed = burst.filter((b) => b.status === 503);
    const limited = burst.filter((b) => b.status === 429);
    expect(burst.filter((b) => b.status === 200).length).toBeGreaterThan(0);
    expect(shed.length).toBeGreaterThan(0);
    expect(shed.every((b) => b.code === 'OVERLOADED' && Number(b.retryAfter) >= 1)).toBe(true);
    expect(limited.length).toBe(10); // the 41st to 50th request of this minute
    expect(limited.every((b) => b.code === 'RATE_LIMITED' && Number(b.retryAfter) >= 1)).toBe(true);
    // /healthz does no I/O and waits in no queue: it answered within 100 ms throughout.
    health.sort((a, b) => a - b);
    expect(health.length).toBeGreaterThan(3);
    expect(health[Math.floor(health.length / 2)]).toBeLessThan(100);
  });

  it('prunes expired searches on its schedule', async () => {
    const vector = new Float32Array(4).fill(0.5);
    const id = await t.service.db.searches.save({
      expiresAt: new Date(Date.now() - 1000),
      modelKey: 'test',
      queryImageHash: null,
      queryEmbedding: vector,
      queryFeatures: vector,
      params: {},
      results: [],
    });
    expect(await t.service.db.searches.toRerank(id)).not.toBeNull();
    const deadline = Date.now() + 10_000;
    while ((await t.service.db.searches.toRerank(id)) && Date.now() < deadline)
      await new Promise((r) => setTimeout(r, 200));
    expect(await t.service.db.searches.toRerank(id)).toBeNull();
  });
});

describe('the searches of one request (embedded, one slot, no queue)', () => {
  let t: TestService;
  beforeAll(async () => {
    t = await startTestService({ name: 'embedded' }, { DEMO_CATALOG: 'false', SEARCH_MAX_CONCURRENT: '1', SEARCH_MAX_QUEUE: '0' });
    await seed(t);
  });
  afterAll(() => t?.stop());

  it('take turns in one slot: an operation of 4 aliased searches is not refused as overload', async () => {
    const ids = (await graphql(t.url, '{ products(first: 4) { edges { node { id } } } }')).data.products.edges.map(
      (e: { node: { id: string } }) => e.node.id,
    );
    const query = `{ ${ids.map((id: string, i: number) => `a${i}: similarProducts(productId: "${id}", topK: 2) { items { product { id } } }`).join(' ')} }`;
    const r = await graphql(t.url, query);
    expect(r.errors).toBeUndefined();
    // Each "more like this" excludes its own product: four different searches all ran.
    ids.forEach((id: string, i: number) => {
      const found = r.data[`a${i}`].items.map((item: { product: { id: string } }) => item.product.id);
      expect(found).toHaveLength(2);
      expect(found).not.toContain(id);
    });
  });
});

describe('rate limits behind a load balancer (embedded)', () => {
  const services: TestService[] = [];
  afterAll(() => Promise.all(services.map((t) => t.stop())));

  /** Statuses of `{ __typename }` posted as if forwarded for each client address in turn. */
  async function statuses(trustProxy: string | null, clients: string[]): Promise<number[]> {
    const t = await startTestService(
      { name: 'embedded' },
      { DEMO_CATALOG: 'false', RATE_LIMIT_PER_MINUTE: '2', ...(trustProxy ? { TRUST_PROXY: trustProxy } : {}) },
    );
    services.push(t);
    const out: number[] = [];
    for (const client of clients) {
      const response = await fetch(`${t.url}/graphql`, {
        method: 'POST',
        headers: { 'content-type': 'application/json', 'x-forwarded-for': client },
        body: JSON.stringify({ query: '{ __typename }' }),
      });
      out.push(response.status);
    }
    return out;
  }

  const clients = ['203.0.113.1', '203.0.113.1', '203.0.113.1', '203.0.113.2'];

  it('with TRUST_PROXY=1 counts each forwarded client on its own', async () => {
    expect(await statuses('1', clients)).toEqual([200, 200, 429, 200]);
  });

  it('without it, ignores X-Forwarded-For (a client cannot dodge the limit by naming another address)', async () => {
    expect(await statuses(null, clients)).toEqual([200, 200, 429, 429]);
  });

  it('refuses TRUST_PROXY=true at start-up, and reads hops and addresses', () => {
    expect(() => loadConfig({ TRUST_PROXY: 'true' })).toThrow(/TRUST_PROXY.*hop count/);
    expect(loadConfig({ TRUST_PROXY: '2' }).TRUST_PROXY).toBe(2);
    expect(loadConfig({ TRUST_PROXY: '10.0.0.0/8, loopback' }).TRUST_PROXY).toBe('10.0.0.0/8, loopback');
    expect(loadConfig({}).TRUST_PROXY).toBe(false);
  });
});

describe('media temp files', () => {
  it('removes the temp files of interrupted writes, only once they are old', async () => {
    const root = await mkdtemp(path.join(os.tmpdir(), 'vps-media-'));
    try {
      await mkdir(path.join(root, 'ab'));
      const old = path.join(root, 'ab', 'abc.webp.123.456.tmp');
      const fresh = path.join(root, 'ab', 'abd.webp.123.789.tmp');
      const kept = path.join(root, 'ab', 'abe.webp');
      for (const file of [old, fresh, kept]) await writeFile(file, 'x');
      const hourAgo = new Date(Date.now() - 3600_000);
      await utimes(old, hourAgo, hourAgo);
      await utimes(kept, hourAgo, hourAgo);
      expect(await new MediaStore(root).removeStaleTempFiles()).toBe(1);
      expect((await readdir(path.join(root, 'ab'))).sort()).toEqual(['abd.webp.123.789.tmp', 'abe.webp']);
    } finally {
      await rm(root, { recursive: true, force: true });
    }
  });
});

/** A TCP proxy in front of the shared Postgres server: closing it is an outage for one service only. */
async function outageProxy(target: { host: string; port: number }) {
  const sockets = new Set<net.Socket>();
  const server = net.createServer((client) => {
    const upstream = net.connect(target.port, target.host);
    for (const s of [client, upstream]) {
      sockets.add(s);
      s.on('close', () => sockets.delete(s));
      s.on('error', () => undefined);
    }
    client.pipe(upstream).pipe(client);
    client.on('close', () => upstream.destroy());
    upstream.on('close', () => client.destroy());
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  const port = (server.address() as net.AddressInfo).port;
  return {
    port,
    /** Refuses new connections and cuts the open ones, as a stopped server does. */
    async stop() {
      await new Promise<void>((r) => {
        server.close(() => r());
        for (const s of sockets) s.destroy();
      });
    },
    async start() {
      await new Promise<void>((r) => server.listen(port, '127.0.0.1', r));
    },
  };
}

const postgres = (await serviceBackends()).find((b) => b.name === 'postgres');
describe.runIf(postgres)('a database outage (postgres behind a proxy)', () => {
  let t: TestService;
  let proxy: Awaited<ReturnType<typeof outageProxy>>;
  let database: Awaited<ReturnType<typeof createPostgresDatabase>>;

  beforeAll(async () => {
    database = await createPostgresDatabase();
    const direct = new URL(database.url);
    proxy = await outageProxy({ host: direct.hostname, port: Number(direct.port || 5432) });
    const proxied = new URL(database.url);
    proxied.hostname = '127.0.0.1';
    proxied.port = String(proxy.port);
    t = await startTestService(postgres!, { DEMO_CATALOG: 'false', DATABASE_URL: proxied.toString() });
    await seed(t);
  });
  afterAll(async () => {
    await t?.stop();
    await proxy?.start().catch(() => undefined);
    await database?.drop();
  });

  const readiness = async () => {
    const r = await fetch(`${t.url}/readyz`);
    return { status: r.status, body: await r.json() };
  };

  it('answers /readyz 503 and DATABASE_UNAVAILABLE while the database is down, and is ready again after', async () => {
    expect((await readiness()).status).toBe(200);
    await proxy.stop();

    const down = await readiness();
    expect(down.status).toBe(503);
    expect(down.body.components.database.ok).toBe(false);
    expect(down.body.components.models.ok).toBe(true);
    // /healthz is liveness: the process is fine, so it must not be restarted.
    expect((await fetch(`${t.url}/healthz`)).status).toBe(200);

    const stats = await graphql(t.url, '{ catalogStats { products } }');
    expect([stats.status, errorCode(stats)]).toEqual([503, 'DATABASE_UNAVAILABLE']);
    const found = await search(t.url, await productImage(1, { width: 96, height: 96 }));
    expect([found.status, errorCode(found)]).toEqual([503, 'DATABASE_UNAVAILABLE']);

    await proxy.start();
    const deadline = Date.now() + 15_000;
    let again = await readiness();
    while (again.status !== 200 && Date.now() < deadline) {
      await new Promise((r) => setTimeout(r, 250));
      again = await readiness();
    }
    expect(again.status).toBe(200);
    const after = await search(t.url, await productImage(1, { width: 96, height: 96 }));
    expect(after.errors).toBeUndefined();
    expect(after.data.similarProducts.items[0].product.externalId).toBe('p1');
  }, 90_000);
});

// Uploads are held in memory (src/http/uploads.ts) under a process-wide budget: one DB is enough.
describe('upload memory budget over HTTP', () => {
  let t: TestService;
  /** A PNG of noise: it does not compress, so its size is about width × height × 3 bytes. */
  const noisePng = (width: number, height: number, seed: number) =>
    sharp(randomBytes(width * height * 3, seed), { raw: { width, height, channels: 3 } }).png({ compressionLevel: 0 }).toBuffer();

  beforeAll(async () => {
    t = await startTestService((await serviceBackends())[0]!, { DEMO_CATALOG: 'false', UPLOAD_MEMORY_MB: '1' });
    await seed(t);
  });
  afterAll(() => t?.stop());

  it('refuses a file that would take uploads past UPLOAD_MEMORY_MB with OVERLOADED, and gives the memory back after each request', async () => {
    const big = await noisePng(800, 600, 1); // 1.4 MB
    expect(big.length).toBeGreaterThan(2 ** 20);
    const refused = await search(t.url, big);
    expect([refused.status, errorCode(refused)]).toEqual([503, 'OVERLOADED']);
    // 0.6 MB each: one fits, two would not; in turn, each finds the memory the one before held.
    for (let i = 0; i < 3; i++) {
      const found = await search(t.url, await noisePng(400, 500, 2 + i));
      expect(found.errors).toBeUndefined();
      expect(found.data.similarProducts.items.length).toBe(3);
    }
    const small = await search(t.url, await productImage(2, { width: 96, height: 96 }));
    expect(small.data.similarProducts.items[0].product.externalId).toBe('p2');
  });
});
