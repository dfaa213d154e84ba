import { cp, mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import pino from 'pino';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { loadModels } from '../src/ml/index.js';
import { loadManifest } from '../src/ml/manifest.js';
import { ModelError } from '../src/ml/types.js';

const MODELS_DIR = process.env.ML_TEST_MODELS_DIR ?? 'models';
const silent = pino({ level: 'silent' });

let work: string;
let copies = 0;

/** A fresh copy of the model folder: the manifest and the two ONNX files it names. */
async function copyModels(): Promise<string> {
  const dir = path.join(work, `models-${copies++}`);
  const manifest = JSON.parse(await readFile(path.join(MODELS_DIR, 'manifest.json'), 'utf8'));
  for (const rel of ['manifest.json', manifest.files.embedder.path, manifest.files.scorer.path]) {
    await cp(path.join(MODELS_DIR, rel), path.join(dir, rel));
  }
  return dir;
}

async function manifestError(dir: string): Promise<ModelError> {
  const err = await loadManifest(dir).then(
    () => undefined,
    (e: unknown) => e,
  );
  expect(err).toBeInstanceOf(ModelError);
  return err as ModelError;
}

beforeAll(async () => {
  work = await mkdtemp(path.join(tmpdir(), 'ml-manifest-'));
});
afterAll(async () => {
  await rm(work, { recursive: true, force: true });
});

describe('model manifest', () => {
  it('loads and verifies the shipped models', async () => {
    const { manifest, info, paths } = await loadManifest(MODELS_DIR);
    expect(info.key).toBe(`${manifest.name}@${manifest.version}+${manifest.files.embedder.sha256.slice(0, 12)}`);
    expect(info.dim).toBe(manifest.embedding.dim);
    expect(info.inputSize).toBe(manifest.input.size);
    expect(info.featureShape).toEqual(manifest.features.shape);
    expect(path.isAbsolute(paths.embedder)).toBe(true);
  });

  it('fails sha256 verification, naming the file, when one byte is changed', async () => {
    const dir = await copyModels();
    const file = path.join(dir, 'scorer.onnx');
    const bytes = await readFile(file);
    bytes[Math.floor(bytes.length / 2)] ^= 0xff;
    await writeFile(file, bytes);
    const err = await manifestError(dir);
    expect(err.message).toContain(file);
    expect(err.message).toMatch(/scorer.*sha256/);
    // loadModels refuses the same folder before opening anything.
    await expect(loadModels({ modelsDir: dir, providers: ['cpu'], batchSize: 4, logger: silent })).rejects.toThrow(/sha256/);
    // …unless verification is explicitly off.
    const { paths } = await loadManifest(dir, { verify: false });
    expect(paths.scorer).toBe(file);
  });

  it('names a missing model file', async () => {
    const dir = await copyModels();
    await rm(path.join(dir, 'embedder.onnx'));
    const err = await manifestError(dir);
    expect(err.message).toMatch(/embedder\.onnx \(embedder\) is missing/);
  });

  it('explains a missing or invalid manifest', async () => {
    expect((await manifestError(path.join(work, 'nowhere'))).message).toMatch(/manifest\.json cannot be read/);
    const dir = await copyModels();
    const manifest = JSON.parse(await readFile(path.join(dir, 'manifest.json'), 'utf8'));
    manifest.embedding.dim = 'big';
    manifest.input.resize = 'crop';
    await writeFile(path.join(dir, 'manifest.json'), JSON.stringify(manifest));
    const err = await manifestError(dir);
    expect(err.message).toMatch(/embedding\.dim/);
    expect(err.message).toMatch(/input\.resize/);
  });

  it('catches a manifest whose shapes contradict each other', async () => {
    const dir = await copyModels();
    const manifest = JSON.parse(await readFile(path.join(dir, 'manifest.json'), 'utf8'));
    manifest.embedding.dim += 1;
    await writeFile(path.join(dir, 'manifest.json'), JSON.stringify(manifest));
    expect((await manifestError(dir)).message).toMatch(/inconsistent[\s\S]*embedding/);
  });

  it("checks the scorer's embedding inputs against the embedding's length", async () => {
    const dir = await copyModels();
    const manifest = JSON.parse(await readFile(path.join(dir, 'manifest.json'), 'utf8'));
    expect(manifest.files.scorer.inputs.map((i: { name: string }) => i.name)).toEqual([
      'query_features',
      'candidate_features',
      'query_embedding',
      'candidate_embedding',
    ]);
    manifest.files.scorer.inputs[3].shape = ['batch', manifest.embedding.dim - 1];
    await writeFile(path.join(dir, 'manifest.json'), JSON.stringify(manifest));
    expect((await manifestError(dir)).message).toMatch(/candidate_embedding.*is not \[batch, \d+\]/);
    // Scorers before 2.4.0 took the two feature maps only: such a manifest still loads.
    manifest.files.scorer.inputs = manifest.files.scorer.inputs.slice(0, 2);
    await writeFile(path.join(dir, 'manifest.json'), JSON.stringify(manifest));
    expect((await loadManifest(dir, { verify: false })).manifest.files.scorer.inputs).toHaveLength(2);
  });

  it('refuses file paths outside the models folder', async () => {
    const dir = await copyModels();
    const manifest = JSON.parse(await readFile(path.join(dir, 'manifest.json'), 'utf8'));
    manifest.files.embedder.path = '../../etc/passwd';
    await writeFile(path.join(dir, 'manifest.json'), JSON.stringify(manifest));
    expect((await manifestError(dir)).message).toMatch(/outside/);
  });
});
