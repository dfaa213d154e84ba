// Where an ingest's time goes. Its stages overlap (the next page is read and validated while
// the embedder runs and the database writes), so summing call durations says little: each stage
// counts the wall time during which it had work in flight (overlapping calls once) and the
// images that went through it. images ÷ active time is the rate a stage sustains while it runs;
// the stage active for most of the run is what bounds it.

/** An ingest's stages, in the order an image goes through them. */
export const INGEST_STAGES = [
  'read', // the image's bytes from the source (file or HTTP)
  'validate', // type and size checks, perceptual hash
  'dedupe', // exact and near-duplicate lookups in the catalog
  'embed', // preprocessing and the embedder (every model that is indexing or active)
  'render', // the display and thumbnail renditions, saved to the media store
  'write', // the unit of work that stores a batch
] as const;

export type IngestStage = (typeof INGEST_STAGES)[number];

export interface StageRate {
  stage: IngestStage;
  images: number;
  /** Wall time with at least one call of this stage in flight. */
  activeMs: number;
  /** images ÷ active time (0 when the stage never ran). */
  imagesPerSecond: number;
}

interface Tally {
  inFlight: number;
  since: number;
  activeMs: number;
  images: number;
}

export class StageClock {
  private readonly tallies = new Map<IngestStage, Tally>();

  /** Runs `work` as a call of `stage` that handles `images` images. */
  async time<T>(stage: IngestStage, images: number, work: () => Promise<T>): Promise<T> {
    let tally = this.tallies.get(stage);
    if (!tally) this.tallies.set(stage, (tally = { inFlight: 0, since: 0, activeMs: 0, images: 0 }));
    if (tally.inFlight++ === 0) tally.since = performance.now();
    try {
      return await work();
    } finally {
      tally.images += images;
      if (--tally.inFlight === 0) tally.activeMs += performance.now() - tally.since;
    }
  }

  /** Every stage that ran, in INGEST_STAGES order. */
  rates(): StageRate[] {
    return INGEST_STAGES.flatMap((stage) => {
      const t = this.tallies.get(stage);
      if (!t) return [];
      const activeMs = Math.round(t.activeMs);
      return [
        {
          stage,
          images: t.images,
          activeMs,
          imagesPerSecond: t.activeMs > 0 ? +((t.images / t.activeMs) * 1000).toFixed(1) : 0,
        },
      ];
    });
  }
}
