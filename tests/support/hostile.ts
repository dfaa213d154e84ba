// A seeded corpus of hostile and malformed requests (issue 13), shared by the hardening test and
// bench/attack.ts: broken multipart forms, oversized and malformed JSON, abusive GraphQL
// operations, and images that lie about themselves. Each request is raw bytes with its own
// headers (tests/support/raw-http.ts), so nothing a well-behaved client library would fix (a
// missing boundary, a NUL in a file name, a form cut short) is fixed.
import { encodeAs, hugePng, productImage, randomBytes, rng, svgImage, truncated } from './images.js';

export interface HostileRequest {
  /** The class of abuse, for reports. */
  kind: string;
  method: string;
  path: string;
  headers: Record<string, string>;
  body: Buffer;
}

const PREFLIGHT = { 'apollo-require-preflight': 'true' };
const SEARCH =
  'query($i: Upload, $k: Int, $r: Boolean) { similarProducts(image: $i, topK: $k, rerank: $r) { id items { rank product { id } } } }';

/** The images the corpus uploads: encoded once, then cut, spliced and relabelled per request. */
interface Material {
  png: Buffer;
  jpeg: Buffer;
  webp: Buffer;
  gif: Buffer;
  thin: Buffer;
  tall: Buffer;
  bomb: Buffer;
  /** Random bytes a little over the default upload limit (10 MiB). */
  oversized: Buffer;
}

export async function hostileMaterial(): Promise<Material> {
  const png = await productImage(11, { width: 96, height: 96 });
  return {
    png,
    jpeg: await encodeAs(png, 'jpeg'),
    webp: await encodeAs(png, 'webp'),
    gif: await encodeAs(png, 'gif'),
    thin: hugePng(39_000_000, 1),
    tall: hugePng(2, 30_000),
    bomb: hugePng(20_000, 20_000),
    oversized: randomBytes(10 * 1024 * 1024 + 4096, 5),
  };
}

const MAGIC: Record<string, Buffer> = {
  png: Buffer.from([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a]),
  jpeg: Buffer.from([0xff, 0xd8, 0xff, 0xe0]),
  gif: Buffer.from('GIF89a'),
  webp: Buffer.concat([Buffer.from('RIFF'), Buffer.from([0x10, 0, 0, 0]), Buffer.from('WEBPVP8 ')]),
};

function form(
  boundary: string,
  parts: { name: string; filename?: string; type?: string; body: Buffer | string }[],
  close = true,
): Buffer {
  const chunks: Buffer[] = [];
  for (const p of parts) {
    const disposition = `form-data; name="${p.name}"${p.filename !== undefined ? `; filename="${p.filename}"` : ''}`;
    const head = `--${boundary}\r\ncontent-disposition: ${disposition}\r\n${p.type ? `content-type: ${p.type}\r\n` : ''}\r\n`;
    chunks.push(
      Buffer.from(head, 'latin1'),
      Buffer.isBuffer(p.body) ? p.body : Buffer.from(p.body),
      Buffer.from('\r\n'),
    );
  }
  if (close) chunks.push(Buffer.from(`--${boundary}--\r\n`));
  return Buffer.concat(chunks);
}

/** A well-formed GraphQL multipart upload of `file` (one search), as the spec lays it out. */
function upload(
  file: Buffer,
  opts: {
    filename?: string;
    query?: string;
    variables?: Record<string, unknown>;
    map?: string;
    boundary?: string;
  } = {},
) {
  const boundary = opts.boundary ?? 'hostile-boundary-7MA4YWxkTrZu0gW';
  const operations = JSON.stringify({ query: opts.query ?? SEARCH, variables: { i: null, k: 3, ...opts.variables } });
  return {
    boundary,
    body: form(boundary, [
      { name: 'operations', body: operations },
      { name: 'map', body: opts.map ?? '{"0":["variables.i"]}' },
      { name: '0', filename: opts.filename ?? 'photo.png', type: 'image/png', body: file },
    ]),
  };
}

const multipart = (kind: string, boundaryHeader: string, body: Buffer, path = '/graphql'): HostileRequest => ({
  kind,
  method: 'POST',
  path,
  headers: { ...PREFLIGHT, 'content-type': `multipart/form-data${boundaryHeader}` },
  body,
});

const json = (kind: string, body: string | Buffer, headers: Record<string, string> = {}): HostileRequest => ({
  kind,
  method: 'POST',
  path: '/graphql',
  headers: { ...PREFLIGHT, 'content-type': 'application/json', ...headers },
  body: Buffer.isBuffer(body) ? body : Buffer.from(body),
});

const aliases = (n: number, field: string) => `{ ${Array.from({ length: n }, (_, i) => `a${i}: ${field}`).join(' ')} }`;

/**
 * `count` hostile requests from `seed`, cycling through the generators below with random
 * parameters (the same seed gives the same corpus). Made one at a time as they are taken: a few
 * hundred 10 MB uploads must not all be in memory at once.
 */
