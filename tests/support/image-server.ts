// A local HTTP server that serves the images a test puts in `served` (path → JPEG bytes), for
// search-by-URL tests; anything else is a 404.
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';

export interface ImageServer {
  /** http://127.0.0.1:<port> */
  base: string;
  served: Map<string, Buffer>;
  close(): void;
}

export async function startImageServer(): Promise<ImageServer> {
  const served = new Map<string, Buffer>();
  const server = createServer((req, res) => {
    const body = served.get(req.url ?? '');
    if (!body) return void res.writeHead(404).end('no');
    res.writeHead(200, { 'content-type': 'image/jpeg' }).end(body);
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  return { base: `http://127.0.0.1:${(server.address() as AddressInfo).port}`, served, close: () => server.close() };
}
