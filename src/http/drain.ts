// Graceful stop of the HTTP server: no new connections, in-flight requests finish (up to a bound),
// then whatever is left is cut off.
import type { Server } from 'node:http';

/**
 * Stops accepting, lets requests in flight finish for up to `timeoutMs`, then closes every
 * connection. Resolves true when all requests finished in time.
 */
export async function drainServer(server: Server, timeoutMs: number): Promise<boolean> {
  const closed = new Promise<true>((resolve) => server.close(() => resolve(true)));
  // A keep-alive connection goes idle when its request is answered: close it then, not at the deadline.
  const idle = setInterval(() => server.closeIdleConnections(), 50);
  let timer: NodeJS.Timeout | undefined;
  const deadline = new Promise<false>((resolve) => (timer = setTimeout(() => resolve(false), timeoutMs)));
  try {
    return await Promise.race([closed, deadline]);
  } finally {
    clearInterval(idle);
    clearTimeout(timer);
    server.closeAllConnections();
  }
}
