// Micro-batching: callers add one item each and get its own result; one run at a time takes up to
// batchSize queued items. Whatever arrives while a run is in flight goes into the next run, so
// concurrent requests share model runs without anyone waiting on a timer.

interface Pending<In, Out> {
  item: In;
  resolve: (out: Out) => void;
  reject: (err: unknown) => void;
  queuedAt: number;
  onRun?: RunObserver;
}

/** Told how long an item waited for its run and how long that run took (ms). */
export type RunObserver = (waitedMs: number, runMs: number) => void;

export interface MicroBatcherStats {
  /** Runs so far. */
  runs: number;
  /** Items those runs held. */
  items: number;
  /** The largest batch run. */
  largestBatch: number;
}

export class MicroBatcher<In, Out> {
  private readonly queue: Pending<In, Out>[] = [];
  private readonly counters: MicroBatcherStats = { runs: 0, items: 0, largestBatch: 0 };
  private readonly idleWaiters: (() => void)[] = [];
  private running = false;
  private scheduled = false;

  /** `run` gets a batch and returns one result per item, in order; if it throws, every item in the batch fails with it. */
  constructor(
    private readonly run: (items: In[]) => Promise<Out[]>,
    private readonly batchSize: number,
  ) {
    if (!Number.isInteger(batchSize) || batchSize < 1) throw new RangeError('batchSize must be a positive integer');
  }

  /** Queues one item; resolves with its result once its batch has run. */
  add(item: In, onRun?: RunObserver): Promise<Out> {
    return new Promise<Out>((resolve, reject) => {
      this.queue.push({ item, resolve, reject, queuedAt: performance.now(), onRun });
      this.schedule();
    });
  }

  stats(): MicroBatcherStats {
    return { ...this.counters };
  }

  /** Resolves once everything queued so far has run. */
  async idle(): Promise<void> {
    if (!this.running && !this.scheduled && this.queue.length === 0) return;
    await new Promise<void>((resolve) => this.idleWaiters.push(resolve));
  }

  private schedule(): void {
    if (this.running || this.scheduled || this.queue.length === 0) return;
    this.scheduled = true;
    // setImmediate lets items added in the same turn of the event loop join the first batch.
    setImmediate(() => {
      this.scheduled = false;
      void this.drain();
    });
  }

  private async drain(): Promise<void> {
    if (this.running) return;
    this.running = true;
    try {
      while (this.queue.length > 0) {
        const batch = this.queue.splice(0, this.batchSize);
        this.counters.runs++;
        this.counters.items += batch.length;
        this.counters.largestBatch = Math.max(this.counters.largestBatch, batch.length);
        const started = performance.now();
        try {
          const results = await this.run(batch.map((p) => p.item));
          const ran = performance.now() - started;
          for (const p of batch) p.onRun?.(started - p.queuedAt, ran);
          batch.forEach((p, i) => p.resolve(results[i]!));
        } catch (err) {
          for (const p of batch) p.reject(err);
        }
      }
    } finally {
      this.running = false;
      for (const resolve of this.idleWaiters.splice(0)) resolve();
    }
  }
}
