// models/manifest.json: the contract with training/. Loaded, validated (zod), and every model
// file checked against its sha256 before a session is created from it.
import { createHash } from 'node:crypto';
import { createReadStream } from 'node:fs';
import { readFile, stat } from 'node:fs/promises';
import path from 'node:path';
import { z } from 'zod';
import { ModelError, type ModelInfo } from './types.js';

const dimension = z.union([z.number().int().positive(), z.string().min(1)]);
const tensorSpec = z.object({ name: z.string().min(1), shape: z.array(dimension).min(1) });
const triple = z.tuple([z.number(), z.number(), z.number()]);

const modelFile = z.object({
  path: z.string().min(1),
  sha256: z.string().regex(/^[0-9a-f]{64}$/i, 'sha256 must be 64 hex digits'),
  bytes: z.number().int().positive(),
  inputs: z.array(tensorSpec).min(1),
  outputs: z.array(tensorSpec).min(1),
});

export const inputSpecSchema = z.object({
  size: z.number().int().min(8).max(2048),
  channels: z.literal('RGB'),
  layout: z.literal('NCHW'),
  dtype: z.literal('float32'),
  resize: z.literal('fill'),
  filter: z.literal('bilinear'),
  alpha: z.literal('flatten-white'),
  orientation: z.literal('exif'),
  scale: z.number().positive(),
  mean: triple,
  std: triple.refine((s) => s.every((v) => v > 0), 'std must be positive'),
});

export const manifestSchema = z.object({
  name: z.string().min(1),
  version: z.string().min(1),
  createdAt: z.string().optional(),
  input: inputSpecSchema,
  embedding: z.object({
    dim: z.number().int().positive(),
    metric: z.enum(['l2', 'cosine', 'ip']),
    normalized: z.boolean(),
    /** A fixed colour descriptor fused into the embedding (training/colour.py): its share of the cosine, and its length. */
    colour: z.object({ weight: z.number().gt(0).lt(1), bins: z.number().int().positive() }).optional(),
  }),
  features: z.object({ shape: z.tuple([z.number().int().positive(), z.number().int().positive(), z.number().int().positive()]) }),
  files: z.object({
    embedder: modelFile.extend({
      inputs: z.tuple([tensorSpec]),
      outputs: z.array(tensorSpec).length(2),
    }),
    scorer: modelFile.extend({
      /** Query and candidate feature maps, then (since siamese-cc0 2.4.0) their served embeddings. */
      inputs: z.union([z.tuple([tensorSpec, tensorSpec, tensorSpec, tensorSpec]), z.tuple([tensorSpec, tensorSpec])]),
      outputs: z.tuple([tensorSpec]),
    }),
  }),
  parity: z.string().optional(),
  training: z.record(z.string(), z.unknown()).optional(),
  /** A catalog adaptation's record (npm run adapt): base model, catalog fingerprint, command. */
  adaptation: z.record(z.string(), z.unknown()).optional(),
});

export type Manifest = z.infer<typeof manifestSchema>;
export type InputSpec = z.infer<typeof inputSpecSchema>;
export type ModelFileSpec = Manifest['files']['embedder'] | Manifest['files']['scorer'];

export interface LoadedManifest {
  manifest: Manifest;
  info: ModelInfo;
  /** Absolute paths of the verified model files. */
  paths: { embedder: string; scorer: string };
  /** Absolute path of the parity fixture index, when the manifest names one. */
  parityPath?: string;
}

export interface LoadManifestOptions {
  /** Check each file's sha256 and size (default true). */
  verify?: boolean;
}

/** Reads `<modelsDir>/manifest.json`, validates it and verifies the model files it names. */
export async function loadManifest(modelsDir: string, opts: LoadManifestOptions = {}): Promise<LoadedManifest> {
  const dir = path.resolve(modelsDir);
  const manifestPath = path.join(dir, 'manifest.json');
  let raw: string;
  try {
    raw = await readFile(manifestPath, 'utf8');
  } catch (err) {
    throw new ModelError(`Model manifest ${manifestPath} cannot be read (${code(err)}): train or copy the models into ${dir}.`);
  }
  let json: unknown;
  try {
    json = JSON.parse(raw);
  } catch (err) {
    throw new ModelError(`Model manifest ${manifestPath} is not valid JSON: ${(err as Error).message}`);
  }
  const parsed = manifestSchema.safeParse(json);
  if (!parsed.success) {
    const lines = parsed.error.issues.map((i) => `  ${i.path.join('.') || '(root)'}: ${i.message}`);
    throw new ModelError(`Model manifest ${manifestPath} is invalid:\n${lines.join('\n')}`);
  }
  const manifest = parsed.data;
  checkConsistency(manifest, manifestPath);

  const paths = {
    embedder: resolveInside(dir, manifest.files.embedder.path, 'embedder'),
    scorer: resolveInside(dir, manifest.files.scorer.path, 'scorer'),
  };
  if (opts.verify !== false) {
    await Promise.all([
      verifyFile(paths.embedder, manifest.files.embedder, 'embedder'),
      verifyFile(paths.scorer, manifest.files.scorer, 'scorer'),
    ]);
  }
  const info: ModelInfo = {
    name: manifest.name,
    version: manifest.version,
    key: modelKey(manifest),
    dim: manifest.embedding.dim,
    metric: manifest.embedding.metric,
    inputSize: manifest.input.size,
    featureShape: manifest.features.shape,
  };
  return {
    manifest,
    info,
    paths,
    ...(manifest.parity ? { parityPath: resolveInside(dir, manifest.parity, 'parity') } : {}),
  };
}

