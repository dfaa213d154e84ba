// The TypeScript side against training's own fixtures (models/parity/): onnxruntime-node outputs
// vs PyTorch outputs, and sharp+TS preprocessing vs training/preprocess.py.
import { readFile } from 'node:fs/promises';
import path from 'node:path';
import pino from 'pino';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { validateImage } from '../src/images/index.js';
import { loadModels, type LoadedModels } from '../src/ml/index.js';
import { toTensor, type ResizeMethod } from '../src/ml/preprocess.js';
import { absDiff } from './support/tensors.js';

const MODELS_DIR = process.env.ML_TEST_MODELS_DIR ?? 'models';

interface TensorEntry {
  path: string;
  shape: number[];
  tolerance?: number;
  pairs?: [number, number][];
  maxAbs?: number;
  meanAbs?: number;
}
interface Parity {
  tolerance: number;
  image: { path: string; width: number; height: number };
  tensors: Record<'imageTensor' | 'input' | 'embedding' | 'features' | 'score', TensorEntry>;
}

let models: LoadedModels;
let parity: Parity;
let parityDir: string;

async function f32(entry: TensorEntry): Promise<Float32Array> {
  const buf = await readFile(path.join(parityDir, entry.path));
  const expected = entry.shape.reduce((a, b) => a * b, 1);
  expect(buf.length, `${entry.path} size`).toBe(expected * 4);
  const out = new Float32Array(expected);
  for (let i = 0; i < expected; i++) out[i] = buf.readFloatLE(i * 4);
  return out;
}

function diff(a: Float32Array, b: Float32Array) {
  expect(a.length).toBe(b.length);
  return absDiff(a, b);
}

beforeAll(async () => {
  models = await loadModels({ modelsDir: MODELS_DIR, providers: ['cpu'], batchSize: 8, logger: pino({ level: 'silent' }) });
  const parityRel = models.manifest.parity;
  expect(parityRel, 'manifest.parity').toBeTruthy();
  const parityPath = path.resolve(MODELS_DIR, parityRel!);
  parityDir = path.dirname(parityPath);
  parity = JSON.parse(await readFile(parityPath, 'utf8')) as Parity;
});

afterAll(async () => {
  await models?.close();
});

describe(`ONNX parity with PyTorch (${MODELS_DIR})`, () => {
  it('embedder: embedding and features within 1e-4', async () => {
    const { input, embedding, features } = parity.tensors;
    const n = input.shape[0]!;
    const out = await models.runEmbedder(await f32(input), n);
    const e = diff(out.embedding, await f32(embedding));
    const f = diff(out.features, await f32(features));
    console.info(`[parity] embedder embedding maxAbs ${e.maxAbs.toExponential(2)}, features maxAbs ${f.maxAbs.toExponential(2)}`);
    expect(e.maxAbs).toBeLessThanOrEqual(1e-4);
    expect(f.maxAbs).toBeLessThanOrEqual(1e-4);
  });

  it('scorer: scores for the fixture pairs within 1e-4', async () => {
    const { features, embedding, score } = parity.tensors;
    const feats = await f32(features);
    const vecs = await f32(embedding);
    const size = features.shape.slice(1).reduce((a, b) => a * b, 1);
    const dim = embedding.shape[1]!;
    const pairs = score.pairs!;
    const row = (i: number) => ({ features: feats.subarray(i * size, (i + 1) * size), vector: vecs.subarray(i * dim, (i + 1) * dim) });
    const batch = (side: 0 | 1) => {
      const b = { features: new Float32Array(pairs.length * size), vectors: new Float32Array(pairs.length * dim) };
      pairs.forEach((pair, k) => {
        b.features.set(row(pair[side]).features, k * size);
        b.vectors.set(row(pair[side]).vector, k * dim);
      });
      return b;
    };
    const expected = await f32(score);
    const out = await models.runScorer(batch(0), batch(1), pairs.length);
    const d = diff(out, expected);
    console.info(`[parity] scorer maxAbs ${d.maxAbs.toExponential(2)} (scores ${[...out].map((s) => s.toFixed(4)).join(', ')})`);
    expect(d.maxAbs).toBeLessThanOrEqual(1e-4);
    // The public score() (query repeated against candidates) gives the same numbers.
    const viaApi = await models.score(row(pairs[0]![0]), [row(pairs[0]![1])]);
    expect(Math.abs(viaApi[0]! - expected[0]!)).toBeLessThanOrEqual(1e-4);
    for (const s of out) expect(s >= 0 && s <= 1).toBe(true);
  });

  it('embed() of the fixture image equals the PyTorch embedding of its Python tensor', async () => {
    const bytes = await readFile(path.join(parityDir, parity.image.path));
    const [mine] = await models.embed([{ image: await validateImage(bytes, { maxPixels: 40_000_000 }) }]);
    const dim = parity.tensors.embedding.shape[1]!;
    const theirs = (await f32(parity.tensors.embedding)).subarray(dim, 2 * dim); // row 1 = imageTensor
    const d = diff(mine!.vector, theirs);
    expect(d.maxAbs).toBeLessThanOrEqual(1e-4);
  });
});

describe('preprocessing parity with training/preprocess.py', () => {
  it('matches the Python tensor of the fixture image; the default is the closest method', async () => {
    const bytes = await readFile(path.join(parityDir, parity.image.path));
    const image = await validateImage(bytes, { maxPixels: 40_000_000 });
    expect([image.width, image.height]).toEqual([parity.image.width, parity.image.height]);
    const expected = await f32(parity.tensors.imageTensor);
    const methods: ResizeMethod[] = ['auto', 'pil', 'linear', 'mitchell', 'cubic', 'lanczos3', 'nearest'];
    const results: Record<string, { maxAbs: number; meanAbs: number }> = {};
    for (const m of methods) results[m] = diff(await toTensor(image, models.manifest.input, undefined, { resize: m }), expected);
    console.info(
      '[parity] preprocessing vs Python (normalised units): ' +
        methods.map((m) => `${m} max ${results[m]!.maxAbs.toFixed(4)} mean ${results[m]!.meanAbs.toFixed(5)}`).join('; '),
    );
    // The default (PIL-exact resampling at this size) is at least as close as every sharp kernel.
    for (const m of methods) expect(results.auto!.meanAbs).toBeLessThanOrEqual(results[m]!.meanAbs);
    expect(results.auto!.meanAbs).toBeLessThan(0.01);
    expect(results.auto!.maxAbs).toBeLessThan(0.1);
    // sharp 'linear' (used for images over 1 MP) stays within the fixture's stated tolerance.
    expect(results.linear!.meanAbs).toBeLessThan(parity.tensors.imageTensor.meanAbs ?? 0.01);
    expect(results.linear!.maxAbs).toBeLessThan(parity.tensors.imageTensor.maxAbs ?? 0.1);
  });
});
