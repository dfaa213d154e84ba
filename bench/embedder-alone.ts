// The embedder alone, as the benchmarks compare the service with it: onnxruntime-node through
// src/ml on random input, batch-1 latency and batch-32 images/s (medians over a time budget).
import { pino } from 'pino';
import { loadModels } from '../src/ml/index.js';
import { percentile } from '../src/eval/percentile.js';

export interface EmbedderAlone {
  model: string;
  batch1Ms: number;
  batch32MsPerImage: number;
  batch32ImagesPerSecond: number;
}

export async function embedderAlone(seconds: number, modelsDir = 'models'): Promise<EmbedderAlone> {
  const models = await loadModels({ modelsDir, providers: ['cpu'], batchSize: 32, logger: pino({ level: 'warn' }) });
  const S = models.info.inputSize;
  const budget = seconds * 1000;
  const perImage = async (batch: number) => {
    const input = Float32Array.from({ length: batch * 3 * S * S }, () => Math.random() * 2 - 1);
    for (let i = 0; i < 5; i++) await models.runEmbedder(input, batch);
    const times: number[] = [];
    const started = performance.now();
    while (performance.now() - started < budget) {
      const t = performance.now();
      await models.runEmbedder(input, batch);
      times.push(performance.now() - t);
    }
    return percentile(times, 50) / batch;
  };
  const batch1Ms = await perImage(1);
  const batch32MsPerImage = await perImage(32);
  await models.close();
  return { model: models.info.key, batch1Ms, batch32MsPerImage, batch32ImagesPerSecond: 1000 / batch32MsPerImage };
}