/**
 * The key a model's embeddings are stored under: name@version+<first 12 hex of the embedder's
 * sha256>, so that a retrain that keeps its name and version still gets a key of its own.
 */
export function modelKey(manifest: Pick<Manifest, 'name' | 'version' | 'files'>): string {
  return `${manifest.name}@${manifest.version}+${manifest.files.embedder.sha256.toLowerCase().slice(0, 12)}`;
}

/** Verifies one model file's size and sha256; ModelError naming the file when absent or different. */
export async function verifyFile(file: string, spec: { sha256: string; bytes: number }, role: string): Promise<void> {
  let size: number;
  try {
    size = (await stat(file)).size;
  } catch (err) {
    throw new ModelError(`Model file ${file} (${role}) is missing (${code(err)}).`);
  }
  const actual = await sha256File(file);
  if (actual !== spec.sha256.toLowerCase()) {
    throw new ModelError(
      `Model file ${file} (${role}) failed sha256 verification: manifest says ${spec.sha256}, file is ${actual}` +
        (size !== spec.bytes ? ` (and ${size} bytes instead of ${spec.bytes})` : '') +
        '. The file is corrupt or belongs to another model version.',
    );
  }
  if (size !== spec.bytes) {
    throw new ModelError(`Model file ${file} (${role}) is ${size} bytes; the manifest says ${spec.bytes}.`);
  }
}

export function sha256File(file: string): Promise<string> {
  return new Promise((resolve, reject) => {
    const hash = createHash('sha256');
    createReadStream(file)
      .on('error', reject)
      .on('data', (chunk) => hash.update(chunk))
      .on('end', () => resolve(hash.digest('hex')));
  });
}

function checkConsistency(m: Manifest, where: string): void {
  const problems: string[] = [];
  const S = m.input.size;
  const [C, H, W] = m.features.shape;
  const image = m.files.embedder.inputs[0].shape;
  if (image.length !== 4 || image[1] !== 3 || image[2] !== S || image[3] !== S) {
    problems.push(`files.embedder.inputs[0].shape ${JSON.stringify(image)} is not [batch, 3, ${S}, ${S}]`);
  }
  const out = (name: string) => m.files.embedder.outputs.find((o) => o.name === name);
  const emb = out('embedding');
  const feat = out('features');
  if (!emb || emb.shape.length !== 2 || emb.shape[1] !== m.embedding.dim) {
    problems.push(`files.embedder.outputs needs "embedding" [batch, ${m.embedding.dim}]`);
  }
  if (!feat || feat.shape.length !== 4 || feat.shape[1] !== C || feat.shape[2] !== H || feat.shape[3] !== W) {
    problems.push(`files.embedder.outputs needs "features" [batch, ${C}, ${H}, ${W}]`);
  }
  m.files.scorer.inputs.forEach((input, i) => {
    const s = input.shape;
    const want = i < 2 ? ['batch', C, H, W] : ['batch', m.embedding.dim];
    if (s.length !== want.length || s.some((d, k) => k > 0 && d !== want[k])) {
      problems.push(`files.scorer input "${input.name}" shape ${JSON.stringify(s)} is not [${want.join(', ')}]`);
    }
  });
  if (problems.length) throw new ModelError(`Model manifest ${where} is inconsistent:\n  ${problems.join('\n  ')}`);
}

function resolveInside(dir: string, rel: string, role: string): string {
  const abs = path.resolve(dir, rel);
  if (abs !== dir && !abs.startsWith(dir + path.sep)) {
    throw new ModelError(`Model manifest: ${role} path "${rel}" points outside ${dir}.`);
  }
  return abs;
}

function code(err: unknown): string {
  return (err as NodeJS.ErrnoException)?.code ?? String(err);
}
