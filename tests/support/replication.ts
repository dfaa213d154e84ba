// A PostgreSQL primary and a streaming hot standby of its own, on free ports in a temp folder, for
// the replication suites: they stop and start servers, which the shared test server must never
// see. Built from the system's PostgreSQL binaries (PG_BIN_DIR, default Debian's newest) with the
// pgvector installed there; as root, the servers run as the `postgres` user (PostgreSQL refuses
// root). About 3 s to set up; cleanup() stops both and removes the folder.
import { execFile, execFileSync, spawnSync } from 'node:child_process';
import { existsSync, readdirSync } from 'node:fs';
import { appendFile, chown, mkdtemp, rm } from 'node:fs/promises';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { promisify } from 'node:util';
import pg from 'pg';

/** PG_BIN_DIR, else the newest of Debian's /usr/lib/postgresql/<version>/bin. */
const BIN =
  process.env.PG_BIN_DIR ??
  path.join(
    '/usr/lib/postgresql',
    (existsSync('/usr/lib/postgresql') ? readdirSync('/usr/lib/postgresql') : ['15']).sort((a, b) => Number(b) - Number(a))[0] ?? '15',
    'bin',
  );
const asRoot = process.getuid?.() === 0;

/** Can this machine run a private primary + standby? (binaries, pgvector, a non-root user when root) */
export function replicationAvailable(): { ok: true } | { ok: false; why: string } {
  for (const tool of ['initdb', 'pg_ctl', 'pg_basebackup', 'pg_config']) {
    if (!existsSync(path.join(BIN, tool))) return { ok: false, why: `no ${tool} in ${BIN} (install postgresql-15, or set PG_BIN_DIR)` };
  }
  const share = spawnSync(path.join(BIN, 'pg_config'), ['--sharedir'], { encoding: 'utf8' }).stdout.trim();
  if (!existsSync(path.join(share, 'extension', 'vector.control'))) {
    return { ok: false, why: `pgvector is not installed for ${BIN} (run: sudo bash scripts/install-pgvector.sh)` };
  }
  if (asRoot && spawnSync('id', ['-u', 'postgres']).status !== 0) return { ok: false, why: 'running as root and there is no postgres user to run the servers' };
  return { ok: true };
}

export interface Server {
  url: string;
  port: number;
  stop(): Promise<void>;
  start(): Promise<void>;
  /** One statement on a fresh connection. */
  sql<T = Record<string, unknown>>(query: string, params?: unknown[]): Promise<T[]>;
}

export interface ReplicatedCluster {
  primary: Server;
  replica: Server;
  cleanup(): Promise<void>;
}

/** Runs a PostgreSQL tool (as the postgres user when root), without blocking the event loop. */
async function run(tool: string, args: string[]): Promise<void> {
  const [cmd, argv] = asRoot ? ['runuser', ['-u', 'postgres', '--', path.join(BIN, tool), ...args]] : [path.join(BIN, tool), args];
  await promisify(execFile)(cmd, argv, { timeout: 60_000 });
}

async function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const s = net.createServer().listen(0, '127.0.0.1', () => {
      const { port } = s.address() as net.AddressInfo;
      s.close(() => resolve(port));
    });
    s.on('error', reject);
  });
}

function server(dir: string, port: number): Server {
  const url = `postgresql://postgres@127.0.0.1:${port}/postgres`;
  return {
    url,
    port,
    // fast: connections are cut at once, as when a server dies.
    stop: async () => run('pg_ctl', ['-D', dir, '-m', 'fast', '-w', 'stop']),
    start: async () => run('pg_ctl', ['-D', dir, '-l', `${dir}.log`, '-w', '-t', '60', 'start']),
    async sql<T>(query: string, params?: unknown[]) {
      const c = new pg.Client({ connectionString: url, connectionTimeoutMillis: 3000 });
      await c.connect();
      try {
        return (await c.query(query, params)).rows as T[];
      } finally {
        await c.end();
      }
    },
  };
}

export async function startReplicatedCluster(): Promise<ReplicatedCluster> {
  const root = await mkdtemp(path.join(os.tmpdir(), 'vps-replication-'));
  if (asRoot) {
    const uid = Number(execFileSync('id', ['-u', 'postgres'], { encoding: 'utf8' }));
    const gid = Number(execFileSync('id', ['-g', 'postgres'], { encoding: 'utf8' }));
    await chown(root, uid, gid);
  }
  const primaryDir = path.join(root, 'primary');
  const replicaDir = path.join(root, 'replica');
  const [primaryPort, replicaPort] = [await freePort(), await freePort()];
  const primary = server(primaryDir, primaryPort);
  const replica = server(replicaDir, replicaPort);
  const cleanup = async () => {
    for (const dir of [replicaDir, primaryDir]) {
      if (existsSync(path.join(dir, 'postmaster.pid'))) {
        try {
          await run('pg_ctl', ['-D', dir, '-m', 'immediate', '-w', 'stop']);
        } catch {
          /* already stopped */
        }
      }
    }
    await rm(root, { recursive: true, force: true });
  };
  try {
    // initdb's trust setup lets local TCP in, replication connections included.
    await run('initdb', ['-D', primaryDir, '-U', 'postgres', '--auth=trust', '-E', 'UTF8', '--no-sync']);
    const common = [
      `listen_addresses = '127.0.0.1'`,
      `unix_socket_directories = '${root}'`,
      'fsync = off',
      'shared_buffers = 32MB',
      'max_wal_senders = 4',
      'wal_keep_size = 128MB',
      'hot_standby = on',
      // A standby re-connects to a restarted primary within a second, not the default 5 s.
      'wal_retrieve_retry_interval = 500ms',
    ];
    await appendFile(path.join(primaryDir, 'postgresql.conf'), [...common, `port = ${primaryPort}`, ''].join('\n'));
    await primary.start();
    await run('pg_basebackup', ['-h', '127.0.0.1', '-p', String(primaryPort), '-U', 'postgres', '-D', replicaDir, '-R', '-X', 'stream', '-c', 'fast']);
    // The copied postgresql.conf names the primary's port: a later line wins.
    await appendFile(path.join(replicaDir, 'postgresql.conf'), `port = ${replicaPort}\n`);
    await replica.start();
    return { primary, replica, cleanup };
  } catch (error) {
    await cleanup();
    throw error;
  }
}
