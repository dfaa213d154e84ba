// The ML edge's typed interface. Nothing here knows about databases or GraphQL.
import { ImageError, type ValidatedImage } from '../images/index.js';

/** What models/manifest.json says about the shipped models (the contract with training/). */
export interface ModelInfo {
  name: string;
  version: string;
  /** `${name}@${version}+${embedder sha256, 12 hex}`: the key embeddings are stored under (manifest.ts modelKey). */
  key: string;
  /** Embedding dimension. */
  dim: number;
  /** Distance the embeddings are meant for; 'l2' over unit vectors. */
  metric: 'l2' | 'cosine' | 'ip';
  /** Square input side in pixels. */
  inputSize: number;
  /** Shape of the per-image feature map the scorer consumes, [C, H, W]. */
  featureShape: [number, number, number];
}

/** One image through the embedder. */
export interface ImageEmbedding {
  /** L2-normalised embedding, length info.dim. */
  vector: Float32Array;
  /** Spatial feature map (C*H*W floats) for the pairwise scorer. */
  features: Float32Array;
}

/** Crop in fractions of the (oriented) image: 0 <= x, y < 1, 0 < width, height <= 1. */
export interface Region {
  x: number;
  y: number;
  width: number;
  height: number;
}

/** Receives the time (ms) an embed call spent in each of its stages; the search's StageTimer is one. */
export interface EmbedTimings {
  add(stage: 'preprocess' | 'queue' | 'embed', ms: number): void;
}

export interface Models {
  info: ModelInfo;
  /** Execution provider that actually runs, e.g. 'cpu'. */
  provider: string;
  /** Embeds images (validated bytes, optional crop) in micro-batches of the configured size. */
  embed(images: { image: ValidatedImage; region?: Region }[], timings?: EmbedTimings): Promise<ImageEmbedding[]>;
  /** Pairwise match probability in [0, 1] of the query against each candidate (feature maps and embeddings). */
  score(query: ImageEmbedding, candidates: ImageEmbedding[]): Promise<number[]>;
  close(): Promise<void>;
}

/** A crop region outside the image (or malformed): an ImageError with code BAD_USER_INPUT. */
export class RegionError extends ImageError {
  constructor(message: string) {
    super('BAD_USER_INPUT', message);
    this.name = 'RegionError';
  }
}

/** The models on disk are missing, tampered with, or do not match their manifest. */
export class ModelError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'ModelError';
  }
}
