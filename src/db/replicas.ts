// Reads that tolerate replication lag (searches, catalog browsing) spread over the hot standbys in
// DATABASE_REPLICA_URLS, round robin. A replica whose connection fails is taken out at once and the
// same read goes to the next one, then to the primary, so a stopped replica costs no request an
// error; a background probe puts it back once it answers again, so no request waits on a dead
// host's connect timeout. (@prisma/extension-read-replicas sends every interactive transaction to
// the primary — each search is one, for its SET LOCAL settings — and has no failover.)
import type pino from 'pino';
import type { Client } from './client.js';
import { isOutage } from './outages.js';

/** How often a failed replica is probed until it answers again. */
const PROBE_INTERVAL_MS = 1000;

export interface Replica {
  host: string;
  client: Client;
}

/** One database as /readyz reports it. */
export interface DatabaseStatus {
  role: 'primary' | 'replica';
  /** host:port/database, no credentials. */
  host: string;
  reachable: boolean;
  /** Replicas: seconds since the last replayed transaction, 0 when caught up; null when unknown. */
  lagSeconds?: number | null;
  /** Replicas: false while the router skips it after a failure. */
  inRotation?: boolean;
  error?: string;
}

export interface ReplicaRouter {
  readonly size: number;
  /**
   * Runs a read on the next replica in rotation, on the others when it fails for want of a
   * connection (or a replay conflict), and on the primary when none is left.
   */
  read<T>(onReplica: (index: number) => Promise<T>, onPrimary: () => Promise<T>): Promise<T>;
  status(): Promise<DatabaseStatus[]>;
  close(): Promise<void>;
}

/** A hot standby cancels a query that conflicts with WAL replay (SQLSTATE 40001); the next server can answer it. */
function isReplicaFailure(error: unknown): boolean {
  if (isOutage(error)) return true;
  const cause = (error as { meta?: { driverAdapterError?: { cause?: { kind?: string; code?: string } } } })?.meta?.driverAdapterError?.cause;
  return cause?.kind === 'postgres' && cause.code === '40001';
}

export function replicaRouter(replicas: Replica[], logger: pino.Logger): ReplicaRouter {
  const down = new Set<number>();
  const probes = new Map<number, NodeJS.Timeout>();
  let next = 0;

  const ping = (i: number) => replicas[i]!.client.prisma.$queryRaw`SELECT 1`;
  const takeOut = (i: number, error: unknown) => {
    if (down.has(i)) return;
    down.add(i);
    logger.warn({ replica: replicas[i]!.host, err: error }, 'read replica failed: reads go elsewhere until it answers');
    const timer = setInterval(() => {
      ping(i).then(
        () => {
          clearInterval(timer);
          probes.delete(i);
          down.delete(i);
          logger.info({ replica: replicas[i]!.host }, 'read replica back in rotation');
        },
        () => undefined,
      );
    }, PROBE_INTERVAL_MS);
    timer.unref();
    probes.set(i, timer);
  };

  return {
    size: replicas.length,
    async read(onReplica, onPrimary) {
      const start = next;
      next = (next + 1) % Math.max(1, replicas.length);
      for (let k = 0; k < replicas.length; k++) {
        const i = (start + k) % replicas.length;
        if (down.has(i)) continue;
        try {
          return await onReplica(i);
        } catch (error) {
          if (!isReplicaFailure(error)) throw error;
          takeOut(i, error);
        }
      }
      return onPrimary();
    },
    async status() {
      return Promise.all(
        replicas.map(async ({ host, client }, i): Promise<DatabaseStatus> => {
          try {
            const [row] = await client.prisma.$queryRaw<{ lag: number | null; recovery: boolean }[]>`
              SELECT pg_is_in_recovery() AS recovery,
                     CASE WHEN pg_last_wal_receive_lsn() = pg_last_wal_replay_lsn() THEN 0
                          ELSE EXTRACT(EPOCH FROM now() - pg_last_xact_replay_timestamp())::float8 END AS lag`;
            const status: DatabaseStatus = { role: 'replica', host, reachable: true, lagSeconds: row?.lag ?? null, inRotation: !down.has(i) };
            // A promoted standby takes writes now: still fine to read from, but an operator should know.
            return row?.recovery ? status : { ...status, error: 'not in recovery: this server is a primary now' };
          } catch (error) {
            return { role: 'replica', host, reachable: false, inRotation: !down.has(i), error: firstLine(error) };
          }
        }),
      );
    },
    async close() {
      for (const timer of probes.values()) clearInterval(timer);
      probes.clear();
      await Promise.all(replicas.map((r) => r.client.close()));
    },
  };
}

/** `target`'s methods, each run through the router: on a replica's copy, else on the primary's. */
export function routedReads<T extends object>(router: ReplicaRouter, primary: T, perReplica: T[]): T {
  if (router.size === 0) return primary;
  const routed: Record<string, unknown> = {};
  for (const [key, value] of Object.entries(primary)) {
    routed[key] =
      typeof value === 'function'
        ? (...args: unknown[]) =>
            router.read(
              (i) => (perReplica[i] as Record<string, (...a: unknown[]) => Promise<unknown>>)[key]!(...args),
              () => (value as (...a: unknown[]) => Promise<unknown>).apply(primary, args),
            )
        : value;
  }
  return routed as T;
}

/** The first non-empty line of an error message (driver errors carry multi-line detail). */
export const firstLine = (error: unknown) => (error instanceof Error ? error.message : String(error)).split('\n').find((l) => l.trim()) ?? 'error';
