// The ML edge: verified models → onnxruntime sessions → Models (embed in micro-batches, score pairs).
import * as ort from 'onnxruntime-node';
import type { Logger } from 'pino';
import { loadManifest, type Manifest } from './manifest.js';
import { toTensor, type ToTensorOptions } from './preprocess.js';
import { openSession, type ExecutionProvider } from './session.js';
import type { ValidatedImage } from '../images/index.js';
import { ModelError, type ImageEmbedding, type ModelInfo, type Models, type Region } from './types.js';

export * from './types.js';
export { loadManifest, type InputSpec, type LoadedManifest, type Manifest } from './manifest.js';
export { toTensor, validateRegion, type ResizeMethod } from './preprocess.js';
export type { ExecutionProvider } from './session.js';

export interface LoadModelsOptions {
  /** Folder with manifest.json and the files it names (config MODELS_DIR). */
  modelsDir: string;
  /** Execution providers to try in order (config ML_PROVIDERS). */
  providers: readonly ExecutionProvider[];
  /** Most images per embedder run (config ML_BATCH_SIZE). */
  batchSize: number;
  logger: Logger;
  /** Most pairs per scorer run (default 256). */
  scoreBatchSize?: number;
  /** Intra-op threads per session (default: available cores, at most 8). */
  threads?: number;
  /** Check the files' sha256 against the manifest (default true). */
  verify?: boolean;
  /** Preprocessing options (resize method); the default matches training. */
  preprocess?: ToTensorOptions;
}

/** Models plus what the loader learnt; `Models` is all the service needs. */
export interface LoadedModels extends Models {
  manifest: Manifest;
  /** Provider of each session (the scorer may fall back independently). */
  providers: { embedder: ExecutionProvider; scorer: ExecutionProvider };
  /** Embedder runs so far, images they held, and the largest batch (micro-batching at work). */
  stats(): { embedRuns: number; embeddedImages: number; largestBatch: number };
  /** Runs the embedder on ready-made NCHW tensors (n × 3 × S × S floats): no batching, no preprocessing. */
  runEmbedder(input: Float32Array, n: number): Promise<{ embedding: Float32Array; features: Float32Array }>;
  /** Runs the scorer on n ready-made feature pairs. */
  runScorer(query: Float32Array, candidates: Float32Array, n: number): Promise<Float32Array>;
}

interface Pending {
  tensor: Float32Array;
  resolve: (e: ImageEmbedding) => void;
  reject: (err: unknown) => void;
}

