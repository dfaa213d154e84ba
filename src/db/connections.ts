// Raw single connections for the migrator: multi-statement scripts and session advisory locks,
// which Prisma's raw queries (one statement, pooled connections) can't give.
import type { PGlite, Transaction as PGliteTransaction } from '@electric-sql/pglite';
import pg from 'pg';

export interface SqlConnection {
  query<T = Record<string, unknown>>(sql: string, params?: unknown[]): Promise<T[]>;
  /** Runs a script of several statements (simple query protocol, no parameters). */
  exec(script: string): Promise<void>;
  /** Runs fn inside BEGIN … COMMIT; ROLLBACK when it throws. */
  transaction<T>(fn: (tx: SqlConnection) => Promise<T>): Promise<T>;
  release(): Promise<void>;
}

export type MigrationConnector = () => Promise<SqlConnection>;

export function postgresConnector(url: string): MigrationConnector {
  return async () => {
    const client = new pg.Client({ connectionString: url, application_name: 'vps-migrator' });
    await client.connect();
    const conn: SqlConnection = {
      async query<T>(sql: string, params?: unknown[]) {
        return (await client.query(sql, params)).rows as T[];
      },
      async exec(script) {
        await client.query(script);
      },
      async transaction(fn) {
        await client.query('BEGIN');
        try {
          const result = await fn(conn);
          await client.query('COMMIT');
          return result;
        } catch (err) {
          await client.query('ROLLBACK').catch(() => undefined);
          throw err;
        }
      },
      release: () => client.end(),
    };
    return conn;
  };
}

export function pgliteConnector(db: PGlite): MigrationConnector {
  const wrap = (q: PGlite | PGliteTransaction, inTx: boolean): SqlConnection => ({
    async query<T>(sql: string, params?: unknown[]) {
      return (await q.query<T>(sql, params)).rows;
    },
    async exec(script) {
      await q.exec(script);
    },
    async transaction(fn) {
      // PGlite has one connection; a nested transaction() would wait on its own lock.
      if (inTx) return fn(wrap(q, true));
      return db.transaction((tx) => fn(wrap(tx, true)));
    },
    release: async () => undefined,
  });
  return async () => wrap(db, false);
}
