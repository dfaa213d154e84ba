// Who works on a run: this process's owner id, the claim of a run (a new one, or an unfinished
// one whose owner is gone), and the heartbeat that keeps the claim alive while it works.
import { randomBytes } from 'node:crypto';
import { hostname } from 'node:os';
import type { Logger } from 'pino';
import type { Database, IngestRunRow } from '../db/index.js';
import { AppError } from '../errors.js';
import { fingerprint, type IngestSpec } from './spec.js';

/** A run whose heartbeat is older than this is taken to be dead, whoever owned it. */
const LEASE_MS = 60_000;
const HEARTBEAT_MS = 10_000;

export class RunLease {
  readonly owner = newOwnerId();

  constructor(
    private readonly db: Database,
    private readonly logger: Logger,
    /** Whether this process is working on a run right now. */
    private readonly isActive: (runId: string) => boolean,
  ) {}

  /** The unfinished run of these arguments if its owner is gone, else a new one. */
  async claim(spec: IngestSpec, sourceName: string): Promise<{ run: IngestRunRow; resumed: boolean }> {
    const print = fingerprint(spec);
    const open = await this.db.ingestRuns.open(print);
    if (open) {
      if (open.status === 'running' && this.isAlive(open)) {
        throw new AppError('CONFLICT', `An ingest of this source is already running (run ${open.id}, ${open.itemsDone} items done).`);
      }
      if (!(await this.db.ingestRuns.claim(open, this.owner))) {
        throw new AppError('CONFLICT', `Another process has just resumed this ingest (run ${open.id}).`);
      }
      this.logger.info({ runId: open.id, pagesDone: open.pagesDone, itemsDone: open.itemsDone }, 'resuming ingest');
      return { run: (await this.db.ingestRuns.get(open.id))!, resumed: true };
    }
    const run = await this.db.ingestRuns.create({ fingerprint: print, kind: spec.kind, source: sourceName, spec, owner: this.owner });
    if (!run) throw new AppError('CONFLICT', 'An ingest of this source has just been started.');
    return { run, resumed: false };
  }

  /** Beats until the returned function is called. */
  keepAlive(runId: string): () => void {
    const beat = setInterval(() => void this.db.ingestRuns.heartbeat(runId, this.owner).catch(() => undefined), HEARTBEAT_MS);
    beat.unref();
    return () => clearInterval(beat);
  }

  /** Is the process that owns this run still working on it? */
  private isAlive(run: IngestRunRow): boolean {
    if (run.owner === this.owner) return this.isActive(run.id);
    return ownerAlive(run.owner, run.heartbeatAt, LEASE_MS);
  }
}

/** A new owner id for a lease: host:pid:nonce. */
export function newOwnerId(): string {
  return `${hostname()}:${process.pid}:${randomBytes(4).toString('hex')}`;
}

/**
 * Is another process's lease alive: a heartbeat younger than leaseMs, and on this machine a
 * process with that pid (a killed owner is known at once, without waiting for the lease to expire).
 */
export function ownerAlive(owner: string | null, heartbeatAt: Date | null, leaseMs: number): boolean {
  const fresh = heartbeatAt !== null && Date.now() - heartbeatAt.getTime() < leaseMs;
  const [host, pid] = (owner ?? '').split(':');
  if (!fresh || host !== hostname() || pid === String(process.pid)) return fresh;
  try {
    process.kill(Number(pid), 0);
    return true;
  } catch (error) {
    return (error as NodeJS.ErrnoException).code === 'EPERM';
  }
}
