// A bounded queue in front of the expensive work (decoding, the embedder, the database): past
// it, a request is refused at once with OVERLOADED instead of waiting in an unbounded line that
// slows every request down and grows memory without limit.
import { AppError } from '../errors.js';

export interface LoadShedderOptions {
  /** Requests doing the work at once. */
  maxConcurrent: number;
  /** Requests waiting for a slot; one more is refused. */
  maxQueue: number;
  /** Longest wait for a slot; a request that waited this long is refused (admitted ones stay fast). */
  maxQueueWaitMs: number;
}

interface Waiter {
  admit(): void;
  timer: NodeJS.Timeout;
}

export class LoadShedder {
  private running = 0;
  private readonly queue: Waiter[] = [];
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

  /** No slot and no room in the queue: a request arriving now would be refused. */
  get saturated(): boolean {
    return this.running >= this.options.maxConcurrent && this.queue.length >= this.options.maxQueue;
  }

  /** Refuses a request now (OVERLOADED) if it would be refused anyway, before any work is spent on it. */
  refuseIfSaturated(): void {
    if (this.saturated) throw this.overloaded();
  }

  get load(): { running: number; queued: number; shed: number } {
    return { running: this.running, queued: this.queue.length, shed: this.shed };
  }

  private admit(): Promise<void> {
    if (this.running < this.options.maxConcurrent) {
      this.running++;
      return Promise.resolve();
    }
    if (this.queue.length >= this.options.maxQueue) return Promise.reject(this.overloaded());
    return new Promise((resolve, reject) => {
      const waiter: Waiter = {
        admit: resolve,
        timer: setTimeout(() => {
          this.queue.splice(this.queue.indexOf(waiter), 1);
          reject(this.overloaded());
        }, this.options.maxQueueWaitMs),
      };
      this.queue.push(waiter);
    });
  }

  /** Hands the slot straight to the longest waiter, or frees it. */
  private release(): void {
    const next = this.queue.shift();
    if (!next) {
      this.running--;
      return;
    }
    clearTimeout(next.timer);
    next.admit();
  }

  private overloaded(): AppError {
    this.shed++;
    return new AppError('OVERLOADED', 'The server is busy; try again shortly.');
  }
}
