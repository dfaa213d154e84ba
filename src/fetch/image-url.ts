// Search by URL: downloads the shopper's image from a URL, bounded in time and size and
// guarded against requests to private addresses.
import { lookup } from 'node:dns/promises';
import { BlockList, isIP } from 'node:net';
import { AppError } from '../errors.js';
import { BodyTooLargeError, readCappedBody } from './capped-body.js';

export interface FetchImageOptions {
  timeoutMs: number;
  maxBytes: number;
  /** Allow loopback and private-network addresses (off in production: a server-side request forgery guard). */
  allowPrivate: boolean;
  userAgent?: string;
}

const MAX_REDIRECTS = 3;

// Addresses a public image URL never needs: loopback, private, link-local, CGNAT, multicast, reserved.
const NON_PUBLIC = new BlockList();
for (const [net, prefix] of [['0.0.0.0', 8], ['10.0.0.0', 8], ['100.64.0.0', 10], ['127.0.0.0', 8], ['169.254.0.0', 16], ['172.16.0.0', 12], ['192.168.0.0', 16], ['198.18.0.0', 15], ['224.0.0.0', 3]] as const) {
  NON_PUBLIC.addSubnet(net, prefix, 'ipv4');
}
for (const [net, prefix] of [['::', 127], ['::ffff:0:0', 96], ['fc00::', 7], ['fe80::', 10], ['ff00::', 8]] as const) {
  NON_PUBLIC.addSubnet(net, prefix, 'ipv6');
}

/**
 * Downloads an image for a query by URL: http(s) only, bounded in time and size, and (unless
 * allowed) never from a loopback or private address, redirects included.
 */
export async function fetchImage(url: string, options: FetchImageOptions): Promise<Buffer> {
  const deadline = AbortSignal.timeout(options.timeoutMs);
  let target = parseUrl(url);
  for (let hop = 0; ; hop++) {
    if (!options.allowPrivate) await assertPublic(target);
    const response = await request(target, deadline, options);
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

async function assertPublic(url: URL): Promise<void> {
  const host = url.hostname.replace(/^\[|\]$/g, '');
  let addresses: { address: string; family: number }[];
  try {
    addresses = isIP(host) ? [{ address: host, family: isIP(host) }] : await lookup(host, { all: true });
  } catch {
    throw new AppError('IMAGE_FETCH_FAILED', 'The image URL’s host name could not be resolved.');
  }
  if (addresses.some((a) => NON_PUBLIC.check(a.address, a.family === 6 ? 'ipv6' : 'ipv4'))) {
    throw new AppError('BAD_USER_INPUT', 'imageUrl must point to a public address, not a local or private one.');
  }
}

async function request(url: URL, signal: AbortSignal, options: FetchImageOptions): Promise<Response> {
  try {
    return await fetch(url, {
      signal,
      redirect: 'manual',
      headers: { 'user-agent': options.userAgent ?? 'visual-product-search', accept: 'image/*' },
    });
  } catch (error) {
    const timedOut = (error as Error).name === 'TimeoutError';
    throw new AppError(
      'IMAGE_FETCH_FAILED',
      timedOut ? `The image URL did not answer within ${options.timeoutMs} ms.` : 'The image URL could not be reached.',
    );
  }
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
