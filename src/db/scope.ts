// Where a repository's statements run: on the client (a statement that needs a transaction opens
// its own) or inside a caller's unit of work (everything joins that one transaction).
import type { Prisma, PrismaClient } from '../../generated/prisma/client.js';

/** A Prisma client or an interactive transaction of one. */
export type Queryable = PrismaClient | Prisma.TransactionClient;

export interface TransactionOptions {
  maxWait?: number;
  timeout?: number;
}

export interface Scope {
  q: Queryable;
  /**
   * Runs fn in a transaction: a new one on the client, the current one inside a unit of work
   * (PGlite has one connection: a nested $transaction would wait for itself).
   */
  atomic<T>(fn: (tx: Prisma.TransactionClient) => Promise<T>, options?: TransactionOptions): Promise<T>;
}

export function clientScope(prisma: PrismaClient): Scope {
  return { q: prisma, atomic: (fn, options) => prisma.$transaction(fn, options) };
}

export function transactionScope(tx: Prisma.TransactionClient): Scope {
  return { q: tx, atomic: (fn) => fn(tx) };
}
