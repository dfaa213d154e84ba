// A bounded queue in front of the expensive work (decoding, the embedder, the database): past
// it, a request is refused at once with OVERLOADED instead of waiting in an unbounded line that
// slows every request down and grows memory without limit.
//
// The queue absorbs bursts, but under sustained overload a full queue only adds its own length
// to every admitted request's time. So it follows CoDel as applied to request queues ("Fail at
// Scale", Maurer, ACM Queue 2015): when no slot has been free for STANDING_QUEUE_MS the queue is
// standing, not a burst; while it stands, a request that finds no free slot is refused at once,
// and one that already waited longer than STANDING_WAIT_MS is refused when its turn comes.
// Measured under 4x overload on 2 cores (bench/results/attack.md): a plain queue of one per core
// nearly doubled the admitted p99 of no queue at all (215 vs 125 ms); but with no queue, random
// arrivals at half load would find both slots busy 7 % of the time (Erlang B, computed), each a
// needless refusal. This keeps the queue for bursts and drops it under overload.
import { AppError } from '../errors.js';

export interface LoadShedderOptions {
  /** Requests doing the work at once. */
  maxConcurrent: number;
  /** Requests waiting for a slot; one more is refused. */
  maxQueue: number;
  /** Longest wait for a slot; a request that waited this long is refused (admitted ones stay fast). */
  maxQueueWaitMs: number;
}

/** No slot free for this long: the queue is standing (the service is overloaded, not hit by a burst). */
export const STANDING_QUEUE_MS = 50;
/** The longest wait a request is admitted after while the queue stands. */
const STANDING_WAIT_MS = 5;

interface Waiter {
  admit(): void;
  refuse(): void;
  queuedAt: number;
  timer: NodeJS.Timeout;
}

export class LoadShedder {
  private running = 0;
  private readonly queue: Waiter[] = [];
  /** When a slot was last free with nobody waiting for it. */
  private idleAt = performance.now();
  /** Requests refused since start (for logs and benchmarks). */
  shed = 0;

  constructor(private readonly options: LoadShedderOptions) {}

  /** Runs `work` when a slot is free, or throws AppError OVERLOADED. */
  async run<T>(work: () => Promise<T>): Promise<T> {
    await this.admit();
    try {
      return await work();
    } finally {
      this.release();
    }
  }

  /** No slot, and no room in the queue (full, or standing): a request arriving now would be refused. */
  get saturated(): boolean {
    return this.running >= this.options.maxConcurrent && (this.queue.length >= this.options.maxQueue || this.standing);
  }

  /** Refuses a request now (OVERLOADED) if it would be refused anyway, before any work is spent on it. */
  refuseIfSaturated(): void {
    if (this.saturated) throw this.overloaded();
  }

  get load(): { running: number; queued: number; shed: number } {
    return { running: this.running, queued: this.queue.length, shed: this.shed };
  }

  private get standing(): boolean {
    return performance.now() - this.idleAt > STANDING_QUEUE_MS;
  }

  private admit(): Promise<void> {
    if (this.running < this.options.maxConcurrent) {
      this.idleAt = performance.now();
      this.running++;
      return Promise.resolve();
    }
    if (this.saturated) return Promise.reject(this.overloaded());
    return new Promise((resolve, reject) => {
      const waiter: Waiter = {
        admit: resolve,
        refuse: () => reject(this.overloaded()),
        queuedAt: performance.now(),
        timer: setTimeout(() => {
          this.queue.splice(this.queue.indexOf(waiter), 1);
          waiter.refuse();
        }, this.options.maxQueueWaitMs),
      };
      this.queue.push(waiter);
    });
  }

  /** Hands the slot straight to the longest waiter still worth admitting, or frees it. */
  private release(): void {
    for (let next = this.queue.shift(); next; next = this.queue.shift()) {
      clearTimeout(next.timer);
      if (this.standing && performance.now() - next.queuedAt > STANDING_WAIT_MS) {
        next.refuse();
        continue;
      }
      next.admit();
      return;
    }
    this.idleAt = performance.now();
    this.running--;
  }

  private overloaded(): AppError {
    this.shed++;
    return new AppError('OVERLOADED', 'The server is busy; try again shortly.');
  }
}