export function* hostileCorpus(material: Material, count: number, seed = 13): Generator<HostileRequest> {
  const r = rng(seed);
  const int = (n: number) => Math.floor(r() * n);
  const pick = <T>(xs: readonly T[]): T => xs[int(xs.length)]!;
  const image = () => pick([material.png, material.jpeg, material.webp, material.gif]);
  const garbage = (n = 64 + int(4000)) => randomBytes(n, int(1e9));

  const generators: (() => HostileRequest)[] = [
    // Multipart framing.
    () => multipart('multipart without boundary', '', garbage(1 + int(200))),
    () =>
      multipart(
        'multipart with an empty or overlong boundary',
        pick(['; boundary=', '; boundary=""', `; boundary=${'b'.repeat(71 + int(200))}`]),
        garbage(100),
      ),
    () =>
      multipart(
        'multipart with a boundary but no form',
        '; boundary=abc',
        Buffer.from(pick(['x', '', '--abc', '--abc\r\n', '--abc--'])),
      ),
    () => {
      const { boundary, body } = upload(image());
      return multipart('truncated form', `; boundary=${boundary}`, body.subarray(0, int(body.length)));
    },
    () => {
      const { boundary, body } = upload(image(), {
        filename: pick(['a\u0000b.png', '\u0000', 'x\r\ny.png', '"'.repeat(3), '../../etc/passwd', 'é'.repeat(300)]),
      });
      return multipart('bad file name', `; boundary=${boundary}`, body);
    },
    () => {
      const boundary = 'b0undary';
      const head = pick([
        'content-disposition: form-data\r\n',
        'garbage\r\n',
        `x-${'h'.repeat(100_000)}: 1\r\n`,
        'content-disposition: form-data; name=\r\n',
        '\u0000\r\n',
      ]);
      const body = Buffer.concat([
        Buffer.from(`--${boundary}\r\n${head}\r\n`),
        garbage(200),
        Buffer.from(`\r\n--${boundary}--\r\n`),
      ]);
      return multipart('malformed part headers', `; boundary=${boundary}`, body);
    },
    () => {
      const { boundary, body } = upload(image(), {
        map: pick([
          'not json',
          '[]',
          '{"0":"variables.i"}',
          '{"0":["variables.missing.deep"]}',
          '{"1":["variables.i"]}',
          '{"0":["variables.i"],"1":["variables.i"]}',
          'null',
        ]),
      });
      return multipart('bad map field', `; boundary=${boundary}`, body);
    },
    () => {
      const boundary = 'opsbound';
      const ops = pick([
        '{',
        'null',
        '"a string"',
        '[1,2]',
        '{"query": 5}',
        '{"variables": []}',
        JSON.stringify({ query: SEARCH, variables: { i: 'not an upload' } }),
      ]);
      const body = form(boundary, [
        { name: 'operations', body: ops },
        { name: 'map', body: '{"0":["variables.i"]}' },
        { name: '0', filename: 'a.png', type: 'image/png', body: image() },
      ]);
      return multipart('bad operations field', `; boundary=${boundary}`, body);
    },
    () => {
      const boundary = 'manyfiles';
      const files = 11 + int(20);
      const map = Object.fromEntries(Array.from({ length: files }, (_, i) => [String(i), [`variables.i`]]));
      const parts = [
        { name: 'operations', body: JSON.stringify({ query: SEARCH, variables: { i: null } }) },
        { name: 'map', body: JSON.stringify(map) },
        ...Array.from({ length: files }, (_, i) => ({
          name: String(i),
          filename: `${i}.png`,
          type: 'image/png',
          body: material.png,
        })),
      ];
      return multipart('too many files', `; boundary=${boundary}`, form(boundary, parts));
    },
    () => {
      const { boundary, body } = upload(Buffer.concat([material.jpeg, material.oversized]));
      return multipart('file over the upload limit', `; boundary=${boundary}`, body);
    },
    // Images that lie.
    () => {
      const kind = pick(Object.keys(MAGIC));
      const { boundary, body } = upload(Buffer.concat([MAGIC[kind]!, garbage()]));
      return multipart(`random bytes behind ${kind} magic`, `; boundary=${boundary}`, body);
    },
    () => {
      const { boundary, body } = upload(truncated(image(), 0.1 + r() * 0.8));
      return multipart('truncated image', `; boundary=${boundary}`, body);
    },
    () => {
      const { boundary, body } = upload(pick([material.thin, material.tall, material.bomb]));
      return multipart('thin, tall or huge image', `; boundary=${boundary}`, body);
    },
    () => {
      const { boundary, body } = upload(
        pick([svgImage(int(100)), Buffer.alloc(0), garbage(), Buffer.from('%PDF-1.4\n')]),
      );
      return multipart('not an image', `; boundary=${boundary}`, body);
    },
    () => {
      const { boundary, body } = upload(image(), { variables: { k: pick([0, -1, 101, 1e9, 2.5, 'ten', null]) } });
      return multipart('bad search arguments', `; boundary=${boundary}`, body);
    },
    // JSON bodies and abusive operations.
    () =>
      json(
        'malformed JSON',
        pick(['{', '{"query": ', '[', 'null', '"x"', '{"query": "{ __typename }"', '\u0000\u0001', '{}']),
      ),
    () =>
      json(
        'JSON over the body limit',
        JSON.stringify({ query: '{ __typename }', variables: { pad: 'x'.repeat(1_048_577 + int(100_000)) } }),
      ),
    () =>
      json(
        'wrong JSON types',
        JSON.stringify(
          pick([
            { query: 5 },
            { query: '{ __typename }', variables: 'x' },
            { query: ['a'] },
            { query: '{ __typename }', operationName: 7 },
            { query: '{ __typename }', extensions: 'x' },
          ]),
        ),
      ),
    () =>
      json(
        'GraphQL syntax error',
        JSON.stringify({
          query: pick(['{', 'query {', '{ similarProducts(', '}{', 'mutation', '{ a b c '.repeat(50)]),
        }),
      ),
    () =>
      json(
        'unknown fields',
        JSON.stringify({
          query: pick([
            '{ nothing }',
            '{ similarProducts { nope } }',
            '{ __schema { nope } }',
            '{ products(first: "x") { edges { node { id } } } }',
          ]),
        }),
      ),
    () =>
      json(
        'many aliases',
        JSON.stringify({
          query: aliases(
            200 + int(2000),
            pick(['__typename', 'catalogStats { products }', 'products(first: 100) { edges { node { id title } } }']),
          ),
        }),
      ),
    () =>
      json(
        'many searches',
        JSON.stringify({
          query: aliases(
            5 + int(300),
            `similarProducts(productId: "${'00000000-0000-0000-0000-000000000000'}", rerank: true) { id }`,
          ),
        }),
      ),
    () => json('too many tokens', JSON.stringify({ query: `{ ${'__typename '.repeat(6000 + int(20_000))} }` })),
    () =>
      json(
        'deep nesting',
        JSON.stringify({
          query: `{ ${'products(first: 1) { edges { node { id } } } '.repeat(1)}${'{'.repeat(500)}${'}'.repeat(500)} }`,
        }),
      ),
    () =>
      json(
        'fragment cycle',
        JSON.stringify({ query: 'query { ...A } fragment A on Query { ...B } fragment B on Query { ...A }' }),
      ),
    () =>
      json(
        'bad image URL',
        JSON.stringify({
          query: 'query($u: String) { similarProducts(imageUrl: $u) { id } }',
          variables: {
            u: pick([
              'file:///etc/passwd',
              'http://127.0.0.1:1/x',
              'http://169.254.169.254/latest',
              'gopher://x',
              'not a url',
              'http://[::1]/',
              'http://0x7f000001/',
            ]),
          },
        }),
      ),
    () =>
      json(
        'huge list argument',
        JSON.stringify({
          query: 'query($c: [String!]) { products(first: 5, filter: { category: $c }) { edges { node { id } } } }',
          variables: { c: Array.from({ length: 20_000 }, (_, i) => `c${i}`) },
        }),
      ),
    () =>
      json(
        'bad search ids',
        JSON.stringify({
          query: 'mutation($s: ID!) { rerankSearch(searchId: $s, candidates: 5000) { id } }',
          variables: { s: pick(['x', "'; DROP TABLE searches; --", '00000000-0000-0000-0000-000000000000']) },
        }),
      ),
    () => ({
      kind: 'no CSRF preflight',
      method: 'POST',
      path: '/graphql',
      headers: {
        'content-type': pick(['text/plain', 'application/x-www-form-urlencoded', 'multipart/form-data; boundary=x']),
      },
      body: garbage(50),
    }),
    () =>
      json('bad charset', '{"query":"{ __typename }"}', {
        'content-type': pick(['application/json; charset=utf-7', 'application/json; charset=nope']),
      }),
    () => json('bad content encoding', garbage(100), { 'content-encoding': pick(['gzip', 'deflate', 'br', 'x-nope']) }),
    () => ({
      kind: 'GET with a bad query string',
      method: 'GET',
      path: `/graphql?query=${pick(['%E0%A4%A', '{', encodeURIComponent(aliases(500, '__typename')), '%00'])}`,
      headers: PREFLIGHT,
      body: Buffer.alloc(0),
    }),
    // The REST face.
    () => ({
      kind: 'REST: multipart without boundary',
      method: 'POST',
      path: '/api/match',
      headers: { 'content-type': 'multipart/form-data' },
      body: garbage(1 + int(100)),
    }),
    () => {
      const { boundary, body } = upload(pick([garbage(), truncated(image(), 0.3), material.thin]), {
        boundary: 'restbound',
      });
      return {
        kind: 'REST: bad upload',
        method: 'POST',
        path: `/api/match?topK=${pick(['3', '0', 'x', '1000'])}`,
        headers: { 'content-type': `multipart/form-data; boundary=${boundary}` },
        body: body.subarray(0, r() < 0.5 ? body.length : int(body.length)),
      };
    },
    () => ({
      kind: 'REST: raw image body',
      method: 'POST',
      path: '/api/match',
      headers: { 'content-type': pick(['image/png', 'image/jpeg']) },
      body: pick([garbage(), material.thin, truncated(material.jpeg, 0.5)]),
    }),
  ];
  for (let i = 0; i < count; i++) yield generators[i % generators.length]!();
}
