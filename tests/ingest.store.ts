// A real local HTTP server playing a store's paginated product API and its image host, for the
// ingest suites: pages at /api/products?p=<n>&rows=<size> (products under data.results.products),
// images at /img/<name>, and scripted misbehaviour (slow pages, one-off 5xx with Retry-After,
// pages held open until the test lets go).
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';

export type StoreProduct = Record<string, unknown>;

export interface StoreRequest {
  path: string;
  userAgent: string | undefined;
  at: number;
  status: number;
}

export class FakeStore {
  /** pages[0] is page 1; a page past the end is empty. */
  pages: StoreProduct[][] = [];
  readonly images = new Map<string, { bytes: Buffer; type: string }>();
  /** Path (with query) → extra delay in ms. */
  readonly slow = new Map<string, number>();
  /** Path → answers to give first, in order (then the normal answer). */
  readonly failFirst = new Map<string, { status: number; retryAfter?: string }[]>();
  /** Paths whose requests wait until release() (the resume test kills the client meanwhile). */
  readonly held = new Set<string>();
  readonly requests: StoreRequest[] = [];
  private server?: Server;
  private waiting: (() => void)[] = [];
  base = '';

  async start(): Promise<string> {
    this.server = createServer((req, res) => void this.handle(req, res));
    await new Promise<void>((resolve) => this.server!.listen(0, '127.0.0.1', resolve));
    this.base = `http://127.0.0.1:${(this.server.address() as AddressInfo).port}`;
    return this.base;
  }

  async stop(): Promise<void> {
    this.release();
    this.server?.closeAllConnections();
    await new Promise<void>((resolve) => this.server?.close(() => resolve()) ?? resolve());
  }

  release(): void {
    this.held.clear();
    for (const go of this.waiting.splice(0)) go();
  }

  addImage(name: string, bytes: Buffer, type = 'image/png'): string {
    this.images.set(`/img/${name}`, { bytes, type });
    return `${this.base}/img/${name}`;
  }

  pageUrl(page: number, rows: number): string {
    return `/api/products?p=${page}&rows=${rows}`;
  }

  requestsTo(path: string): StoreRequest[] {
    return this.requests.filter((r) => r.path === path);
  }

  private async handle(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const path = req.url ?? '/';
    const log = (status: number) => this.requests.push({ path, userAgent: req.headers['user-agent'], at: Date.now(), status });
    if (this.held.has(path)) await new Promise<void>((resolve) => this.waiting.push(resolve));
    const delay = this.slow.get(path);
    if (delay) await new Promise((r) => setTimeout(r, delay));
    const scripted = this.failFirst.get(path)?.shift();
    if (scripted) {
      log(scripted.status);
      res.writeHead(scripted.status, scripted.retryAfter ? { 'retry-after': scripted.retryAfter } : {}).end('try later');
      return;
    }
    const url = new URL(path, 'http://store');
    if (url.pathname === '/api/products') {
      const page = Number(url.searchParams.get('p'));
      const products = this.pages[page - 1] ?? [];
      log(200);
      res.writeHead(200, { 'content-type': 'application/json' }).end(JSON.stringify({ data: { results: { products } }, page }));
      return;
    }
    const image = this.images.get(url.pathname);
    log(image ? 200 : 404);
    if (!image) return void res.writeHead(404, { 'content-type': 'text/plain' }).end('not found');
    res.writeHead(200, { 'content-type': image.type, 'content-length': image.bytes.length }).end(image.bytes);
  }
}
