// Where a search's time goes: each request carries one StageTimer that the face, the search
// service and the model runtime add their stages to; the HTTP edge turns it into a Server-Timing
// header and Prometheus histograms (src/http/metrics.ts).

/** The stages of a search, in the order they run. */
export const SEARCH_STAGES = [
  'upload', // reading the uploaded (or fetched) image bytes
  'decode', // type sniffing and header checks (validateImage; the pixels are decoded in preprocess)
  'preprocess', // crop, resize, normalise into the model's input tensor
  'queue', // waiting for a slot (load shedder) and for a model run (micro-batcher)
  'embed', // the embedder run the query was part of
  'ann', // the nearest-neighbour query
  'record', // storing the search for rerankSearch
  'hydrate', // loading the hits' products
  'rerank', // the pairwise scorer over the shortlist
  'serialise', // the result shaped into the response
] as const;

export type SearchStage = (typeof SEARCH_STAGES)[number];

export class StageTimer {
  readonly startedAt = performance.now();
  private readonly durations = new Map<SearchStage, number>();
  private lastEnd = this.startedAt;

  /** Adds `ms` to a stage (a request may run a stage more than once). */
  add(stage: SearchStage, ms: number): void {
    this.durations.set(stage, (this.durations.get(stage) ?? 0) + ms);
    this.lastEnd = performance.now();
  }

  /** Adds the time since the last recorded stage ended to `stage` (what happens after the search: serialise). */
  addSinceLast(stage: SearchStage): void {
    this.add(stage, performance.now() - this.lastEnd);
  }

  /** Runs `work`, adding its time to `stage` whether it succeeds or not. */
  async time<T>(stage: SearchStage, work: () => Promise<T>): Promise<T> {
    const started = performance.now();
    try {
      return await work();
    } finally {
      this.add(stage, performance.now() - started);
    }
  }

  /** Milliseconds per stage recorded so far, in SEARCH_STAGES order. */
  stages(): [SearchStage, number][] {
    return SEARCH_STAGES.filter((s) => this.durations.has(s)).map((s) => [s, this.durations.get(s)!]);
  }

  /** The Server-Timing header value (RFC: `name;dur=ms`), with the time since the request arrived as `total`. */
  serverTiming(): string {
    const entries = [...this.stages(), ['total', performance.now() - this.startedAt] as const];
    return entries.map(([name, ms]) => `${name};dur=${ms.toFixed(2)}`).join(', ');
  }
}
