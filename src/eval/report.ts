// The evaluation's result, as written to the JSON report, and the per-method accumulator.
import { mean } from './metrics.js';
import { percentile } from './percentile.js';

export interface MethodSummary {
  /** Exact-product metrics; null without exact-product queries. */
  recallAt1: number | null;
  recallAt5: number | null;
  recallAt10: number | null;
  mapAt10: number | null;
  /** Latency of one photo search (query bytes in, ranked products out), over every photo query. */
  p50Ms: number | null;
  p95Ms: number | null;
  /** Recall@1 … Recall@k (the plot). */
  recallAtK: number[];
}

export interface EvalReport {
  createdAt: string;
  command: string;
  catalogSize: number;
  queries: number;
  methods: Record<string, MethodSummary>;
  /** Share of the exact top k that the ANN (HNSW) search also returns, over the photo queries. */
  annRecallVsExact: number | null;
  /** The rerankSearch call alone, N = candidates. */
  rerank: { candidates: number; p50Ms: number; p95Ms: number; calls: number } | null;
  /** Attribute → method → share of the top k neighbours (the product itself excluded) with its value. */
  attributes?: Record<string, Record<string, number>>;
  /** Attribute → the share a random other catalog product would score. */
  attributeChance?: Record<string, number>;
  attributeSample?: number;
  /** Method → share of the top k whose attribute matches the shopper photo's label. */
  shopper?: Record<string, number>;
  shopperChance?: number;
  shopperQueries?: number;
  /** Label → photos and per-method share. */
  shopperByLabel?: Record<string, { photos: number; methods: Record<string, number> }>;
  setup: {
    catalog: string;
    catalogEntries: number;
    catalogSkipped: number;
    ingest: Record<string, number> | null;
    reusedDatabase: boolean;
    model: string;
    provider: string;
    database: string;
    k: number;
    seed: number;
    distort: { count: number; strength: number } | null;
    queriesCsv: string | null;
    shopper: { labels: string; labelMap: string; attribute: string; splits: string[]; unmapped: number } | null;
    hnswEfSearch: number;
    machine: { cpus: number; cpuModel: string; node: string; loadAverage: number[] };
    elapsedSeconds: number;
  };
}

/** Collects one method's per-query results. */
export class MethodStats {
  private readonly recalls: number[][] = [];
  private readonly precisions: number[] = [];
  readonly latencies: number[] = [];

  addQuery(recall: number[], averagePrecision: number): void {
    this.recalls.push(recall);
    this.precisions.push(averagePrecision);
  }

  summary(k: number): MethodSummary {
    const recallAtK = Array.from({ length: k }, (_, i) => mean(this.recalls.map((r) => r[i]!)));
    const has = this.recalls.length > 0;
    const at = (n: number) => (has && n <= k ? round(recallAtK[n - 1]!) : null);
    return {
      recallAt1: at(1),
      recallAt5: at(5),
      recallAt10: at(10),
      mapAt10: has ? round(mean(this.precisions)) : null,
      p50Ms: this.latencies.length ? round(percentile(this.latencies, 50), 1) : null,
      p95Ms: this.latencies.length ? round(percentile(this.latencies, 95), 1) : null,
      recallAtK: has ? recallAtK.map((r) => round(r)) : [],
    };
  }
}

export const round = (x: number, digits = 4) => Math.round(x * 10 ** digits) / 10 ** digits;
