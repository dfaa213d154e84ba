// Search by URL: downloads the shopper's image from a URL, bounded in time and size and
// guarded against requests to private addresses. The name is resolved once per hop, every
// address checked, and the connection made to the checked address (the agent's `lookup`), so
// a DNS answer that changes between the check and the connection (rebinding) cannot slip past.
import { lookup as dnsLookup, type LookupAddress } from 'node:dns';
import http from 'node:http';
import https from 'node:https';
import { BlockList, isIP, type LookupFunction, type Socket } from 'node:net';
import { Readable } from 'node:stream';
import { AppError } from '../errors.js';
import { BodyTooLargeError, readCappedBody } from './capped-body.js';

/** Name → addresses (the system resolver by default). */
export type Resolver = (hostname: string) => Promise<LookupAddress[]>;

export interface FetchImageOptions {
  timeoutMs: number;
  maxBytes: number;
  /** Allow loopback and private-network addresses (off in production: a server-side request forgery guard). */
  allowPrivate: boolean;
  userAgent?: string;
  resolve?: Resolver;
  /**
   * Opens the TCP connection to the checked address (default: a plain connection to it). Tests
   * use it to stand a local server in for a public host, with no real network.
   */
  connect?: (address: LookupAddress, port: number) => Socket;
}

const MAX_REDIRECTS = 3;

// Addresses a public image URL never needs: loopback, private, link-local, CGNAT, documentation,
// multicast, reserved. Two lists, one per family: node's BlockList matches an IPv4 address
// against IPv6 rules too (as ::ffff:a.b.c.d), so one mixed list would refuse every IPv4 host.
const NON_PUBLIC_V4 = new BlockList();
for (const [net, prefix] of [['0.0.0.0', 8], ['10.0.0.0', 8], ['100.64.0.0', 10], ['127.0.0.0', 8], ['169.254.0.0', 16], ['172.16.0.0', 12], ['192.0.0.0', 24], ['192.0.2.0', 24], ['192.168.0.0', 16], ['198.18.0.0', 15], ['198.51.100.0', 24], ['203.0.113.0', 24], ['224.0.0.0', 3]] as const) {
  NON_PUBLIC_V4.addSubnet(net, prefix, 'ipv4');
}
const NON_PUBLIC_V6 = new BlockList();
for (const [net, prefix] of [['::', 96], ['100::', 64], ['2001:db8::', 32], ['fc00::', 7], ['fe80::', 10], ['ff00::', 8]] as const) {
  NON_PUBLIC_V6.addSubnet(net, prefix, 'ipv6');
}

/** Whether an address may be fetched from without allowPrivate. */
export function isPublicAddress(address: string): boolean {
  const family = isIP(address);
  if (family === 4) return !NON_PUBLIC_V4.check(address, 'ipv4');
  if (family !== 6) return false;
  // IPv4-mapped (::ffff:a.b.c.d) and NAT64 (64:ff9b::a.b.c.d) addresses reach the IPv4 address inside.
  const groups = expandIPv6(address);
  const prefix = groups.slice(0, 6).map((g) => g.toString(16)).join(':');
  if (prefix === '0:0:0:0:0:ffff' || prefix === '64:ff9b:0:0:0:0') {
    const [hi, lo] = [groups[6]!, groups[7]!];
    return isPublicAddress([hi >> 8, hi & 255, lo >> 8, lo & 255].join('.'));
  }
  return !NON_PUBLIC_V6.check(address, 'ipv6');
}

/** The 8 groups of an IPv6 address as numbers (a dotted IPv4 tail counts as two). */
function expandIPv6(address: string): number[] {
  const withoutZone = address.split('%')[0]!;
  const dotted = /(\d+)\.(\d+)\.(\d+)\.(\d+)$/.exec(withoutZone);
  const hex = dotted
    ? withoutZone.slice(0, dotted.index) + [(+dotted[1]! << 8) | +dotted[2]!, (+dotted[3]! << 8) | +dotted[4]!].map((n) => n.toString(16)).join(':')
    : withoutZone;
  const [head, tail] = hex.split('::') as [string, string | undefined];
  const parse = (part: string | undefined) => (part ? part.split(':').map((g) => parseInt(g, 16)) : []);
  const left = parse(head);
  const right = parse(tail);
  return tail === undefined ? left : [...left, ...Array<number>(8 - left.length - right.length).fill(0), ...right];
}

const systemResolver: Resolver = (hostname) =>
  new Promise((resolve, reject) => dnsLookup(hostname, { all: true }, (err, addresses) => (err ? reject(err) : resolve(addresses))));

