// A database that cannot be reached is not a bug in the request: every repository call that
// fails for that reason throws DATABASE_UNAVAILABLE (the API answers 503 with Retry-After)
// instead of an uncoded internal error.
import { AppError } from '../errors.js';

/** Prisma's codes for "the server is unreachable, timed out, closed the connection, pool exhausted". */
const PRISMA_CODES = new Set(['P1001', 'P1002', 'P1017', 'P2024']);
/** What the driver adapters report under meta.driverAdapterError.cause.kind for the same. */
const ADAPTER_KINDS = new Set(['DatabaseNotReachable', 'ConnectionClosed', 'SocketTimeout', 'TooManyConnections']);
/** node-postgres (the migrator's raw connections) fails with socket errors. */
const SOCKET_CODES = new Set(['ECONNREFUSED', 'ECONNRESET', 'ETIMEDOUT', 'EPIPE', 'EHOSTUNREACH', 'ENETUNREACH']);

interface MaybeDatabaseError {
  code?: unknown;
  message?: unknown;
  meta?: { driverAdapterError?: { cause?: { kind?: string; code?: string } } };
}

/** True when `error` says the database cannot be reached (not that a query was wrong). */
export function isOutage(error: unknown): boolean {
  if (!error || typeof error !== 'object') return false;
  const e = error as MaybeDatabaseError;
  if (typeof e.code === 'string' && (PRISMA_CODES.has(e.code) || SOCKET_CODES.has(e.code))) return true;
  const cause = e.meta?.driverAdapterError?.cause;
  if (cause?.kind && ADAPTER_KINDS.has(cause.kind)) return true;
  // SQLSTATE class 08 (connection exception) and 57P01-57P03 (the server is shutting down or
  // starting): under the adapter's cause, or the code of node-postgres's own error (src/db/scope.ts).
  const sqlState = cause?.kind === 'postgres' ? cause.code : e.code;
  if (typeof sqlState === 'string' && (sqlState.startsWith('08') || /^57P0[1-3]$/.test(sqlState))) return true;
  // pg-pool's connect timeout: every connection busy or the server too slow to accept one in time.
  return (
    typeof e.message === 'string' &&
    /Connection terminated|Can't reach database server|timeout exceeded when trying to connect/.test(e.message)
  );
}

const unavailable = (cause: unknown) => {
  const error = new AppError('DATABASE_UNAVAILABLE', 'The database cannot be reached right now; try again shortly.');
  error.cause = cause;
  return error;
};

/** `target` with every method (and every method of its object properties) mapping outages to DATABASE_UNAVAILABLE. */
export function withOutageErrors<T extends object>(target: T, depth = 1): T {
  const guarded: Record<string, unknown> = {};
  for (const [key, value] of Object.entries(target)) {
    if (typeof value === 'function') {
      guarded[key] = async (...args: unknown[]) => {
        try {
          return await (value as (...a: unknown[]) => Promise<unknown>).apply(target, args);
        } catch (error) {
          throw isOutage(error) ? unavailable(error) : error;
        }
      };
    } else if (value && typeof value === 'object' && depth > 0) {
      guarded[key] = withOutageErrors(value as object, depth - 1);
    } else {
      guarded[key] = value;
    }
  }
  return guarded as T;
}
