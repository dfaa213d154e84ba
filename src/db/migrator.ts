// Applies prisma/migrations/<name>/migration.sql in name order and records each in Prisma's
// _prisma_migrations table, the way `prisma migrate deploy` does, so `prisma migrate status`
// agrees with what ran here. Each migration runs in its own transaction; the whole run holds
// Prisma's own migration advisory lock, so concurrent starters (and `prisma migrate deploy`)
// take turns and the second finds nothing to do.
import { createHash, randomUUID } from 'node:crypto';
import { existsSync } from 'node:fs';
import { readdir, readFile, stat } from 'node:fs/promises';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import type pino from 'pino';
import type { MigrationConnector, SqlConnection } from './connections.js';

/** The key Prisma Migrate itself locks with (pg_advisory_lock(72707369)). */
export const MIGRATION_LOCK_KEY = 72707369;

export class MigrationError extends Error {}

export interface MigrationFile {
  name: string;
  sql: string;
  checksum: string;
}

interface MigrationRow {
  id: string;
  checksum: string;
  migration_name: string;
  finished_at: Date | string | null;
  rolled_back_at: Date | string | null;
}

// Prisma's own DDL for its history table (schema engine, PostgreSQL flavour).
const CREATE_HISTORY_TABLE = `CREATE TABLE IF NOT EXISTS "_prisma_migrations" (
    "id"                    VARCHAR(36) PRIMARY KEY NOT NULL,
    "checksum"              VARCHAR(64) NOT NULL,
    "finished_at"           TIMESTAMPTZ,
    "migration_name"        VARCHAR(255) NOT NULL,
    "logs"                  TEXT,
    "rolled_back_at"        TIMESTAMPTZ,
    "started_at"            TIMESTAMPTZ NOT NULL DEFAULT now(),
    "applied_steps_count"   INTEGER NOT NULL DEFAULT 0
)`;

export function checksum(sql: string): string {
  return createHash('sha256').update(sql, 'utf8').digest('hex');
}

/** Like Prisma: a file that differs from the recorded one only in line endings still matches. */
function checksumMatches(recorded: string, sql: string): boolean {
  if (recorded === checksum(sql)) return true;
  const lf = sql.replace(/\r\n/g, '\n');
  return recorded === checksum(lf) || recorded === checksum(lf.replace(/\n/g, '\r\n'));
}

/** prisma/migrations of this package, found from this file upwards (works from src/ and dist/src/). */
export function defaultMigrationsDir(): string {
  let dir = path.dirname(fileURLToPath(import.meta.url));
  for (;;) {
    const candidate = path.join(dir, 'prisma', 'migrations');
    if (existsSync(candidate)) return candidate;
    const parent = path.dirname(dir);
    if (parent === dir) throw new MigrationError('prisma/migrations not found above ' + fileURLToPath(import.meta.url));
    dir = parent;
  }
}

export async function readMigrations(dir: string): Promise<MigrationFile[]> {
  const entries = (await readdir(dir)).sort();
  const out: MigrationFile[] = [];
  for (const name of entries) {
    const full = path.join(dir, name);
    if (!(await stat(full)).isDirectory()) continue;
    const file = path.join(full, 'migration.sql');
    if (!existsSync(file)) throw new MigrationError(`migration folder ${name} has no migration.sql`);
    const sql = await readFile(file, 'utf8');
    out.push({ name, sql, checksum: checksum(sql) });
  }
  return out;
}

export interface MigrateOptions {
  connect: MigrationConnector;
  logger: pino.Logger;
  migrationsDir?: string;
}

/** Applies pending migrations; returns the names applied (empty when up to date). */
export async function migrate(opts: MigrateOptions): Promise<string[]> {
  const files = await readMigrations(opts.migrationsDir ?? defaultMigrationsDir());
  const conn = await opts.connect();
  try {
    await lock(conn, opts.logger);
    try {
      return await applyPending(conn, files, opts.logger);
    } finally {
      await conn.query('SELECT pg_advisory_unlock($1)', [MIGRATION_LOCK_KEY]).catch(() => undefined);
    }
  } finally {
    await conn.release();
  }
}

async function lock(conn: SqlConnection, logger: pino.Logger): Promise<void> {
  const [row] = await conn.query<{ ok: boolean }>('SELECT pg_try_advisory_lock($1) AS ok', [MIGRATION_LOCK_KEY]);
  if (row?.ok) return;
  logger.info('another process is migrating this database; waiting for it');
  await conn.query('SELECT pg_advisory_lock($1)', [MIGRATION_LOCK_KEY]);
}

async function applyPending(conn: SqlConnection, files: MigrationFile[], logger: pino.Logger): Promise<string[]> {
  await conn.exec(CREATE_HISTORY_TABLE);
  const rows = await conn.query<MigrationRow>(
    'SELECT id, checksum, migration_name, finished_at, rolled_back_at FROM "_prisma_migrations" ORDER BY started_at',
  );
  const live = rows.filter((r) => r.rolled_back_at === null);

  for (const r of live) {
    if (r.finished_at === null) {
      throw new MigrationError(
        `migration ${r.migration_name} is recorded as started but not finished in _prisma_migrations ` +
          `(a failed run of \`prisma migrate deploy\`?). Repair the database, then mark it with ` +
          `\`prisma migrate resolve --rolled-back ${r.migration_name}\` or \`--applied\`.`,
      );
    }
  }
  const byName = new Map(files.map((f) => [f.name, f]));
  for (const r of live) {
    const file = byName.get(r.migration_name);
    if (!file) {
      logger.warn({ migration: r.migration_name }, 'database has a migration that is not in prisma/migrations');
    } else if (!checksumMatches(r.checksum, file.sql)) {
      throw new MigrationError(
        `migration ${r.migration_name} was changed after it was applied: _prisma_migrations records checksum ` +
          `${r.checksum}, prisma/migrations/${r.migration_name}/migration.sql now hashes to ${file.checksum}. ` +
          `Restore the file and put the change in a new migration.`,
      );
    }
  }

  const done = new Set(live.map((r) => r.migration_name));
  const applied: string[] = [];
  for (const file of files) {
    if (done.has(file.name)) continue;
    const started = Date.now();
    try {
      await conn.transaction(async (tx) => {
        const id = randomUUID();
        await tx.query(
          `INSERT INTO "_prisma_migrations" (id, checksum, migration_name, started_at, applied_steps_count)
           VALUES ($1, $2, $3, clock_timestamp(), 0)`,
          [id, file.checksum, file.name],
        );
        await tx.exec(file.sql);
        await tx.query(
          `UPDATE "_prisma_migrations" SET finished_at = clock_timestamp(), applied_steps_count = 1 WHERE id = $1`,
          [id],
        );
      });
    } catch (err) {
      throw new MigrationError(
        `migration ${file.name} failed and was rolled back (nothing of it was applied): ${(err as Error).message}`,
        { cause: err },
      );
    }
    logger.info({ migration: file.name, ms: Date.now() - started }, 'migration applied');
    applied.push(file.name);
  }
  return applied;
}
