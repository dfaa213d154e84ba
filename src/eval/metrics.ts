// Retrieval metrics over one ranked list at a time; the harness averages them over queries.

/** One ranked result, best first. Equal `key`s are ties (a distance, or a negated score). */
export interface RankedId {
  id: string;
  key: number;
}

/**
 * Relevance of each position after breaking ties pessimistically: inside a group of equal keys
 * the relevant ids are put last, so a method gets no credit for the luck of a tie (a ranker that
 * gives everything the same key scores as badly as it deserves). An id counts once, at its first
 * position.
 */
export function relevanceFlags(ranked: readonly RankedId[], relevant: ReadonlySet<string>): boolean[] {
  const seen = new Set<string>();
  const flags: boolean[] = [];
  let start = 0;
  while (start < ranked.length) {
    let end = start + 1;
    while (end < ranked.length && ranked[end]!.key === ranked[start]!.key) end++;
    let hits = 0;
    for (let i = start; i < end; i++) {
      const id = ranked[i]!.id;
      if (relevant.has(id) && !seen.has(id)) hits++;
      seen.add(id);
    }
    for (let i = start; i < end; i++) flags.push(i >= end - hits);
    start = end;
  }
  return flags;
}

/**
 * Recall@k as product retrieval reports it: 1 when any acceptable id is in the top k, else 0.
 * A list shorter than k simply has fewer chances.
 */
export function recallAtK(flags: readonly boolean[], k: number): number {
  return flags.slice(0, k).some(Boolean) ? 1 : 0;
}

/**
 * Average precision at k: the mean of precision@i over the positions i ≤ k that hold a relevant
 * id, divided by min(|relevant|, k) so that missing acceptable ids cost. One relevant id at
 * rank r gives 1/r.
 */
export function averagePrecisionAtK(flags: readonly boolean[], relevantCount: number, k: number): number {
  if (relevantCount <= 0) throw new RangeError('averagePrecisionAtK needs at least one relevant id');
  let hits = 0;
  let sum = 0;
  flags.slice(0, k).forEach((relevant, i) => {
    if (!relevant) return;
    hits++;
    sum += hits / (i + 1);
  });
  return sum / Math.min(relevantCount, k);
}

/** Recall@1..maxK and AP@apK of one query. */
export function scoreQuery(ranked: readonly RankedId[], relevant: ReadonlySet<string>, maxK: number, apK: number) {
  const flags = relevanceFlags(ranked, relevant);
  const recall = Array.from({ length: maxK }, (_, i) => recallAtK(flags, i + 1));
  return { recall, averagePrecision: averagePrecisionAtK(flags, relevant.size, apK) };
}

/**
 * Share of the neighbours that match (the attribute and shopper metrics). An empty list is
 * undefined: there is nothing to judge, and the caller leaves the query out.
 */
export function agreement<T>(neighbours: readonly T[], matches: (neighbour: T) => boolean): number | undefined {
  if (neighbours.length === 0) return undefined;
  return neighbours.filter(matches).length / neighbours.length;
}

export function mean(values: readonly number[]): number {
  if (values.length === 0) return NaN;
  return values.reduce((a, b) => a + b, 0) / values.length;
}
