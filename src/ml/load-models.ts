// Verified models → onnxruntime sessions → Models: embed() preprocesses and micro-batches images
// through the embedder, score() runs the scorer over feature pairs.
import type { Logger } from 'pino';
import type { ValidatedImage } from '../images/index.js';
import { Embedder, embedderNames } from './embedder.js';
import { loadManifest, type Manifest } from './manifest.js';
import { MicroBatcher } from './micro-batcher.js';
import { EmbedPool } from './embed-pool.js';
import { toTensor, validateRegion, type ToTensorOptions } from './preprocess.js';
import { Scorer, scorerNames, type ScorerBatch } from './scorer.js';
import { assertTensorNames, openSession, type ExecutionProvider } from './session.js';
import { ModelError, type EmbedTimings, type ImageEmbedding, type Models, type Region } from './types.js';

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
  /**
   * Worker threads that preprocess and embed (config ML_WORKERS; default 0: on the calling
   * thread). Each holds its own embedder session.
   */
  workers?: number;
}

/** Models plus what the loader learnt; `Models` is all the service needs. */
export interface LoadedModels extends Models {
  manifest: Manifest;
  /** Provider of each session (the scorer may fall back independently). */
  providers: { embedder: ExecutionProvider; scorer: ExecutionProvider };
  /** Embedder runs on the calling thread so far, images they held, and the largest batch (micro-batching at work; workers batch on their own). */
  stats(): { embedRuns: number; embeddedImages: number; largestBatch: number };
  /** Runs the embedder on ready-made NCHW tensors (n × 3 × S × S floats): no batching, no preprocessing. */
  runEmbedder(input: Float32Array, n: number): Promise<{ embedding: Float32Array; features: Float32Array }>;
  /** Runs the scorer on n ready-made pairs. */
  runScorer(query: ScorerBatch, candidates: ScorerBatch, n: number): Promise<Float32Array>;
}

