// The model searches use right now, and the models new catalog images are embedded with: small
// interfaces over ModelService, so that search and ingest know nothing of model versions.
import type { VectorModel } from '../db/index.js';
import type { Models } from '../ml/types.js';

/** A loaded model and the key its embeddings are stored under. */
export interface ModelEntry {
  models: Models;
  vectorModel: VectorModel;
}

export interface ActiveModel {
  /** The active model; swapped atomically on activation (a search takes it once and keeps it). */
  current(): ModelEntry;
}

export interface ModelWriters {
  /** The active model first, then every model being indexed or ready: a new image gets an embedding from each. */
  writers(): ModelEntry[];
}
