// Re-embedding the catalog into a model: batches of the images it has no embedding for (so a
// killed job resumes where it stopped, and nothing is embedded twice), read from the stored
// display renditions, with a pause between batches so that searches keep their latency.
import { setTimeout as sleep } from 'node:timers/promises';
import type { Logger } from 'pino';
import type { Database } from '../db/index.js';
import { validateImage, type ValidateImageOptions, type ValidatedImage } from '../images/index.js';
import type { MediaStore } from '../storage/media-store.js';
import type { ModelEntry } from './active-model.js';

export interface ReembedOptions {
  db: Database;
  media: MediaStore;
  entry: ModelEntry;
  /** The lease holder (this process); the job stops when it loses the lease. */
  owner: string;
  batchSize: number;
  /** The least pause after a batch. */
  pauseMs: number;
  /** Each pause is at least this many times the batch's own time: the job takes at most 1/(1+f) of the time. */
  pauseFactor: number;
  imageLimits: ValidateImageOptions;
  signal: AbortSignal;
  logger: Logger;
}

/** done: every catalog image has an embedding; stuck: the images left cannot be read. */
export type ReembedOutcome = 'done' | 'stopped' | 'lost' | 'stuck';

export async function reembedCatalog(o: ReembedOptions): Promise<ReembedOutcome> {
  const { db, entry } = o;
  const key = entry.vectorModel.key;
  let embedded = 0;
  for (;;) {
    // One pass over what is missing, by image id; images added meanwhile are caught by the next pass.
    let after: string | null = null;
    let unreadable = 0;
    let progressed = false;
    for (;;) {
      if (o.signal.aborted) return 'stopped';
      if (!(await db.modelVersions.heartbeat(key, o.owner))) return 'lost';
      const started = performance.now();
      const batch = await db.modelVersions.missing(key, o.batchSize, after);
      if (batch.length === 0) break;
      after = batch.at(-1)!.id;
      const images = (await Promise.all(batch.map((b) => readImage(o, b)))).filter((i) => i !== null);
      unreadable += batch.length - images.length;
      if (images.length) {
        const embeddings = await entry.models.embed(images.map((i) => ({ image: i.image })));
        const written = await write(o, images.map((img, n) => ({ imageId: img.id, ...embeddings[n]! })));
        embedded += written;
        progressed ||= written > 0;
        o.logger.debug({ model: key, embedded }, 're-embedding progress');
      }
      await sleep(Math.max(o.pauseMs, (performance.now() - started) * o.pauseFactor));
    }
    if ((await db.modelVersions.countMissing(key)) === 0) {
      o.logger.info({ model: key, embedded }, 're-embedding complete');
      return 'done';
    }
    if (!progressed) {
      o.logger.error({ model: key, unreadable }, 're-embedding stopped: the images left cannot be read from the media folder');
      return 'stuck';
    }
  }
}

async function readImage(o: ReembedOptions, b: { id: string; mediaPath: string }): Promise<{ id: string; image: ValidatedImage } | null> {
  try {
    return { id: b.id, image: await validateImage(await o.media.read(b.mediaPath), o.imageLimits) };
  } catch (err) {
    o.logger.warn({ imageId: b.id, mediaPath: b.mediaPath, err }, 're-embedding skips an image it cannot read');
    return null;
  }
}

/** Writes a batch; one image deleted meanwhile (its row gone) fails only itself. */
async function write(o: ReembedOptions, items: { imageId: string; vector: Float32Array; features: Float32Array }[]): Promise<number> {
  try {
    await o.db.vectors.upsert(o.entry.vectorModel, items);
    return items.length;
  } catch {
    let written = 0;
    for (const item of items) {
      await o.db.vectors.upsert(o.entry.vectorModel, [item]).then(
        () => written++,
        () => undefined,
      );
    }
    return written;
  }
}