/** Loads and verifies the models in modelsDir and opens their sessions. */
export async function loadModels(opts: LoadModelsOptions): Promise<LoadedModels> {
  if (!Number.isInteger(opts.batchSize) || opts.batchSize < 1)
    throw new RangeError('batchSize must be a positive integer');
  const log = opts.logger.child({ component: 'ml' });
  const started = Date.now();
  const { manifest, info, paths } = await loadManifest(opts.modelsDir, { verify: opts.verify ?? true });
  const sessionOpts = { providers: opts.providers, logger: log, ...(opts.threads ? { threads: opts.threads } : {}) };

  const embedderSession = await openSession(paths.embedder, { ...sessionOpts, label: 'embedder' });
  // The scorer starts from the provider the embedder got: no point retrying what already failed.
  const scorerProviders = opts.providers.slice(opts.providers.indexOf(embedderSession.provider));
  let scorerSession: Awaited<ReturnType<typeof openSession>>;
  try {
    scorerSession = await openSession(paths.scorer, { ...sessionOpts, providers: scorerProviders, label: 'scorer' });
  } catch (err) {
    await embedderSession.session.release();
    throw err;
  }
  const release = () => Promise.all([embedderSession.session.release(), scorerSession.session.release()]);
  try {
    const e = embedderNames(manifest);
    const s = scorerNames(manifest);
    assertTensorNames(embedderSession.session, [e.input], [e.embedding, e.features], 'embedder');
    const scorerInputs = [s.query, s.candidate, ...(s.embeddings ? [s.embeddings.query, s.embeddings.candidate] : [])];
    assertTensorNames(scorerSession.session, scorerInputs, [s.score], 'scorer');
  } catch (err) {
    await release();
    throw err;
  }
  // One line says which provider runs and why the ones before it in the list do not.
  const skipped = embedderSession.skipped;
  const why = skipped.length
    ? skipped.map((s) => `${s.provider} unavailable: ${s.reason}`).join('; ')
    : 'the first of the configured providers';
  log.info(
    {
      model: info.key,
      embedder: embedderSession.provider,
      scorer: scorerSession.provider,
      skipped: Object.fromEntries(skipped.map((s) => [s.provider, s.reason])),
      batchSize: opts.batchSize,
      ms: Date.now() - started,
    },
    `models ${info.key} loaded on ${embedderSession.provider} (${why})`,
  );

  const embedder = new Embedder(embedderSession.session, manifest, info);
  const scorer = new Scorer(scorerSession.session, manifest, info, opts.scoreBatchSize ?? 256);
  const batcher = new MicroBatcher((tensors: Float32Array[]) => embedder.embedTensors(tensors), opts.batchSize);
  const pool = opts.workers
    ? new EmbedPool(opts.workers, {
        embedderPath: paths.embedder,
        manifest,
        info,
        provider: embedderSession.provider,
        batchSize: opts.batchSize,
        ...(opts.threads ? { threads: opts.threads } : {}),
        ...(opts.preprocess ? { preprocess: opts.preprocess } : {}),
      })
    : null;

  let closed = false;
  const closedError = () => new ModelError('The models are closed.');
  const assertOpen = () => {
    if (closed) throw closedError();
  };
  // Session runs not behind the batcher (scoring, direct runs): close() waits for them, since
  // releasing a session while onnxruntime still runs it ends the process, not just the call.
  const running = new Set<Promise<unknown>>();
  const track = <T>(run: () => Promise<T>): Promise<T> => {
    if (closed) return Promise.reject(closedError());
    const p = run();
    running.add(p);
    void p.then(
      () => running.delete(p),
      () => running.delete(p),
    );
    return p;
  };

  return {
    info,
    provider: embedderSession.provider,
    providers: { embedder: embedderSession.provider, scorer: scorerSession.provider },
    manifest,
    runEmbedder: (input, n) => track(() => embedder.run(input, n)),
    runScorer: (query, candidates, n) => track(() => scorer.run(query, candidates, n)),
    stats: () => {
      const { runs, items, largestBatch } = batcher.stats();
      return { embedRuns: runs, embeddedImages: items, largestBatch };
    },

    async embed(images: { image: ValidatedImage; region?: Region }[], timings?: EmbedTimings): Promise<ImageEmbedding[]> {
      assertOpen();
      if (images.length === 0) return [];
      if (pool) {
        // Here, not in the worker: a RegionError must reach the caller as itself, and an error crosses
        // the thread boundary only as an ImageError's code and message.
        for (const { region } of images) if (region) validateRegion(region);
        const results = await Promise.all(images.map((task) => pool.embed(task)));
        // A call's images run side by side: each stage's time is its slowest image's.
        for (const stage of ['preprocess', 'queue', 'embed'] as const)
          timings?.add(stage, Math.max(...results.map((r) => r.ms[stage])));
        return results.map((r) => r.embedding);
      }
      // Preprocess all first (sharp works off the event loop); a bad image fails the whole call
      // before anything is queued.
      const started = performance.now();
      const tensors = await Promise.all(
        images.map(({ image, region }) => toTensor(image, manifest.input, region, opts.preprocess)),
      );
      timings?.add('preprocess', performance.now() - started);
      assertOpen();
      // A call's images may run in different batches: its time is its slowest image's.
      let waited = 0;
      let ran = 0;
      const onRun = (w: number, r: number) => {
        if (w + r > waited + ran) [waited, ran] = [w, r];
      };
      const out = await Promise.all(tensors.map((t) => batcher.add(t, onRun)));
      timings?.add('queue', waited);
      timings?.add('embed', ran);
      return out;
    },

    score(query: ImageEmbedding, candidates: ImageEmbedding[]): Promise<number[]> {
      return track(() => scorer.score(query, candidates));
    },

    async close(): Promise<void> {
      if (closed) return;
      closed = true;
      // Let queued and running work finish before the sessions go.
      await Promise.all([batcher.idle(), pool?.close(), Promise.allSettled([...running])]);
      await release();
      log.debug({ model: info.key }, 'models closed');
    },
  };
}
