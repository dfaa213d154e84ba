// Where a search's time goes, read from the server's /metrics (search_stage_seconds) between two readings.
import { SEARCH_STAGES } from '../src/search/stage-timer.js';

/** Sum and count of each stage's histogram (GraphQL), from /metrics. */
export async function stageTotals(url: string): Promise<Record<string, { sum: number; count: number }>> {
  const text = await (await fetch(`${url}/metrics`)).text();
  const totals: Record<string, { sum: number; count: number }> = {};
  for (const [, kind, labels, value] of text.matchAll(/^search_stage_seconds_(sum|count)\{([^}]*)\} (\S+)$/gm)) {
    if (!labels!.includes('endpoint="graphql"')) continue;
    const stage = /stage="([^"]+)"/.exec(labels!)![1]!;
    totals[stage] ??= { sum: 0, count: 0 };
    totals[stage][kind as 'sum' | 'count'] = Number(value);
  }
  return totals;
}

/** Mean ms of each stage, over the searches that reached it, between two /metrics readings. */
export function stageMeans(before: Awaited<ReturnType<typeof stageTotals>>, after: Awaited<ReturnType<typeof stageTotals>>) {
  return Object.fromEntries(
    SEARCH_STAGES.filter((s) => after[s] && after[s].count > (before[s]?.count ?? 0)).map((s) => [
      s,
      +(((after[s]!.sum - (before[s]?.sum ?? 0)) * 1000) / (after[s]!.count - (before[s]?.count ?? 0))).toFixed(3),
    ]),
  );
}

