// A worker thread of the embed pool: decodes, preprocesses and embeds images off the service's
// event loop. onnxruntime-node runs a session synchronously on the thread that calls it, and the
// exact PIL resampler is JavaScript, so on the main thread both would stall every other request.
// Concurrent tasks (the pool sends up to a batch's worth) share model runs through a MicroBatcher.
import { workerData } from 'piscina';
import pino from 'pino';
import { ImageError, type ValidatedImage } from '../images/index.js';
import { Embedder } from './embedder.js';
import type { Manifest } from './manifest.js';
import { MicroBatcher } from './micro-batcher.js';
import { toTensor, type ToTensorOptions } from './preprocess.js';
import { openSession, type ExecutionProvider } from './session.js';
import type { ImageEmbedding, ModelInfo, Region } from './types.js';

export interface EmbedWorkerData {
  embedderPath: string;
  manifest: Manifest;
  info: ModelInfo;
  provider: ExecutionProvider;
  batchSize: number;
  threads?: number;
  preprocess?: ToTensorOptions;
}

export interface EmbedTask {
  image: ValidatedImage;
  region?: Region;
}

/** An image error crosses the thread boundary as data: structured cloning drops an Error's class and code. */
export type EmbedResult =
  | { ok: true; embedding: ImageEmbedding; ms: { preprocess: number; queue: number; embed: number } }
  | { ok: false; code: ImageError['code']; message: string };

const data = workerData as EmbedWorkerData;
const { session } = await openSession(data.embedderPath, {
  providers: [data.provider],
  logger: pino({ level: 'warn' }),
  label: 'embedder (worker)',
  ...(data.threads ? { threads: data.threads } : {}),
});
const embedder = new Embedder(session, data.manifest, data.info);
const batcher = new MicroBatcher((tensors: Float32Array[]) => embedder.embedTensors(tensors), data.batchSize);

export default async function embed({ image, region }: EmbedTask): Promise<EmbedResult> {
  const started = performance.now();
  let tensor: Float32Array;
  try {
    // Structured cloning turns the Buffer into a plain Uint8Array; sharp wants a Buffer.
    const bytes = Buffer.from(image.bytes.buffer, image.bytes.byteOffset, image.bytes.byteLength);
    tensor = await toTensor({ ...image, bytes }, data.manifest.input, region, data.preprocess);
  } catch (err) {
    if (err instanceof ImageError) return { ok: false, code: err.code, message: err.message };
    throw err;
  }
  const preprocess = performance.now() - started;
  let queue = 0;
  let ran = 0;
  const embedding = await batcher.add(tensor, (w, r) => ([queue, ran] = [w, r]));
  return { ok: true, embedding, ms: { preprocess, queue, embed: ran } };
}
