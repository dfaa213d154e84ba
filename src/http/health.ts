// Liveness and readiness. /healthz answers whether the process serves HTTP at all, without any
// I/O, so that it stays fast under overload and a database outage does not get the process
// restarted. /readyz checks each component the API needs and answers 503 when one is not ready
// (a load balancer then sends traffic elsewhere), with a JSON body that says which.
import type express from 'express';

/** One component's state: ok, and whatever tells an operator more. */
export type ComponentStatus = { ok: boolean } & Record<string, unknown>;

export interface HealthOptions {
  /** Static facts for /healthz (database kind, model, provider). */
  info: () => Record<string, unknown>;
  /** The readiness checks by component name; a check that throws or is slow counts as not ready. */
  checks: Record<string, () => Promise<ComponentStatus>>;
}

/** A check slower than this counts as failed: a hung database must not hang the probe. */
const CHECK_TIMEOUT_MS = 2000;

export function healthRoutes(app: express.Express, options: HealthOptions): void {
  app.get('/healthz', (_req, res) => void res.set('cache-control', 'no-store').json({ ok: true, ...options.info() }));
  app.get('/readyz', async (_req, res) => {
    const names = Object.keys(options.checks);
    const results = await Promise.all(names.map((name) => runCheck(options.checks[name]!)));
    const components = Object.fromEntries(names.map((name, i) => [name, results[i]]));
    const ready = results.every((r) => r.ok);
    res
      .status(ready ? 200 : 503)
      .set('cache-control', 'no-store')
      .json({ ready, components });
  });
}

async function runCheck(check: () => Promise<ComponentStatus>): Promise<ComponentStatus> {
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<ComponentStatus>((resolve) => {
    timer = setTimeout(
      () => resolve({ ok: false, error: `no answer within ${CHECK_TIMEOUT_MS} ms` }),
      CHECK_TIMEOUT_MS,
    );
  });
  try {
    return await Promise.race([check(), timeout]);
  } catch (error) {
    return { ok: false, error: error instanceof Error ? error.message.split('\n')[0] : String(error) };
  } finally {
    clearTimeout(timer);
  }
}
