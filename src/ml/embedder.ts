// The embedder model: NCHW image tensors in, unit-length embeddings and the feature maps the
// scorer compares out, in one onnxruntime run per batch.
import * as ort from 'onnxruntime-node';
import type { Manifest } from './manifest.js';
import { ModelError, type ImageEmbedding, type ModelInfo } from './types.js';

/** The embedder's tensor names, from the manifest. */
export function embedderNames(manifest: Manifest) {
  const file = manifest.files.embedder;
  return {
    input: file.inputs[0].name,
    embedding: file.outputs.find((o) => o.name === 'embedding')?.name ?? 'embedding',
    features: file.outputs.find((o) => o.name === 'features')?.name ?? 'features',
  };
}

export class Embedder {
  private readonly names: ReturnType<typeof embedderNames>;
  private readonly side: number;
  private readonly dim: number;
  private readonly featureSize: number;

  constructor(
    private readonly session: ort.InferenceSession,
    manifest: Manifest,
    private readonly info: ModelInfo,
  ) {
    this.names = embedderNames(manifest);
    this.side = manifest.input.size;
    this.dim = info.dim;
    const [C, H, W] = info.featureShape;
    this.featureSize = C * H * W;
  }

  /** Runs the model on n ready-made NCHW tensors (n × 3 × S × S floats): no preprocessing, raw outputs. */
  async run(input: Float32Array, n: number): Promise<{ embedding: Float32Array; features: Float32Array }> {
    const S = this.side;
    const out = await this.session.run({ [this.names.input]: new ort.Tensor('float32', input, [n, 3, S, S]) });
    const e = out[this.names.embedding]!;
    const f = out[this.names.features]!;
    const embedding = e.data as Float32Array;
    const features = f.data as Float32Array;
    if (embedding.length !== n * this.dim || features.length !== n * this.featureSize) {
      const [C, H, W] = this.info.featureShape;
      throw new ModelError(
        `embedder returned ${e.dims.join('×')} and ${f.dims.join('×')}; the manifest says [${n}, ${this.dim}] and [${n}, ${C}, ${H}, ${W}]`,
      );
    }
    return { embedding, features };
  }

  /** Embeds preprocessed images (3 × S × S floats each) in one run. */
  async embedTensors(tensors: Float32Array[]): Promise<ImageEmbedding[]> {
    const n = tensors.length;
    const imageSize = 3 * this.side * this.side;
    const input = new Float32Array(n * imageSize);
    tensors.forEach((t, i) => input.set(t, i * imageSize));
    const { embedding, features } = await this.run(input, n);
    return tensors.map((_, i) => ({
      vector: normalise(embedding.slice(i * this.dim, (i + 1) * this.dim)),
      features: features.slice(i * this.featureSize, (i + 1) * this.featureSize),
    }));
  }
}

/** Unit length (the model already normalises; this guards against float drift). */
function normalise(v: Float32Array): Float32Array {
  let s = 0;
  for (const x of v) s += x * x;
  const n = Math.sqrt(s);
  if (n > 0) for (let i = 0; i < v.length; i++) v[i] = v[i]! / n;
  return v;
}
