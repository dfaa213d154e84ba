// The ingest scraper's outbound HTTP: a polite client for store APIs and image hosts.
import pLimit from 'p-limit';
import { BodyTooLargeError, readCappedBody } from './capped-body.js';

export interface HttpClientOptions {
  /** Requests in flight at once. */
  concurrency: number;
  /** Request starts per second across all requests (0: no limit). */
  ratePerSecond: number;
  /** Per attempt, headers and body together. */
  timeoutMs: number;
  /** Further attempts after a network error, a timeout, a 5xx or a 429. */
  retries: number;
  userAgent: string;
  /** Largest body accepted. */
  maxBytes: number;
  /** First backoff delay; doubles per attempt (with jitter). */
  backoffMs?: number;
  /** Longest wait honoured from a Retry-After header or backoff. */
  maxWaitMs?: number;
  signal?: AbortSignal;
}

/** A request that failed for good. `status` is the last HTTP status, if any answer came. */
export class FetchError extends Error {
  constructor(
    message: string,
    readonly status?: number,
  ) {
    super(message);
    this.name = 'FetchError';
  }
}

const sleep = (ms: number, signal?: AbortSignal) =>
  new Promise<void>((resolve, reject) => {
    if (signal?.aborted) return reject(signal.reason);
    const timer = setTimeout(() => {
      signal?.removeEventListener('abort', onAbort);
      resolve();
    }, ms);
    const onAbort = () => {
      clearTimeout(timer);
      reject(signal!.reason);
    };
    signal?.addEventListener('abort', onAbort, { once: true });
  });

/** Seconds or an HTTP date, as milliseconds from now; undefined when absent or unreadable. */
export function retryAfterMs(header: string | null, now = Date.now()): number | undefined {
  if (!header) return undefined;
  const seconds = Number(header);
  if (Number.isFinite(seconds)) return Math.max(0, seconds * 1000);
  const date = Date.parse(header);
  return Number.isNaN(date) ? undefined : Math.max(0, date - now);
}

/**
 * A polite HTTP client for scraping a store: a concurrency limit, a request rate, a custom
 * User-Agent, a timeout per attempt, and retries with exponential backoff on network errors,
 * 5xx and 429, honouring Retry-After. Waiting between attempts holds no concurrency slot.
 */
export class HttpClient {
  private readonly limit: ReturnType<typeof pLimit>;
  private nextStart = 0;

  constructor(private readonly options: HttpClientOptions) {
    this.limit = pLimit(options.concurrency);
  }

  async json(url: string): Promise<unknown> {
    const body = await this.get(url, 'application/json');
    try {
      return JSON.parse(body.toString('utf8'));
    } catch {
      throw new FetchError(`${url} did not answer with JSON`);
    }
  }

  bytes(url: string): Promise<Buffer> {
    return this.get(url, 'image/*');
  }

  private async get(url: string, accept: string): Promise<Buffer> {
    const { retries, signal } = this.options;
    const backoff = this.options.backoffMs ?? 500;
    const maxWait = this.options.maxWaitMs ?? 60_000;
    for (let attempt = 0; ; attempt++) {
      const outcome = await this.limit(() => this.attempt(url, accept));
      if ('body' in outcome) return outcome.body;
      if (!outcome.retryable || attempt >= retries) {
        throw new FetchError(attempt > 0 ? `${outcome.reason} (after ${attempt + 1} attempts)` : outcome.reason, outcome.status);
      }
      const exponential = backoff * 2 ** attempt * (0.5 + Math.random() / 2);
      await sleep(Math.min(maxWait, outcome.retryAfterMs ?? exponential), signal);
    }
  }

  private async attempt(
    url: string,
    accept: string,
  ): Promise<{ body: Buffer } | { retryable: boolean; reason: string; status?: number; retryAfterMs?: number }> {
    await this.takeRateSlot();
    const { timeoutMs, signal, maxBytes } = this.options;
    const timeout = AbortSignal.timeout(timeoutMs);
    const combined = signal ? AbortSignal.any([signal, timeout]) : timeout;
    try {
      const response = await fetch(url, {
        signal: combined,
        headers: { 'user-agent': this.options.userAgent, accept },
        redirect: 'follow',
      });
      if (!response.ok) {
        await response.body?.cancel();
        const retryable = response.status === 429 || response.status >= 500;
        return { retryable, status: response.status, reason: `HTTP ${response.status}`, retryAfterMs: retryAfterMs(response.headers.get('retry-after')) };
      }
      return { body: await readCappedBody(response, maxBytes) };
    } catch (error) {
      if (error instanceof BodyTooLargeError) return { retryable: false, reason: `larger than ${maxBytes} bytes` };
      if (signal?.aborted) throw signal.reason;
      const timedOut = timeout.aborted;
      const cause = (error as { cause?: { code?: string } }).cause?.code;
      return { retryable: true, reason: timedOut ? `timed out after ${timeoutMs} ms` : `network error${cause ? ` (${cause})` : ''}` };
    }
  }

  /** Spaces request starts 1/rate seconds apart. */
  private async takeRateSlot(): Promise<void> {
    const { ratePerSecond, signal } = this.options;
    if (ratePerSecond <= 0) return;
    const now = Date.now();
    const start = Math.max(now, this.nextStart);
    this.nextStart = start + 1000 / ratePerSecond;
    if (start > now) await sleep(start - now, signal);
  }
}
