// The pairwise scorer model: the query's feature map and served embedding against each
// candidate's, in runs of at most batchSize pairs.
import * as ort from 'onnxruntime-node';
import type { Manifest } from './manifest.js';
import { ModelError, type ImageEmbedding, type ModelInfo } from './types.js';

/**
 * The scorer's tensor names, from the manifest: both feature maps, then both served embeddings
 * (their cosine is the scorer's base). Scorers before siamese-cc0 2.4.0 take the feature maps only.
 */
export function scorerNames(manifest: Manifest) {
  const [query, candidate, queryEmbedding, candidateEmbedding] = manifest.files.scorer.inputs;
  return {
    query: query.name,
    candidate: candidate.name,
    embeddings: queryEmbedding && candidateEmbedding ? { query: queryEmbedding.name, candidate: candidateEmbedding.name } : null,
    score: manifest.files.scorer.outputs[0].name,
  };
}

/** n images' scorer inputs, each concatenated in order: feature maps (n×C×H×W) and embeddings (n×dim). */
export interface ScorerBatch {
  features: Float32Array;
  vectors: Float32Array;
}

export class Scorer {
  private readonly names: ReturnType<typeof scorerNames>;
  private readonly featureShape: [number, number, number];
  private readonly featureSize: number;
  private readonly dim: number;

  constructor(
    private readonly session: ort.InferenceSession,
    manifest: Manifest,
    info: ModelInfo,
    /** Most pairs per run. */
    private readonly batchSize: number,
  ) {
    this.names = scorerNames(manifest);
    this.featureShape = info.featureShape;
    const [C, H, W] = info.featureShape;
    this.featureSize = C * H * W;
    this.dim = info.dim;
  }

  /** Runs the model on n ready-made pairs. */
  async run(query: ScorerBatch, candidates: ScorerBatch, n: number): Promise<Float32Array> {
    const dims = [n, ...this.featureShape];
    const feeds: Record<string, ort.Tensor> = {
      [this.names.query]: new ort.Tensor('float32', query.features, dims),
      [this.names.candidate]: new ort.Tensor('float32', candidates.features, dims),
    };
    if (this.names.embeddings) {
      feeds[this.names.embeddings.query] = new ort.Tensor('float32', query.vectors, [n, this.dim]);
      feeds[this.names.embeddings.candidate] = new ort.Tensor('float32', candidates.vectors, [n, this.dim]);
    }
    const out = await this.session.run(feeds);
    const s = out[this.names.score]!.data as Float32Array;
    if (s.length !== n) throw new ModelError(`scorer returned ${s.length} scores for ${n} pairs`);
    return s;
  }

  /** Match probability in [0, 1] of the query against each candidate (embedder outputs of each). */
  async score(query: ImageEmbedding, candidates: ImageEmbedding[]): Promise<number[]> {
    this.check(query, 'query');
    candidates.forEach((c, i) => this.check(c, `candidate ${i}`));
    const size = this.featureSize;
    const dim = this.dim;
    const scores: number[] = [];
    for (let start = 0; start < candidates.length; start += this.batchSize) {
      const chunk = candidates.slice(start, start + this.batchSize);
      const n = chunk.length;
      const q = { features: new Float32Array(n * size), vectors: new Float32Array(n * dim) };
      const c = { features: new Float32Array(n * size), vectors: new Float32Array(n * dim) };
      chunk.forEach((cand, i) => {
        q.features.set(query.features, i * size);
        q.vectors.set(query.vector, i * dim);
        c.features.set(cand.features, i * size);
        c.vectors.set(cand.vector, i * dim);
      });
      const s = await this.run(q, c, n);
      for (const v of s) scores.push(v);
    }
    return scores;
  }

  private check(e: ImageEmbedding, what: string): void {
    if (e.features.length !== this.featureSize) {
      const [C, H, W] = this.featureShape;
      throw new RangeError(`${what} features must have ${this.featureSize} floats (${C}×${H}×${W}), got ${e.features.length}`);
    }
    if (e.vector.length !== this.dim) throw new RangeError(`${what} embedding must have ${this.dim} floats, got ${e.vector.length}`);
  }
}
