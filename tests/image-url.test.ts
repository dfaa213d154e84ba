import type { LookupAddress } from 'node:dns';
import { createServer, type Server } from 'node:http';
import { connect, type AddressInfo } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { AppError } from '../src/errors.js';
import { fetchImage, isPublicAddress, type FetchImageOptions } from '../src/fetch/image-url.js';

const IMAGE = Buffer.alloc(2000, 7);
let server: Server;
let base: string;

beforeAll(async () => {
  server = createServer((req, res) => {
    const route = req.url ?? '';
    if (route === '/image') return void res.writeHead(200, { 'content-type': 'image/jpeg' }).end(IMAGE);
    if (route === '/hop') return void res.writeHead(302, { location: '/image' }).end();
    if (route === '/to-private') return void res.writeHead(302, { location: 'http://intranet.test/image' }).end();
    if (route === '/to-metadata') return void res.writeHead(302, { location: 'http://169.254.169.254/latest' }).end();
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

/**
 * Public hosts without a real network: a resolver that names public addresses, and connections
 * to the checked address handed to the local test server instead. Records what was resolved and
 * where each connection went.
 */
function publicInternet(table: Record<string, LookupAddress[]>) {
  const resolved: string[] = [];
  const connectedTo: string[] = [];
  const options: FetchImageOptions = {
    ...guarded,
    resolve: async (host) => {
      resolved.push(host);
      const answer = table[host];
      if (!answer) throw new Error(`ENOTFOUND ${host}`);
      return answer;
    },
    connect: (address, port) => {
      connectedTo.push(`${address.address}:${port}`);
      return connect(Number(new URL(base).port), '127.0.0.1');
    },
  };
  return { options, resolved, connectedTo };
}

describe('fetchImage: public hosts allowed, private ones refused, the connection pinned', () => {
  it('tells public IPv4 and IPv6 addresses from private, loopback, link-local and mapped ones', () => {
    for (const address of ['8.8.8.8', '1.1.1.1', '93.184.215.14', '2606:4700:4700::1111', '2001:4860:4860::8888', '::ffff:8.8.8.8', '64:ff9b::808:808']) {
      expect(isPublicAddress(address), address).toBe(true);
    }
    for (const address of ['127.0.0.1', '10.1.2.3', '172.16.5.4', '192.168.0.9', '169.254.169.254', '100.64.0.1', '0.0.0.0', '224.0.0.1', '::1', '::', 'fe80::1', 'fd00::1', '::ffff:127.0.0.1', '::ffff:7f00:1', '::ffff:a9fe:a9fe', '64:ff9b::7f00:1', 'not an ip']) {
      expect(isPublicAddress(address), address).toBe(false);
    }
  });

  it('downloads from a public IPv4 and a public IPv6 host, connecting to the address it checked', async () => {
    const net = publicInternet({
      'shop.test': [{ address: '93.184.215.14', family: 4 }],
      'v6.shop.test': [{ address: '2606:4700:4700::1111', family: 6 }],
    });
    expect(await fetchImage('http://shop.test/image', net.options)).toEqual(IMAGE);
    expect(await fetchImage('http://v6.shop.test:8080/image', net.options)).toEqual(IMAGE);
    expect(await fetchImage('http://8.8.8.8/image', net.options)).toEqual(IMAGE);
    expect(net.resolved).toEqual(['shop.test', 'v6.shop.test']); // once each: no second lookup to rebind
    expect(net.connectedTo).toEqual(['93.184.215.14:80', '2606:4700:4700::1111:8080', '8.8.8.8:80']);
  });

  it('refuses a name with any private address, and a redirect to a private host, before connecting', async () => {
    const net = publicInternet({
      'rebind.test': [
        { address: '93.184.215.14', family: 4 },
        { address: '127.0.0.1', family: 4 },
      ],
      'mapped.test': [{ address: '::ffff:10.0.0.1', family: 6 }],
      'shop.test': [{ address: '93.184.215.14', family: 4 }],
      'intranet.test': [{ address: '192.168.1.10', family: 4 }],
    });
    for (const url of ['http://rebind.test/image', 'http://mapped.test/image', 'http://[::ffff:127.0.0.1]/image', 'http://shop.test/to-private', 'http://shop.test/to-metadata']) {
      expect(await codeOf(fetchImage(url, net.options)), url).toBe('BAD_USER_INPUT');
    }
    // Only the redirecting public host was ever connected to.
    expect(net.connectedTo).toEqual(['93.184.215.14:80', '93.184.215.14:80']);
    expect(await codeOf(fetchImage('http://unknown.test/image', net.options))).toBe('IMAGE_FETCH_FAILED');
  });
});
