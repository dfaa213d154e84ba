// Starts the real service (HTTP server, models, database) in-process for integration tests, on a
// fresh database of each backend from ./databases.ts (embedded PGlite; Postgres when available).
import path from 'node:path';
import { pino } from 'pino';
import { loadConfig } from '../../src/config.js';
import { startService, type RunningService } from '../../src/service.js';
import { testBackends, type TestBackend } from './databases.js';

export type Backend = TestBackend;

export interface TestService {
  url: string;
  service: RunningService;
  dataDir: string;
  databaseUrl?: string;
  stop(): Promise<void>;
}

/** The backends to run a suite on: `describe.each(await serviceBackends())`. */
export async function serviceBackends(): Promise<Backend[]> {
  return testBackends();
}

/** A fresh, empty Postgres database (for a child process to open); drop() removes it. */
export async function createPostgresDatabase(): Promise<{ url: string; drop(): Promise<void> }> {
  const postgres = testBackends().find((b) => b.name === 'postgres');
  if (!postgres) throw new Error('no PostgreSQL test server');
  const fresh = await postgres.open({ migrate: false });
  await fresh.db.close();
  return { url: fresh.url!, drop: fresh.cleanup };
}

/** Starts the service with the shipped models on a fresh database; env overrides config. */
export async function startTestService(
  backend: Backend | { name: Backend['name'] },
  env: Record<string, string> = {},
): Promise<TestService> {
  const open = 'open' in backend ? backend.open : testBackends().find((b) => b.name === backend.name)?.open;
  if (!open) throw new Error(`no ${backend.name} test database available`);
  // A fresh, empty database; the service opens it itself and applies the migrations.
  const fresh = await open({ migrate: false });
  await fresh.db.close();
  const config = loadConfig({
    PORT: '0',
    HOST: '127.0.0.1',
    DATA_DIR: fresh.dataDir,
    MODELS_DIR: path.resolve(process.env.MODELS_DIR ?? 'models'),
    ML_PROVIDERS: 'cpu',
    LOG_LEVEL: 'warn',
    // Test servers for imageUrl run on loopback.
    IMAGE_URL_ALLOW_PRIVATE: 'true',
    // The drawn catalog: suites know its products (demo-catalog.ts); tests/demo.photos.test.ts loads the photos.
    DEMO_CATALOG: 'drawn',
    // Every test client is 127.0.0.1: the rate limit has its own test (tests/api.hardening.test.ts).
    RATE_LIMIT_PER_MINUTE: '0',
    ...(fresh.url ? { DATABASE_URL: fresh.url } : {}),
    ...env,
  });
  try {
    const service = await startService(config, pino({ level: config.LOG_LEVEL }));
    return {
      url: service.url,
      service,
      dataDir: fresh.dataDir,
      databaseUrl: fresh.url,
      async stop() {
        await service.close();
        await fresh.cleanup();
      },
    };
  } catch (error) {
    await fresh.cleanup();
    throw error;
  }
}
