// What the catalog write path takes and reports: prepared images, items, the near-duplicate
// policy, and the decision taken about each image.
import type { ProductRecord, SavedProduct, UnitOfWork } from '../db/index.js';
import type { ValidatedImage, ValidateImageOptions } from '../images/index.js';
import type { ImageEmbedding } from '../ml/types.js';

export interface ImageInput {
  bytes: Buffer;
  sourceUrl?: string | null;
}

/** An image that passed validation, with its perceptual hash: ready for the dedupe decisions. */
export interface PreparedImage {
  image: ValidatedImage;
  phash: string;
  /** Where it came from (URL or path), kept as the image's sourceUrl. */
  ref: string | null;
}

export interface ImportItem {
  product: ProductRecord;
  images: PreparedImage[];
}

export interface NearDuplicatePolicy {
  /** link: store the newcomer and link it to the image it duplicates; skip: keep only the first. */
  action: 'link' | 'skip';
  /** Most differing bits of the 64-bit perceptual hash for a candidate. */
  maxHamming: number;
  /** Largest embedding distance (model metric) that confirms a candidate. */
  maxDistance: number;
}

/** What happened to one image of an item. */
export type ImageDecision = { ref: string | null; sha256: string } & (
  | { decision: 'new'; imageId: string }
  | { decision: 'unchanged'; imageId: string }
  | { decision: 'exact_duplicate'; ofProductId: string; ofImageId: string }
  | {
      decision: 'near_duplicate';
      action: 'linked' | 'skipped';
      /** The stored newcomer when linked. */
      imageId: string | null;
      ofProductId: string;
      ofImageId: string;
      hamming: number;
      distance: number;
    }
);

export interface ImportResult extends SavedProduct {
  images: ImageDecision[];
}

export interface ImportOptions {
  nearDuplicates?: NearDuplicatePolicy;
  /** Ingest run the near-duplicate decisions are recorded under. */
  runId?: string;
  /** Runs inside the unit of work that writes the products (after them). */
  alsoInTx?: (tx: UnitOfWork, results: ImportResult[]) => Promise<void>;
  /** The batch's images embedded beforehand (ProductImporter.embedAhead); the rest are embedded here. */
  embedded?: EmbeddedAhead;
  /** Receives the time of each write-path stage (an ingest's StageClock). */
  clock?: ImportClock;
}

/** The write path's stages, timed by whoever runs it (src/ingest/stage-clock.ts is one). */
export interface ImportClock {
  time<T>(stage: 'dedupe' | 'embed' | 'render' | 'write', images: number, work: () => Promise<T>): Promise<T>;
}

/** Embeddings made ahead of an import, by image sha256, with the model that made them. */
export interface EmbeddedAhead {
  modelKey: string;
  bySha256: Map<string, ImageEmbedding>;
}

export interface ImporterOptions {
  imageLimits: ValidateImageOptions;
  nearDuplicates: NearDuplicatePolicy;
}

/** An image not in the catalog yet, with the id it will be stored under. */
export interface FreshImage {
  kind: 'fresh';
  ref: string | null;
  prepared: PreparedImage;
  id: string;
}

/** Where an image's fate is decided before the write; resolved to product ids after it. */
export type Pending =
  | FreshImage
  | { kind: 'decided'; decision: ImageDecision }
  | { kind: 'sameBatch'; ref: string | null; sha256: string; item: number; imageId: string };
