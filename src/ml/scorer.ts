// The pairwise scorer model: the query's feature map against each candidate's, in runs of at
// most batchSize pairs.
import * as ort from 'onnxruntime-node';
import type { Manifest } from './manifest.js';
import { ModelError, type ModelInfo } from './types.js';

/** The scorer's tensor names, from the manifest. */
export function scorerNames(manifest: Manifest) {
  const file = manifest.files.scorer;
  return { query: file.inputs[0].name, candidate: file.inputs[1].name, score: file.outputs[0].name };
}

export class Scorer {
  private readonly names: ReturnType<typeof scorerNames>;
  private readonly featureShape: [number, number, number];
  private readonly featureSize: number;

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
  }

  /** Runs the model on n ready-made feature pairs (n feature maps each side). */
  async run(query: Float32Array, candidates: Float32Array, n: number): Promise<Float32Array> {
    const dims = [n, ...this.featureShape];
    const out = await this.session.run({
      [this.names.query]: new ort.Tensor('float32', query, dims),
      [this.names.candidate]: new ort.Tensor('float32', candidates, dims),
    });
    const s = out[this.names.score]!.data as Float32Array;
    if (s.length !== n) throw new ModelError(`scorer returned ${s.length} scores for ${n} pairs`);
    return s;
  }

  /** Match probability in [0, 1] of the query's feature map against each candidate's. */
  async score(query: Float32Array, candidates: Float32Array[]): Promise<number[]> {
    const size = this.featureSize;
    if (query.length !== size) {
      const [C, H, W] = this.featureShape;
      throw new RangeError(`query features must have ${size} floats (${C}×${H}×${W}), got ${query.length}`);
    }
    candidates.forEach((c, i) => {
      if (c.length !== size) throw new RangeError(`candidate ${i} features must have ${size} floats, got ${c.length}`);
    });
    const scores: number[] = [];
    for (let start = 0; start < candidates.length; start += this.batchSize) {
      const chunk = candidates.slice(start, start + this.batchSize);
      const n = chunk.length;
      const q = new Float32Array(n * size);
      const c = new Float32Array(n * size);
      chunk.forEach((cand, i) => {
        q.set(query, i * size);
        c.set(cand, i * size);
      });
      const s = await this.run(q, c, n);
      for (const v of s) scores.push(v);
    }
    return scores;
  }
}
