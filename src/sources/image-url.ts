import { AppError } from '../errors.js';

export interface FetchImageOptions {
  timeoutMs: number;
  maxBytes: number;
  userAgent?: string;
}

/** Downloads an image for a query by URL: http(s) only, bounded in time and size. */
export async function fetchImage(url: string, options: FetchImageOptions): Promise<Buffer> {
  let parsed: URL;
  try {
    parsed = new URL(url);
  } catch {
    throw new AppError('BAD_USER_INPUT', 'imageUrl is not a valid URL.');
  }
  if (parsed.protocol !== 'http:' && parsed.protocol !== 'https:') {
    throw new AppError('BAD_USER_INPUT', 'imageUrl must be an http or https URL.');
  }
  let response: Response;
  try {
    response = await fetch(parsed, {
      signal: AbortSignal.timeout(options.timeoutMs),
      headers: { 'user-agent': options.userAgent ?? 'visual-product-search', accept: 'image/*' },
      redirect: 'follow',
    });
  } catch (error) {
    const timedOut = (error as Error).name === 'TimeoutError';
    throw new AppError(
      'IMAGE_FETCH_FAILED',
      timedOut ? `The image URL did not answer within ${options.timeoutMs} ms.` : 'The image URL could not be reached.',
    );
  }
  if (!response.ok) {
    await response.body?.cancel();
    throw new AppError('IMAGE_FETCH_FAILED', `The image URL answered HTTP ${response.status}.`);
  }
  const declared = Number(response.headers.get('content-length') ?? 0);
  if (declared > options.maxBytes) {
    await response.body?.cancel();
    throw new AppError('IMAGE_TOO_LARGE', `The image at that URL is larger than ${options.maxBytes} bytes.`);
  }
  const chunks: Buffer[] = [];
  let size = 0;
  for await (const chunk of response.body as unknown as AsyncIterable<Uint8Array>) {
    size += chunk.byteLength;
    if (size > options.maxBytes) {
      throw new AppError('IMAGE_TOO_LARGE', `The image at that URL is larger than ${options.maxBytes} bytes.`);
    }
    chunks.push(Buffer.from(chunk));
  }
  return Buffer.concat(chunks);
}
