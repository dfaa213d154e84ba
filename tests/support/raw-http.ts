// Raw HTTP for hostile requests: the headers and body exactly as given (no client library that
// would add a boundary or fix a length), the answer classified as the hardening goals count it.
import http from 'node:http';
import { ERROR_CODES } from '../../src/errors.js';

export interface RawAnswer {
  status: number;
  headers: http.IncomingHttpHeaders;
  body: string;
  ms: number;
}

export interface RawRequest {
  method: string;
  path: string;
  headers: Record<string, string>;
  body: Buffer;
}

/** Sends one request on a connection of its own; 'timeout' when no answer came within `timeoutMs`, 'reset' when the connection broke. */
export function sendRaw(base: string, req: RawRequest, timeoutMs = 30_000): Promise<RawAnswer | 'timeout' | 'reset'> {
  const url = new URL(req.path, base);
  const started = performance.now();
  return new Promise((resolve) => {
    const r = http.request(
      url,
      {
        method: req.method,
        agent: false,
        headers: { ...req.headers, ...(req.method !== 'GET' && { 'content-length': String(req.body.length) }) },
      },
      (res) => {
        const chunks: Buffer[] = [];
        res.on('data', (c: Buffer) => chunks.push(c));
        res.on('end', () =>
          resolve({
            status: res.statusCode ?? 0,
            headers: res.headers,
            body: Buffer.concat(chunks).toString('utf8'),
            ms: performance.now() - started,
          }),
        );
        res.on('error', () => resolve('reset'));
      },
    );
    r.setTimeout(timeoutMs, () => {
      resolve('timeout');
      r.destroy();
    });
    // The server may answer and close before the whole body is written (a refused upload).
    r.on('error', () => resolve('reset'));
    r.end(req.method === 'GET' ? undefined : req.body);
  });
}

/** Codes graphql-js and Apollo set themselves for requests they refuse. */
const FRAMEWORK_CODES = new Set([
  'GRAPHQL_PARSE_FAILED',
  'GRAPHQL_VALIDATION_FAILED',
  'BAD_REQUEST',
  'OPERATION_RESOLUTION_FAILURE',
  'PERSISTED_QUERY_NOT_FOUND',
  'PERSISTED_QUERY_NOT_SUPPORTED',
]);
const KNOWN_CODES = new Set([...Object.keys(ERROR_CODES), ...FRAMEWORK_CODES]);

/**
 * What an answer counts as: 'ok' (200 without errors), 'coded' (a 4xx, or a 200 with errors, each
 * with a known code that is not INTERNAL_SERVER_ERROR; or a 408 from the request timeout), '5xx'
 * (whatever the body), or 'uncoded'.
 */
export function classify(answer: RawAnswer): 'ok' | 'coded' | '5xx' | 'uncoded' {
  if (answer.status >= 500) return '5xx';
  if (answer.status === 408) return 'coded';
  let body: { errors?: { extensions?: { code?: string } }[]; error?: { code?: string }; data?: unknown };
  try {
    body = JSON.parse(answer.body);
  } catch {
    return 'uncoded';
  }
  const codes = body.errors ? body.errors.map((e) => e.extensions?.code) : body.error ? [body.error.code] : [];
  if (codes.length === 0) return answer.status === 200 ? 'ok' : 'uncoded';
  return codes.every((c) => c && KNOWN_CODES.has(c) && c !== 'INTERNAL_SERVER_ERROR') ? 'coded' : 'uncoded';
}

/** Runs `work` over `items` with at most `concurrency` at a time, taking each item only when a slot is free. */
export async function forEachConcurrently<T>(
  items: Iterable<T>,
  concurrency: number,
  work: (item: T) => Promise<void>,
): Promise<void> {
  const iterator = items[Symbol.iterator]();
  const worker = async () => {
    for (let next = iterator.next(); !next.done; next = iterator.next()) await work(next.value);
  };
  await Promise.all(Array.from({ length: concurrency }, worker));
}
