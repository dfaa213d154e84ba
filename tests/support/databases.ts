// The database backends every DB-touching suite runs on:
//
//   import { testBackends } from './support/databases.js';
//   describe.each(testBackends())('catalog on $name', ({ open }) => {
//     let t: Awaited<ReturnType<typeof open>>;
//     beforeAll(async () => { t = await open(); });   // fresh, migrated database
//     afterAll(() => t?.cleanup());
//     it('…', async () => { await t.db.catalog.countProducts(); });
//   });
//
// embedded: PGlite in a fresh temp folder. postgres: a fresh database (vps_t_<random>) on the
// server at TEST_DATABASE_URL (default postgresql://postgres@127.0.0.1:5432/postgres), dropped in
// cleanup; listed only when that server answers and offers the `vector` extension, otherwise one
// [skip] line (or a failure under REQUIRE_SYSTEM_DEPS=1, as in .ci/run). `t.sql` reads and writes
// tables directly, for assertions about the schema itself (postgres: a connection of its own;
// embedded: the database's one PGlite connection, which nothing else can open).
import { spawnSync } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { existsSync, readFileSync } from 'node:fs';
import { cp, mkdtemp, rename, rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import pg from 'pg';
import pino from 'pino';
import { createClient, type Client } from '../../src/db/client.js';
import { searchSessionSettings } from '../../src/db/vector-search.js';
import type { SqlConnection } from '../../src/db/connections.js';
import { databaseOver, openDatabase, type Database, type OpenDatabaseOptions } from '../../src/db/index.js';
import { needsSystem } from './system.js';

export const TEST_DATABASE_URL = process.env.TEST_DATABASE_URL || 'postgresql://postgres@127.0.0.1:5432/postgres';

export interface OpenedBackend {
  db: Database;
  /** Plain SQL on the same database, beside the repositories (test assertions only). */
  sql<T = Record<string, unknown>>(query: string, params?: unknown[]): Promise<T[]>;
  /** The postgres database's URL (undefined for embedded). */
  url?: string;
  /** A fresh temp folder (the embedded database lives in <dataDir>/pgdata). */
  dataDir: string;
  /**
   * Another Database over the same connection with other settings (closed with this one, never by
   * itself); `onTransaction` is told of every transaction it opens on the client.
   */
  over(opts: Partial<Pick<OpenDatabaseOptions, 'efSearch' | 'vectorStorage'>>, onTransaction?: () => void): Database;
  cleanup(): Promise<void>;
}

export interface OpenOptions {
  /** Apply the migrations before returning (default true). */
  migrate?: boolean;
  efSearch?: number;
  /** Another migrations folder (migration tests). */
  migrationsDir?: string;
}

export interface TestBackend {
  name: 'embedded' | 'postgres';
  open(opts?: OpenOptions): Promise<OpenedBackend>;
}

const repoRoot = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../..');
const logger = pino({ level: process.env.TEST_LOG_LEVEL || 'silent' });

type Probe = { ok: true } | { ok: false; why: string };
let probe: Probe | undefined;

/**
 * Is the test server reachable with `vector` available? Asked once per test file, synchronously
 * (describe.each needs the list at collection time), by a short child process.
 */
export function probePostgres(): Probe {
  if (probe) return probe;
  const script = `
    import pg from 'pg';
    const c = new pg.Client({ connectionString: process.env.PROBE_URL, connectionTimeoutMillis: 3000 });
    try {
      await c.connect();
      const r = await c.query("SELECT count(*)::int AS n FROM pg_available_extensions WHERE name = 'vector'");
      console.log(JSON.stringify(r.rows[0].n > 0 ? { ok: true } : { ok: false, why: 'the server has no vector extension (run: sudo bash scripts/install-pgvector.sh)' }));
    } catch (e) {
      console.log(JSON.stringify({ ok: false, why: 'cannot connect (' + e.message + '); start PostgreSQL or set TEST_DATABASE_URL' }));
    } finally { await c.end().catch(() => {}); }`;
  const res = spawnSync(process.execPath, ['--input-type=module', '-e', script], {
    cwd: repoRoot,
    env: { ...process.env, PROBE_URL: TEST_DATABASE_URL },
    encoding: 'utf8',
    timeout: 15_000,
  });
  try {
    probe = JSON.parse(res.stdout.trim().split('\n').pop() ?? '') as Probe;
  } catch {
    probe = { ok: false, why: `probe failed: ${res.error?.message ?? res.stderr.trim().slice(0, 300)}` };
  }
  return probe;
}

function redact(url: string): string {
  const u = new URL(url);
  if (u.password) u.password = '***';
  return u.toString();
}

/**
 * PGlite's initdb takes 5-20 s on these machines; a fresh database is a copy of a bare (never
 * migrated) data folder made once per PGlite version and kept in the temp folder.
 */
async function pgliteTemplate(): Promise<string> {
  const version = (name: string) =>
    (JSON.parse(readFileSync(path.join(repoRoot, 'node_modules', name, 'package.json'), 'utf8')) as { version: string }).version;
  const dir = path.join(
    os.tmpdir(),
    `vps-pglite-template-${version('@electric-sql/pglite')}-${version('@electric-sql/pglite-pgvector')}`,
  );
  const pgdata = path.join(dir, 'pgdata');
  if (existsSync(path.join(pgdata, 'PG_VERSION'))) return pgdata;
  const building = await mkdtemp(path.join(os.tmpdir(), 'vps-pglite-building-'));
  const db = await openDatabase({ dataDir: building, efSearch: 100, logger });
  await db.close();
  try {
    await rename(building, dir);
  } catch {
    await rm(building, { recursive: true, force: true }); // another process made it first
  }
  return pgdata;
}

/** The Database and a SQL connection beside it (opened on first use). */
async function openWithSql(opts: Pick<OpenDatabaseOptions, 'url' | 'dataDir' | 'efSearch' | 'migrationsDir'>) {
  const client = await createClient({ url: opts.url, dataDir: opts.dataDir, logger, sessionSettings: searchSessionSettings(opts.efSearch ?? 100) });
  const db = databaseOver(client, opts, logger);
  let conn: Promise<SqlConnection> | undefined;
  return {
    db,
    over: (other: Partial<Pick<OpenDatabaseOptions, 'efSearch' | 'vectorStorage'>>, onTransaction?: () => void) =>
      databaseOver(onTransaction ? { ...client, prisma: watchTransactions(client.prisma, onTransaction) } : client, { ...opts, ...other }, logger),
    sql: async <T,>(query: string, params?: unknown[]) => (await (conn ??= client.connectForMigrations())).query<T>(query, params),
    async close() {
      if (conn) await (await conn).release();
      await db.close();
    },
  };
}

/** The same client, calling `onTransaction` whenever $transaction is. */
function watchTransactions(prisma: Client['prisma'], onTransaction: () => void): Client['prisma'] {
  return new Proxy(prisma, {
    get(target, prop) {
      const value = Reflect.get(target, prop, target) as unknown;
      if (typeof value !== 'function') return value;
      if (prop !== '$transaction') return value.bind(target);
      return (...args: unknown[]) => {
        onTransaction();
        return value.apply(target, args);
      };
    },
  });
}

async function openEmbedded(opts: OpenOptions = {}): Promise<OpenedBackend> {
  const template = await pgliteTemplate();
  const dataDir = await mkdtemp(path.join(os.tmpdir(), 'vps-test-'));
  await cp(template, path.join(dataDir, 'pgdata'), { recursive: true });
  const { db, sql, over, close } = await openWithSql({ dataDir, efSearch: opts.efSearch ?? 100, migrationsDir: opts.migrationsDir });
  try {
    if (opts.migrate !== false) await db.migrate();
  } catch (err) {
    await close();
    await rm(dataDir, { recursive: true, force: true });
    throw err;
  }
  return {
    db,
    sql,
    over,
    dataDir,
    async cleanup() {
      await close();
      await rm(dataDir, { recursive: true, force: true });
    },
  };
}

async function admin<T>(fn: (c: pg.Client) => Promise<T>): Promise<T> {
  const c = new pg.Client({ connectionString: TEST_DATABASE_URL, connectionTimeoutMillis: 5000 });
  await c.connect();
  try {
    return await fn(c);
  } finally {
    await c.end();
  }
}

async function openPostgres(opts: OpenOptions = {}): Promise<OpenedBackend> {
  const name = `vps_t_${randomBytes(6).toString('hex')}`;
  await admin((c) => c.query(`CREATE DATABASE ${name}`));
  const u = new URL(TEST_DATABASE_URL);
  u.pathname = `/${name}`;
  const url = u.toString();
  const dataDir = await mkdtemp(path.join(os.tmpdir(), 'vps-test-'));
  const drop = async () => {
    await admin((c) => c.query(`DROP DATABASE IF EXISTS ${name} WITH (FORCE)`));
    await rm(dataDir, { recursive: true, force: true });
  };
  let opened: Awaited<ReturnType<typeof openWithSql>>;
  try {
    opened = await openWithSql({ url, dataDir, efSearch: opts.efSearch ?? 100, migrationsDir: opts.migrationsDir });
  } catch (err) {
    await drop();
    throw new Error(`cannot open test database on ${redact(url)}: ${(err as Error).message}`, { cause: err });
  }
  const { db, sql, over, close } = opened;
  try {
    if (opts.migrate !== false) await db.migrate();
  } catch (err) {
    await close();
    await drop();
    throw err;
  }
  return {
    db,
    sql,
    over,
    url,
    dataDir,
    async cleanup() {
      await close();
      await drop();
    },
  };
}

/** The backends to run a suite on: embedded always, postgres when available (see above). */
export function testBackends(): TestBackend[] {
  const backends: TestBackend[] = [{ name: 'embedded', open: openEmbedded }];
  const p = probePostgres();
  if (needsSystem(`PostgreSQL with pgvector at ${redact(TEST_DATABASE_URL)}`, p.ok, p.ok ? '' : p.why)) {
    backends.push({ name: 'postgres', open: openPostgres });
  }
  return backends;
}
