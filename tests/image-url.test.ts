import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { AppError } from '../src/errors.js';
import { fetchImage } from '../src/fetch/image-url.js';

const IMAGE = Buffer.alloc(2000, 7);
let server: Server;
let base: string;

beforeAll(async () => {
  server = createServer((req, res) => {
    const route = req.url ?? '';
    if (route === '/image') return void res.writeHead(200, { 'content-type': 'image/jpeg' }).end(IMAGE);
    if (route === '/hop') return void res.writeHead(302, { location: '/image' }).end();
    if (route === '/loop') return void res.writeHead(302, { location: '/loop' }).end();
    if (route === '/big') return void res.writeHead(200, { 'content-length': '999999' }).end();
    if (route === '/stream') {
      res.writeHead(200); // chunked, no length: the limit applies while reading
      const timer = setInterval(() => res.write(Buffer.alloc(1000)), 1);
      res.on('close', () => clearInterval(timer));
      return;
    }
    if (route === '/slow') return void setTimeout(() => res.writeHead(200).end(IMAGE), 2000);
    res.writeHead(500).end();
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
});
afterAll(() => {
  server.closeAllConnections();
  server.close();
});

const allowed = { timeoutMs: 500, maxBytes: 10_000, allowPrivate: true };
const guarded = { ...allowed, allowPrivate: false };

async function codeOf(pending: Promise<unknown>): Promise<string> {
  try {
    await pending;
  } catch (error) {
    expect(error).toBeInstanceOf(AppError);
    return (error as AppError).code;
  }
  throw new Error('expected an error');
}

describe('fetchImage (imageUrl downloads)', () => {
  it('downloads, following a redirect', async () => {
    expect(await fetchImage(`${base}/image`, allowed)).toEqual(IMAGE);
    expect(await fetchImage(`${base}/hop`, allowed)).toEqual(IMAGE);
  });

  it('refuses loopback and private addresses unless allowed, before connecting', async () => {
    for (const url of [`${base}/image`, 'http://localhost:1/x.jpg', 'http://10.1.2.3/x.jpg', 'http://192.168.0.9/x.jpg', 'http://[::1]:1/x.jpg', 'http://169.254.169.254/latest']) {
      expect(await codeOf(fetchImage(url, guarded)), url).toBe('BAD_USER_INPUT');
    }
  });

  it('bounds redirects, size and time, and reports HTTP failures', async () => {
    expect(await codeOf(fetchImage(`${base}/loop`, allowed))).toBe('IMAGE_FETCH_FAILED');
    expect(await codeOf(fetchImage(`${base}/big`, allowed))).toBe('IMAGE_TOO_LARGE');
    expect(await codeOf(fetchImage(`${base}/stream`, allowed))).toBe('IMAGE_TOO_LARGE');
    expect(await codeOf(fetchImage(`${base}/slow`, allowed))).toBe('IMAGE_FETCH_FAILED');
    expect(await codeOf(fetchImage(`${base}/missing`, allowed))).toBe('IMAGE_FETCH_FAILED');
  });

  it('accepts only http and https URLs', async () => {
    expect(await codeOf(fetchImage('file:///etc/passwd', allowed))).toBe('BAD_USER_INPUT');
    expect(await codeOf(fetchImage('not a url', allowed))).toBe('BAD_USER_INPUT');
  });
});
