// The searches rerankSearch can re-rank, kept off the search's path: a search's record goes into a
// bounded in-memory store at once (least recently used out first, none older than the searches'
// time to live) and is written to the database after the response, several to a statement. The
// database serves the re-ranks this process no longer holds (another API process, a restart). A
// write that fails costs only that fallback: the search has been answered already.
import { LRUCache } from 'lru-cache';
import type { NewSearch, SearchRepository, SearchToRerank, StoredHit } from '../db/index.js';

export type SearchRecord = NewSearch & { id: string };

export interface SearchRecordsOptions {
  /** Bytes of searches held in memory (each is mostly its scorer features: 73 KB with 2.6.0's 128×12×12). */
  maxBytes: number;
  /** How long a search can be re-ranked (SEARCH_TTL_HOURS). */
  ttlMs: number;
  /** How long a record waits before it is written, so that writes come after responses and in groups. */
  writeDelayMs: number;
  /** Told of each failed write (the searches stay re-rankable from memory). */
  onWriteFailed(error: unknown, searches: number): void;
}

/** Most records written in one statement. */
const MAX_WRITE = 64;

/** A record's memory: its vectors, and about a kilobyte for its hits and parameters. */
const recordBytes = (r: SearchRecord) => r.queryFeatures.byteLength + r.queryEmbedding.byteLength + 1024;

export class SearchRecords {
  private readonly recent: LRUCache<string, SearchRecord>;
  /** Written next, oldest first; bounded like the memory store (while the database is down). */
  private readonly pending = new Map<string, SearchRecord>();
  private pendingBytes = 0;
  /** Re-ranked orders of searches already written. */
  private readonly reranks = new Map<string, StoredHit[]>();
  private timer: NodeJS.Timeout | null = null;
  private writing: Promise<void> = Promise.resolve();

  constructor(
    private readonly repository: SearchRepository,
    private readonly options: SearchRecordsOptions,
  ) {
    this.recent = new LRUCache({ maxSize: options.maxBytes, sizeCalculation: recordBytes, ttl: options.ttlMs });
  }

  /** Holds a new search for re-ranking and queues its database write. */
  add(record: SearchRecord): void {
    this.recent.set(record.id, record);
    this.pending.set(record.id, record);
    this.pendingBytes += recordBytes(record);
    while (this.pendingBytes > this.options.maxBytes && this.pending.size > 1) {
      const [oldest] = this.pending.values();
      this.dequeue(oldest!);
      this.options.onWriteFailed(new Error('too many searches waiting to be written'), 1);
    }
    this.schedule();
  }

  /** Stores a search's re-ranked order with it (best effort, after the response). */
  reranked(id: string, hits: StoredHit[]): void {
    const record = this.pending.get(id) ?? this.recent.get(id);
    if (record) record.reranked = hits;
    if (!this.pending.has(id)) this.reranks.set(id, hits);
    this.schedule();
  }

  /** The search to re-rank: from memory, else from the database; null when neither has it. */
  async find(id: string): Promise<SearchToRerank | null> {
    return this.recent.get(id) ?? (await this.repository.toRerank(id));
  }

  /** Writes everything queued so far (shutdown, tests). */
  async flush(): Promise<void> {
    if (this.timer) clearTimeout(this.timer);
    this.timer = null;
    this.writing = this.writing.then(() => this.write());
    await this.writing;
  }

  private schedule(): void {
    if (this.timer) return;
    this.timer = setTimeout(() => void this.flush(), this.options.writeDelayMs);
    this.timer.unref();
  }

  private dequeue(record: SearchRecord): void {
    this.pending.delete(record.id);
    this.pendingBytes -= recordBytes(record);
  }

  private async write(): Promise<void> {
    while (this.pending.size > 0) {
      const batch = [...this.pending.values()].slice(0, MAX_WRITE);
      for (const r of batch) this.dequeue(r);
      try {
        await this.repository.saveMany(batch);
      } catch (error) {
        this.options.onWriteFailed(error, batch.length);
        return;
      }
    }
    for (const [id, hits] of [...this.reranks]) {
      this.reranks.delete(id);
      try {
        await this.repository.saveRerank(id, hits);
      } catch (error) {
        this.options.onWriteFailed(error, 1);
      }
    }
  }
}