/** Loads and verifies the models in modelsDir and opens their sessions. */
export async function loadModels(opts: LoadModelsOptions): Promise<LoadedModels> {
  if (!Number.isInteger(opts.batchSize) || opts.batchSize < 1) throw new RangeError('batchSize must be a positive integer');
  const log = opts.logger.child({ component: 'ml' });
  const started = Date.now();
  const { manifest, info, paths } = await loadManifest(opts.modelsDir, { verify: opts.verify ?? true });
  const spec = manifest.input;
  const S = spec.size;
  const imageSize = 3 * S * S;
  const [C, H, W] = info.featureShape;
  const featureSize = C * H * W;
  const dim = info.dim;
  const emb = manifest.files.embedder;
  const sco = manifest.files.scorer;
  const inputName = emb.inputs[0].name;
  const embeddingName = emb.outputs.find((o) => o.name === 'embedding')?.name ?? 'embedding';
  const featuresName = emb.outputs.find((o) => o.name === 'features')?.name ?? 'features';
  const [queryName, candidateName] = [sco.inputs[0].name, sco.inputs[1].name];
  const scoreName = sco.outputs[0].name;
  const scoreBatch = opts.scoreBatchSize ?? 256;

  const embedder = await openSession(paths.embedder, { ...sessionOpts(opts, log), label: 'embedder' });
  // The scorer starts from the provider the embedder got: no point retrying what already failed.
  const scorerProviders = opts.providers.slice(opts.providers.indexOf(embedder.provider));
  let scorer: Awaited<ReturnType<typeof openSession>>;
  try {
    scorer = await openSession(paths.scorer, { ...sessionOpts(opts, log), providers: scorerProviders, label: 'scorer' });
  } catch (err) {
    await embedder.session.release();
    throw err;
  }
  try {
    checkNames(embedder.session, [inputName], [embeddingName, featuresName], 'embedder');
    checkNames(scorer.session, [queryName, candidateName], [scoreName], 'scorer');
  } catch (err) {
    await Promise.all([embedder.session.release(), scorer.session.release()]);
    throw err;
  }
  log.info(
    { model: info.key, embedder: embedder.provider, scorer: scorer.provider, batchSize: opts.batchSize, ms: Date.now() - started },
    `models ${info.key} loaded on ${embedder.provider}`,
  );

  let closed = false;
  const assertOpen = () => {
    if (closed) throw new ModelError('The models are closed.');
  };

  async function runEmbedder(input: Float32Array, n: number) {
    const out = await embedder.session.run({ [inputName]: new ort.Tensor('float32', input, [n, 3, S, S]) });
    const e = out[embeddingName]!;
    const f = out[featuresName]!;
    const embedding = e.data as Float32Array;
    const features = f.data as Float32Array;
    if (embedding.length !== n * dim || features.length !== n * featureSize) {
      throw new ModelError(`embedder returned ${e.dims.join('×')} and ${f.dims.join('×')}; the manifest says [${n}, ${dim}] and [${n}, ${C}, ${H}, ${W}]`);
    }
    return { embedding, features };
  }

  async function runScorer(query: Float32Array, candidates: Float32Array, n: number) {
    const dims = [n, C, H, W];
    const out = await scorer.session.run({
      [queryName]: new ort.Tensor('float32', query, dims),
      [candidateName]: new ort.Tensor('float32', candidates, dims),
    });
    const s = out[scoreName]!.data as Float32Array;
    if (s.length !== n) throw new ModelError(`scorer returned ${s.length} scores for ${n} pairs`);
    return s;
  }

  // Micro-batching: embed() calls queue their tensors; one run at a time takes up to batchSize of
  // them. Whatever arrives while a run is in flight goes into the next run.
  const queue: Pending[] = [];
  const counters = { embedRuns: 0, embeddedImages: 0, largestBatch: 0 };
  let running = false;
  let scheduled = false;

  const schedule = () => {
    if (running || scheduled || queue.length === 0) return;
    scheduled = true;
    // setImmediate lets requests that become ready in the same turn join the first batch.
    setImmediate(() => {
      scheduled = false;
      void drain();
    });
  };

  async function drain() {
    if (running) return;
    running = true;
    try {
      while (queue.length > 0) {
        const batch = queue.splice(0, opts.batchSize);
        const n = batch.length;
        counters.embedRuns++;
        counters.embeddedImages += n;
        counters.largestBatch = Math.max(counters.largestBatch, n);
        const input = new Float32Array(n * imageSize);
        batch.forEach((p, i) => input.set(p.tensor, i * imageSize));
        try {
          const { embedding, features } = await runEmbedder(input, n);
          batch.forEach((p, i) => {
            p.resolve({
              vector: normalise(embedding.slice(i * dim, (i + 1) * dim)),
              features: features.slice(i * featureSize, (i + 1) * featureSize),
            });
          });
        } catch (err) {
          for (const p of batch) p.reject(err);
        }
      }
    } finally {
      running = false;
    }
  }

  const enqueue = (tensor: Float32Array) =>
    new Promise<ImageEmbedding>((resolve, reject) => {
      queue.push({ tensor, resolve, reject });
      schedule();
    });

  return {
    info,
    provider: embedder.provider,
    providers: { embedder: embedder.provider, scorer: scorer.provider },
    manifest,
    runEmbedder,
    runScorer,
    stats: () => ({ ...counters }),

    async embed(images: { image: ValidatedImage; region?: Region }[]): Promise<ImageEmbedding[]> {
      assertOpen();
      if (images.length === 0) return [];
      // Preprocess all first (sharp works off the event loop); a bad image fails the whole call
      // before anything is queued.
      const tensors = await Promise.all(images.map(({ image, region }) => toTensor(image, spec, region, opts.preprocess)));
      assertOpen();
      return Promise.all(tensors.map(enqueue));
    },

    async score(query: Float32Array, candidates: Float32Array[]): Promise<number[]> {
      assertOpen();
      if (query.length !== featureSize) throw new RangeError(`query features must have ${featureSize} floats (${C}×${H}×${W}), got ${query.length}`);
      candidates.forEach((c, i) => {
        if (c.length !== featureSize) throw new RangeError(`candidate ${i} features must have ${featureSize} floats, got ${c.length}`);
      });
      const scores: number[] = [];
      for (let start = 0; start < candidates.length; start += scoreBatch) {
        const chunk = candidates.slice(start, start + scoreBatch);
        const n = chunk.length;
        const q = new Float32Array(n * featureSize);
        const c = new Float32Array(n * featureSize);
        chunk.forEach((cand, i) => {
          q.set(query, i * featureSize);
          c.set(cand, i * featureSize);
        });
        const s = await runScorer(q, c, n);
        for (const v of s) scores.push(v);
      }
      return scores;
    },

    async close(): Promise<void> {
      if (closed) return;
      closed = true;
      // Let queued work finish before the sessions go.
      while (running || scheduled || queue.length > 0) await new Promise((r) => setTimeout(r, 5));
      await Promise.all([embedder.session.release(), scorer.session.release()]);
      log.debug({ model: info.key }, 'models closed');
    },
  };
}

function sessionOpts(opts: LoadModelsOptions, logger: Logger) {
  return { providers: opts.providers, logger, ...(opts.threads ? { threads: opts.threads } : {}) };
}

function checkNames(session: ort.InferenceSession, inputs: string[], outputs: string[], label: string) {
  const missing = [
    ...inputs.filter((n) => !session.inputNames.includes(n)).map((n) => `input "${n}"`),
    ...outputs.filter((n) => !session.outputNames.includes(n)).map((n) => `output "${n}"`),
  ];
  if (missing.length) {
    throw new ModelError(
      `${label}.onnx lacks ${missing.join(', ')} named in the manifest (it has inputs ${session.inputNames.join(', ')}; outputs ${session.outputNames.join(', ')})`,
    );
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

export type { ModelInfo };