/**
 * Downloads an image for a query by URL: http(s) only, bounded in time and size, and (unless
 * allowed) never from a loopback or private address, redirects included.
 */
export async function fetchImage(url: string, options: FetchImageOptions): Promise<Buffer> {
  const deadline = AbortSignal.timeout(options.timeoutMs);
  let target = parseUrl(url);
  for (let hop = 0; ; hop++) {
    const address = await checkedAddress(target, options);
    const response = await request(target, address, deadline, options);
    const location = response.headers.get('location');
    if (response.status >= 300 && response.status < 400 && location) {
      await response.body?.cancel();
      if (hop >= MAX_REDIRECTS) throw new AppError('IMAGE_FETCH_FAILED', 'The image URL redirected too many times.');
      target = parseUrl(new URL(location, target).toString());
      continue;
    }
    if (!response.ok) {
      await response.body?.cancel();
      throw new AppError('IMAGE_FETCH_FAILED', `The image URL answered HTTP ${response.status}.`);
    }
    return readBody(response, options.maxBytes);
  }
}

function parseUrl(url: string): URL {
  let parsed: URL;
  try {
    parsed = new URL(url);
  } catch {
    throw new AppError('BAD_USER_INPUT', 'imageUrl is not a valid URL.');
  }
  if (parsed.protocol !== 'http:' && parsed.protocol !== 'https:') {
    throw new AppError('BAD_USER_INPUT', 'imageUrl must be an http or https URL.');
  }
  return parsed;
}

/** Resolves the host once and checks every address it has; returns the one to connect to. */
async function checkedAddress(url: URL, options: FetchImageOptions): Promise<LookupAddress> {
  const host = url.hostname.replace(/^\[|\]$/g, '');
  let addresses: LookupAddress[];
  try {
    addresses = isIP(host) ? [{ address: host, family: isIP(host) }] : await (options.resolve ?? systemResolver)(host);
  } catch {
    throw new AppError('IMAGE_FETCH_FAILED', 'The image URL’s host name could not be resolved.');
  }
  if (addresses.length === 0) throw new AppError('IMAGE_FETCH_FAILED', 'The image URL’s host name could not be resolved.');
  if (!options.allowPrivate && !addresses.every((a) => isPublicAddress(a.address))) {
    throw new AppError('BAD_USER_INPUT', 'imageUrl must point to a public address, not a local or private one.');
  }
  return addresses[0]!;
}

/** One GET to `url`, connected to `address` whatever the name resolves to by now. */
function request(url: URL, address: LookupAddress, signal: AbortSignal, options: FetchImageOptions): Promise<Response> {
  const pinned: LookupFunction = (_hostname, lookupOptions, callback) => {
    if (lookupOptions.all) callback(null, [address]);
    else callback(null, address.address, address.family);
  };
  // A fresh agent per request (no keep-alive): a pooled socket would skip the lookup.
  const agent = url.protocol === 'https:' ? new https.Agent({ lookup: pinned }) : new http.Agent({ lookup: pinned });
  if (options.connect) {
    const port = Number(url.port) || (url.protocol === 'https:' ? 443 : 80);
    agent.createConnection = () => options.connect!(address, port);
  }
  const client = url.protocol === 'https:' ? https : http;
  return new Promise<Response>((resolve, reject) => {
    const req = client.get(url, { agent, signal, headers: { 'user-agent': options.userAgent ?? 'visual-product-search', accept: 'image/*' } }, (res) => {
      const headers = new Headers();
      for (const [name, value] of Object.entries(res.headers)) {
        for (const v of Array.isArray(value) ? value : value === undefined ? [] : [value]) headers.append(name, v);
      }
      const status = res.statusCode ?? 502;
      // Statuses that carry no body (and that Response refuses one for).
      const body = [101, 204, 205, 304].includes(status) ? null : (Readable.toWeb(res) as ReadableStream<Uint8Array>);
      if (!body) res.resume();
      resolve(new Response(body, { status, headers }));
    });
    req.on('error', () => {
      const timedOut = signal.aborted;
      reject(
        new AppError(
          'IMAGE_FETCH_FAILED',
          timedOut ? `The image URL did not answer within ${options.timeoutMs} ms.` : 'The image URL could not be reached.',
        ),
      );
    });
  });
}

async function readBody(response: Response, maxBytes: number): Promise<Buffer> {
  try {
    return await readCappedBody(response, maxBytes);
  } catch (error) {
    if (error instanceof BodyTooLargeError) {
      throw new AppError('IMAGE_TOO_LARGE', `The image at that URL is larger than ${maxBytes} bytes.`);
    }
    throw new AppError('IMAGE_FETCH_FAILED', 'The image download broke off.');
  }
}
