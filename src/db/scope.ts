// Where a repository's statements run: Prisma's client for the model API, the driver itself for
// the hot paths' plain SQL; a statement that needs a transaction opens its own. A caller's unit
// of work (Database.transaction) runs on the driver, with the writes that take part in one.
import type { Prisma, PrismaClient } from '../../generated/prisma/client.js';

/** Runs one statement on the driver itself (node-postgres or PGlite), outside Prisma's engine. */
export type DriverStatement = <T>(statement: Prisma.Sql) => Promise<T[]>;

/** A Prisma client or an interactive transaction of one. */
export type Queryable = PrismaClient | Prisma.TransactionClient;

/** Runs fn's statements in one transaction on the driver, outside Prisma's engine. */
export type DriverTransaction = <T>(fn: (sql: DriverStatement) => Promise<T>) => Promise<T>;

export interface TransactionOptions {
  maxWait?: number;
  timeout?: number;
}

export interface Scope {
  q: PrismaClient;
  /**
   * One statement and its rows, on the driver (Prisma's engine costs 0.5-1 ms of CPU per
   * statement: measured, bench/results/search-speed.md). For statements whose columns parse alike
   * on both drivers: text, numbers, JSON, timestamptz.
   */
  sql: DriverStatement;
  /** Runs fn in a Prisma transaction (PGlite has one connection: never nest one in another). */
  atomic<T>(fn: (tx: Prisma.TransactionClient) => Promise<T>, options?: TransactionOptions): Promise<T>;
  /** Runs fn's statements in one transaction on the driver. */
  atomicSql: DriverTransaction;
}

/** The part of a database client a scope runs on (src/db/client.ts). */
export interface ScopeClient {
  prisma: PrismaClient;
  driver: DriverStatement;
  driverTransaction: DriverTransaction;
}

export function clientScope({ prisma, driver, driverTransaction }: ScopeClient): Scope {
  return { q: prisma, sql: driver, atomic: (fn, options) => prisma.$transaction(fn, options), atomicSql: driverTransaction };
}
