// Starts the real service (HTTP server, models, database) in-process for integration tests,
// on a fresh database of each backend: embedded PGlite, and a Postgres server when one with
// pgvector is reachable (TEST_DATABASE_URL).
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import pg from 'pg';
import { pino } from 'pino';
import { loadConfig } from '../../src/config.js';
import { startService, type RunningService } from '../../src/service.js';
import { needsSystem } from './system.js';

export interface Backend {
  name: 'embedded' | 'postgres';
}

export interface TestService {
  url: string;
  service: RunningService;
  dataDir: string;
  databaseUrl?: string;
  stop(): Promise<void>;
}

export const postgresAdminUrl = process.env.TEST_DATABASE_URL ?? 'postgresql://postgres@127.0.0.1:5432/postgres';

let postgresUsable: Promise<string | null> | undefined;

/** null when usable, else why not. Checked once per test file. */
function postgresProblem(): Promise<string | null> {
  postgresUsable ??= (async () => {
    const client = new pg.Client({ connectionString: postgresAdminUrl, connectionTimeoutMillis: 3000 });
    try {
      await client.connect();
      const { rows } = await client.query("SELECT 1 FROM pg_available_extensions WHERE name = 'vector'");
      return rows.length ? null : 'the server has no pgvector extension (bash scripts/install-pgvector.sh)';
    } catch (error) {
      return `no PostgreSQL server at ${postgresAdminUrl} (${(error as Error).message})`;
    } finally {
      await client.end().catch(() => undefined);
    }
  })();
  return postgresUsable;
}

/** The backends to run a suite on: always embedded; Postgres when usable (required in CI). */
export async function serviceBackends(): Promise<Backend[]> {
  const problem = await postgresProblem();
  const postgres = needsSystem('PostgreSQL with pgvector', problem === null, problem ?? '');
  return postgres ? [{ name: 'embedded' }, { name: 'postgres' }] : [{ name: 'embedded' }];
}

/** A fresh, empty Postgres database; returns its URL and a function that drops it. */
export async function createPostgresDatabase(): Promise<{ url: string; drop(): Promise<void> }> {
  const name = `vps_t_${Date.now().toString(36)}_${Math.random().toString(36).slice(2, 8)}`;
  const admin = new pg.Client({ connectionString: postgresAdminUrl });
  await admin.connect();
  await admin.query(`CREATE DATABASE ${name}`);
  await admin.end();
  const url = new URL(postgresAdminUrl);
  url.pathname = `/${name}`;
  return {
    url: url.toString(),
    async drop() {
      const c = new pg.Client({ connectionString: postgresAdminUrl });
      await c.connect();
      await c.query(`DROP DATABASE IF EXISTS ${name} WITH (FORCE)`);
      await c.end();
    },
  };
}

/** Starts the service with the shipped models on a fresh database; env overrides config. */
export async function startTestService(backend: Backend, env: Record<string, string> = {}): Promise<TestService> {
  const dataDir = await mkdtemp(path.join(tmpdir(), 'vps-test-'));
  const database = backend.name === 'postgres' ? await createPostgresDatabase() : null;
  const config = loadConfig({
    PORT: '0',
    HOST: '127.0.0.1',
    DATA_DIR: dataDir,
    MODELS_DIR: path.resolve('models'),
    ML_PROVIDERS: 'cpu',
    LOG_LEVEL: 'warn',
    ...(database ? { DATABASE_URL: database.url } : {}),
    ...env,
  });
  const logger = pino({ level: config.LOG_LEVEL });
  try {
    const service = await startService(config, logger);
    return {
      url: service.url,
      service,
      dataDir,
      databaseUrl: database?.url,
      async stop() {
        await service.close();
        await database?.drop();
        await rm(dataDir, { recursive: true, force: true });
      },
    };
  } catch (error) {
    await database?.drop();
    await rm(dataDir, { recursive: true, force: true });
    throw error;
  }
}
