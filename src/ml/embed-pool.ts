// The main thread's side of the embed workers (embed-worker.ts): a piscina pool whose threads
// each hold their own embedder session.
import { Piscina } from 'piscina';
import { ImageError } from '../images/index.js';
import type { EmbedResult, EmbedTask, EmbedWorkerData } from './embed-worker.js';

// Run from source (tsx, vitest), the worker is TypeScript too and starts through a loader shim.
const fromSource = import.meta.url.endsWith('.ts');
const workerUrl = new URL(`./embed-worker.${fromSource ? 'ts' : 'js'}`, import.meta.url);
const entry = fromSource
  ? { filename: new URL('../../scripts/tsx-worker.mjs', import.meta.url).href, tsEntry: workerUrl.href }
  : { filename: workerUrl.href };

export class EmbedPool {
  private readonly pool: Piscina<EmbedTask, EmbedResult>;

  constructor(workers: number, data: EmbedWorkerData) {
    this.pool = new Piscina({
      filename: entry.filename,
      minThreads: workers,
      maxThreads: workers,
      idleTimeout: Infinity,
      // A worker takes up to a batch at once, so concurrent images share its model runs.
      concurrentTasksPerWorker: data.batchSize,
      workerData: { ...data, tsEntry: entry.tsEntry },
    });
  }

  /** One image's embedding and the time (ms) it spent in each stage; a bad image throws its ImageError. */
  async embed(task: EmbedTask): Promise<Extract<EmbedResult, { ok: true }>> {
    const result = await this.pool.run(task);
    if (!result.ok) throw new ImageError(result.code, result.message);
    return result;
  }

  /** Lets running tasks finish, then stops the threads. */
  close(): Promise<void> {
    return this.pool.close();
  }
}
