// Prometheus metrics (prom-client): the process's own (CPU, memory, event-loop lag, GC) and where
// each search's time goes, per stage. Served at GET /metrics, outside the rate limit and the
// search queue, so that it answers while the service is overloaded.
import type { RequestHandler } from 'express';
import { Counter, Histogram, Registry, collectDefaultMetrics } from 'prom-client';
import type { StageTimer } from '../search/stage-timer.js';

export const METRICS_PATH = '/metrics';

/** Which API a search came through. */
export type SearchEndpoint = 'graphql' | 'rest';

// From 0.1 ms (a cache hit) to 5 s (a request that waited for everything).
const BUCKETS = [0.0001, 0.00025, 0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5];

export class Metrics {
  readonly registry = new Registry();
  private readonly stages = new Histogram({
    name: 'search_stage_seconds',
    help: 'Time a search request spent in each stage (upload, decode, preprocess, queue, embed, ann, record, hydrate, rerank, serialise).',
    labelNames: ['endpoint', 'stage'] as const,
    buckets: BUCKETS,
    registers: [this.registry],
  });
  private readonly requests = new Histogram({
    name: 'api_request_seconds',
    help: 'Time from an API request’s arrival (/graphql, /api) to its response, by endpoint and HTTP status.',
    labelNames: ['endpoint', 'status'] as const,
    buckets: BUCKETS,
    registers: [this.registry],
  });
  private readonly recordFailures = new Counter({
    name: 'search_record_write_failures_total',
    help: 'Searches whose record (for rerankSearch) could not be stored in the database.',
    registers: [this.registry],
  });

  constructor() {
    collectDefaultMetrics({ register: this.registry });
  }

  /** Records one finished API request: its total time, and its stages if it searched. */
  observe(endpoint: SearchEndpoint, status: number, timer: StageTimer): void {
    for (const [stage, ms] of timer.stages()) this.stages.observe({ endpoint, stage }, ms / 1000);
    this.requests.observe({ endpoint, status: String(status) }, (performance.now() - timer.startedAt) / 1000);
  }

  recordWriteFailed(searches: number): void {
    this.recordFailures.inc(searches);
  }

  /** GET /metrics in Prometheus's text format. */
  handler(): RequestHandler {
    return (_req, res, next) => {
      this.registry.metrics().then((text) => void res.type(this.registry.contentType).send(text), next);
    };
  }
}
