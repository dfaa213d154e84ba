// Prisma client factory: embedded PGlite (with pgvector) when no URL is given, else node-postgres.
import { mkdir } from 'node:fs/promises';
import path from 'node:path';
import { PGlite } from '@electric-sql/pglite';
import { vector } from '@electric-sql/pglite-pgvector';
import { PrismaPg } from '@prisma/adapter-pg';
import pg from 'pg';
import { PrismaPGlite } from 'pglite-prisma-adapter';
import type pino from 'pino';
import { PrismaClient, type Prisma } from '../../generated/prisma/client.js';
import type { DatabaseKind } from './types.js';
import { pgliteConnector, postgresConnector, type MigrationConnector } from './connections.js';
import type { DriverStatement, DriverTransaction } from './scope.js';

export interface Client {
  kind: DatabaseKind;
  prisma: PrismaClient;
  /** A statement on Prisma's own connections, without its engine (src/db/scope.ts). */
  driver: DriverStatement;
  /** A transaction on the driver: the catalog's batch writes, without the engine's CPU per statement. */
  driverTransaction: DriverTransaction;
  /** Raw connections for the migrator (multi-statement scripts, session advisory locks). */
  connectForMigrations: MigrationConnector;
  /** Where the embedded database lives; undefined for Postgres. */
  pgdataDir?: string;
  /** host:port/database (no credentials), or `embedded` (readiness shows it: no file paths). */
  host: string;
  /** Settings every connection starts with (ClientOptions.sessionSettings). */
  sessionSettings: Record<string, string>;
  close(): Promise<void>;
}

export interface ClientOptions {
  url?: string;
  dataDir: string;
  logger: pino.Logger;
  /**
   * Settings (name → value) every connection starts with, as if the server's defaults: a
   * search whose settings these already are needs no transaction to make them LOCAL.
   */
  sessionSettings?: Record<string, string>;
  /** Postgres: the application_name its connections show in pg_stat_activity. */
  applicationName?: string;
}

export async function createClient(opts: ClientOptions): Promise<Client> {
  const settings = checkedSettings(opts.sessionSettings ?? {});
  return opts.url
    ? createPostgresClient(opts.url, settings, opts.logger, opts.applicationName)
    : createEmbeddedClient(opts.dataDir, settings, opts.logger);
}

function checkedSettings(settings: Record<string, string>): Record<string, string> {
  for (const [name, value] of Object.entries(settings)) {
    if (!/^[a-z_.]+$/.test(name) || !/^[a-z0-9_.]+$/.test(value)) throw new RangeError(`unsafe session setting ${name}=${value}`);
  }
  return settings;
}

/**
 * Postgres through node-postgres. Read replicas pass connect = false: one that is down must not
 * stop the service starting. Replicas get the primary's session settings: a search's fast path
 * relies on them.
 */
export async function createPostgresClient(
  url: string,
  sessionSettings: Record<string, string>,
  logger: pino.Logger,
  applicationName = 'vps',
  connect = true,
): Promise<Client> {
  const options = Object.entries(sessionSettings).map(([name, value]) => `-c ${name}=${value}`).join(' ');
  // Without a connect timeout a pool waits forever for an unreachable server.
  const pool = new pg.Pool({ connectionString: url, connectionTimeoutMillis: 5000, application_name: applicationName, ...(options && { options }) });
  // Idle connections the server ends (a restart, a dropped database) report here, for as long as
  // the pool lives: Prisma's adapter listens only while it is connected.
  pool.on('error', (err) => logger.error({ err }, 'postgres pool error'));
  const adapter = new PrismaPg(pool, {
    onConnectionError: (err) => logger.warn({ err }, 'postgres connection error'),
  });
  const prisma = new PrismaClient({ adapter });
  if (connect) await prisma.$connect();
  logger.debug({ host: safeHost(url) }, 'connected to postgres');
  return {
    kind: 'postgres',
    host: safeHost(url),
    prisma,
    driver: async <T>(statement: Prisma.Sql) => (await pool.query(statement.text, statement.values)).rows as T[],
    async driverTransaction(fn) {
      const connection = await pool.connect();
      let broken: Error | undefined;
      try {
        await connection.query('BEGIN');
        const result = await fn(async <T>(statement: Prisma.Sql) => (await connection.query(statement.text, statement.values)).rows as T[]);
        await connection.query('COMMIT');
        return result;
      } catch (error) {
        // A connection whose ROLLBACK fails is broken: the pool drops it instead of reusing it.
        broken = await connection.query('ROLLBACK').then(() => undefined, (e: Error) => e);
        throw error;
      } finally {
        connection.release(broken);
      }
    },
    connectForMigrations: postgresConnector(url),
    sessionSettings,
    async close() {
      await prisma.$disconnect();
      // The pool is ours (the driver's statements use it too, even where Prisma never connected).
      if (!pool.ended) await pool.end();
    },
  };
}

async function createEmbeddedClient(dataDir: string, sessionSettings: Record<string, string>, logger: pino.Logger): Promise<Client> {
  const pgdataDir = path.resolve(dataDir, 'pgdata');
  await mkdir(pgdataDir, { recursive: true });
  const started = Date.now();
  const pglite = await PGlite.create({ dataDir: pgdataDir, extensions: { vector } });
  logger.debug({ pgdataDir, ms: Date.now() - started }, 'embedded database (PGlite) opened');
  // One connection: its session settings are set once.
  for (const [name, value] of Object.entries(sessionSettings)) await pglite.query(`SET ${name} = '${value}'`);
  const prisma = new PrismaClient({ adapter: new PrismaPGlite(pglite) });
  let closed = false;
  return {
    kind: 'embedded',
    host: 'embedded',
    prisma,
    // PGlite runs a query only between the adapter's transactions (its own lock), never inside one.
    driver: async <T>(statement: Prisma.Sql) => (await pglite.query<T>(statement.text, statement.values)).rows,
    driverTransaction: (fn) => pglite.transaction((tx) => fn(async <T>(statement: Prisma.Sql) => (await tx.query<T>(statement.text, statement.values)).rows)),
    connectForMigrations: pgliteConnector(pglite),
    pgdataDir,
    sessionSettings,
    async close() {
      if (closed) return;
      closed = true;
      await prisma.$disconnect();
      await pglite.close();
    },
  };
}

/** host:port/db of a connection URL, without credentials, for logs. */
export function safeHost(url: string): string {
  try {
    const u = new URL(url);
    return `${u.hostname}:${u.port || 5432}${u.pathname}`;
  } catch {
    return '(unparsable url)';
  }
}
