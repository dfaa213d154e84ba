// The capped body reader both downloaders use (search by URL, the ingest HTTP client), on real
// Response objects over streams.
import { describe, expect, it } from 'vitest';
import { BodyTooLargeError, readCappedBody } from '../src/fetch/capped-body.js';

/** A body streamed in the given chunks, recording how many were pulled and whether it was cancelled. */
function streamed(chunks: number[], headers: Record<string, string> = {}) {
  const seen = { pulled: 0, cancelled: false };
  let next = 0;
  const body = new ReadableStream<Uint8Array>(
    {
      pull(controller) {
        if (next === chunks.length) return controller.close();
        seen.pulled++;
        controller.enqueue(new Uint8Array(chunks[next]!).fill(next + 1));
        next++;
      },
      cancel() {
        seen.cancelled = true;
      },
    },
    { highWaterMark: 0 },
  );
  return { response: new Response(body, { headers }), seen };
}

async function tooLarge(p: Promise<unknown>): Promise<BodyTooLargeError> {
  const err = await p.then(
    () => undefined,
    (e: unknown) => e,
  );
  expect(err).toBeInstanceOf(BodyTooLargeError);
  return err as BodyTooLargeError;
}

describe('readCappedBody', () => {
  it('returns the whole body when it fits, up to exactly the limit', async () => {
    const { response } = streamed([3, 4, 3]);
    const body = await readCappedBody(response, 10);
    expect([...body]).toEqual([1, 1, 1, 2, 2, 2, 2, 3, 3, 3]);
  });

  it('refuses a body whose Content-Length is over the limit without reading it', async () => {
    const { response, seen } = streamed([5], { 'content-length': '11' });
    const err = await tooLarge(readCappedBody(response, 10));
    expect([err.code, err.maxBytes]).toEqual(['BODY_TOO_LARGE', 10]);
    expect(seen).toEqual({ pulled: 0, cancelled: true });
  });

  it('stops reading a body without a length once it passes the limit, and cancels the rest', async () => {
    const { response, seen } = streamed([4, 4, 4, 4, 4]);
    await tooLarge(readCappedBody(response, 10));
    expect(seen).toEqual({ pulled: 3, cancelled: true });
  });

  it('passes on the error of a stream that breaks off', async () => {
    const broken = new Error('connection reset');
    let sent = false;
    const body = new ReadableStream<Uint8Array>({
      pull(controller) {
        if (sent) return controller.error(broken);
        sent = true;
        controller.enqueue(new Uint8Array(2));
      },
    });
    await expect(readCappedBody(new Response(body), 10)).rejects.toBe(broken);
  });
});
