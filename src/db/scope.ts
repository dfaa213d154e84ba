// Where a repository's statements run: on the client (a statement that needs a transaction opens
// its own) or inside a caller's unit of work (everything joins that one transaction).
import type { Prisma, PrismaClient } from '../../generated/prisma/client.js';

/** Runs one statement on the driver itself (node-postgres or PGlite), outside Prisma's engine. */
export type DriverStatement = <T>(statement: Prisma.Sql) => Promise<T[]>;

/** A Prisma client or an interactive transaction of one. */
export type Queryable = PrismaClient | Prisma.TransactionClient;

export interface TransactionOptions {
  maxWait?: number;
  timeout?: number;
}

export interface Scope {
  q: Queryable;
  /**
   * One statement and its rows. On a client the driver runs it (Prisma's engine costs 0.5-1 ms of
   * CPU per statement: measured, bench/results/search-speed.md); in a unit of work it joins that
   * transaction. For the hot path's statements, whose columns parse alike either way: text,
   * numbers, JSON, timestamptz.
   */
  sql: DriverStatement;
  /**
   * Runs fn in a transaction: a new one on the client, the current one inside a unit of work
   * (PGlite has one connection: a nested $transaction would wait for itself).
   */
  atomic<T>(fn: (tx: Prisma.TransactionClient) => Promise<T>, options?: TransactionOptions): Promise<T>;
}

export function clientScope(prisma: PrismaClient, driver: DriverStatement): Scope {
  return { q: prisma, sql: driver, atomic: (fn, options) => prisma.$transaction(fn, options) };
}

export function transactionScope(tx: Prisma.TransactionClient): Scope {
  return { q: tx, sql: <T>(statement: Prisma.Sql) => tx.$queryRaw<T[]>(statement), atomic: (fn) => fn(tx) };
}
