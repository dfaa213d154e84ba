// The one ANALYZE policy. Without fresh planner statistics the planner may skip the HNSW index
// (searches and near-duplicate lookups alike). PGlite never runs autovacuum, and a Postgres server
// may not either (autovacuum = off), while the writes may come from another process (an ingest
// CLI, another API process re-embedding). Before a read that needs the index: ANALYZE when many
// embeddings were written through this Database since the last one (200, and 10% of what had been
// written then), or (checked at the first read, then every 10 s) when pg_stat_user_tables says the
// searched tables changed a lot since their last ANALYZE, whoever changed them.
import type pino from 'pino';
import type { Queryable } from './scope.js';

const SEARCHED_TABLES = ['products', 'product_images', 'image_embeddings'];
const MIN_WRITTEN = 200;
const WRITTEN_GROWTH = 0.1;
const STATS_CHECK_MS = 10_000;

/** Fresh planner statistics for the searched tables. */
async function analyze(q: Queryable): Promise<void> {
  await q.$executeRawUnsafe(`ANALYZE ${SEARCHED_TABLES.join(', ')}`);
}

/** Searched tables changed by more than autovacuum's default threshold (50 rows + 10%) since their last ANALYZE. */
export async function staleTables(q: Queryable): Promise<string[]> {
  const rows = await q.$queryRaw<{ table: string; mods: number; live: number }[]>`
    SELECT relname AS table, n_mod_since_analyze::float8 AS mods, n_live_tup::float8 AS live
    FROM pg_stat_user_tables
    WHERE schemaname = current_schema() AND relname = ANY(${SEARCHED_TABLES}::text[])`;
  return rows.filter((r) => r.mods > 50 + 0.1 * r.live).map((r) => r.table);
}

export interface PlannerStats {
  /** Counts embeddings written (they make statistics stale). */
  wrote(n: number): void;
  /** Analyzes first when the policy says the statistics are stale; call before an index read. */
  fresh(): Promise<void>;
  analyze(reason: string): Promise<void>;
}

export function plannerStats(q: Queryable, logger: pino.Logger): PlannerStats {
  let written = 0;
  let writtenAtAnalyze = 0;
  let lastStatsCheck = 0;
  let analyzing: Promise<void> | undefined;
  const run = (reason: string) =>
    (analyzing ??= (async () => {
      const started = Date.now();
      writtenAtAnalyze = written;
      lastStatsCheck = started;
      await analyze(q);
      logger.debug({ reason, ms: Date.now() - started }, 'tables analyzed');
    })().finally(() => {
      analyzing = undefined;
    }));
  return {
    wrote(n) {
      written += n;
    },
    async fresh() {
      if (analyzing) return analyzing;
      if (written - writtenAtAnalyze >= Math.max(MIN_WRITTEN, writtenAtAnalyze * WRITTEN_GROWTH)) return run('embeddings written');
      if (Date.now() - lastStatsCheck > STATS_CHECK_MS) {
        lastStatsCheck = Date.now();
        const stale = await staleTables(q);
        if (stale.length) return run(`changed: ${stale.join(', ')}`);
      }
    },
    analyze: run,
  };
}
