// What the server's pgvector can do, and the search settings that follow from it.
import type pino from 'pino';
import type { Queryable } from './scope.js';

export interface ServerInfo {
  serverVersion: string;
  /** Installed pgvector version, null before the first migration. */
  vectorVersion: string | null;
  iterativeScan: boolean;
}

export async function serverInfo(q: Queryable): Promise<ServerInfo> {
  const [row] = await q.$queryRaw<{ server: string; vector: string | null }[]>`
    SELECT current_setting('server_version') AS server,
           (SELECT extversion FROM pg_extension WHERE extname = 'vector') AS vector`;
  const vectorVersion = row?.vector ?? null;
  return { serverVersion: row?.server ?? 'unknown', vectorVersion, iterativeScan: supportsIterativeScan(vectorVersion) };
}

export function supportsIterativeScan(version: string | null): boolean {
  if (!version) return false;
  const [major = 0, minor = 0] = version.split('.').map((n) => parseInt(n, 10));
  return major > 0 || minor >= 8;
}

export interface SearchSettings {
  efSearch: number;
  /** pgvector >= 0.8: hnsw.iterative_scan keeps the index scan going until LIMIT rows pass the filters. */
  iterativeScan: boolean;
  /** More settings made LOCAL to the search transaction, applied last (diagnostics, tests). */
  extraSettings?: Record<string, string>;
}

/**
 * The search settings, read from the server once the extension exists (after migrating) and
 * asked again after a failure.
 */
export function searchSettingsOf(q: Queryable, efSearch: number, logger: pino.Logger): () => Promise<SearchSettings> {
  let settings: Promise<SearchSettings> | undefined;
  return () =>
    (settings ??= serverInfo(q)
      .then((info) => {
        if (!info.vectorVersion) {
          throw new Error('the vector extension is not installed in this database: run the migrations first (db.migrate())');
        }
        if (!info.iterativeScan) {
          logger.warn({ vectorVersion: info.vectorVersion }, 'pgvector < 0.8: no iterative index scans; filtered searches use ef_search=1000');
        }
        return { efSearch, iterativeScan: info.iterativeScan };
      })
      .catch((err: unknown) => {
        settings = undefined;
        throw err;
      }));
}
