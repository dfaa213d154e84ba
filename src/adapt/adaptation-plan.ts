// What one adaptation trains on and where it writes: the catalog snapshot (a training list of
// media paths with product id, category and colour, and its fingerprint) and a work folder keyed
// by base model, catalog and budget. The same command on the same catalog finds the same work
// folder and resumes the training's checkpoint; a finished adaptation removes it.
import { createHash } from 'node:crypto';
import { mkdir, readFile, rm, writeFile } from 'node:fs/promises';
import path from 'node:path';
import type { TrainingImage } from '../db/index.js';

/** The model an adaptation starts from: a models folder with weights.pt beside its ONNX files. */
export interface BaseModel {
  key: string;
  name: string;
  version: string;
  dir: string;
  embedderSha256: string;
  /** input.size, the network's own embedding dim and features.shape[0] of its manifest: the adapted model keeps them. */
  size: number;
  dim: number;
  channels: number;
  /** The colour descriptor's share of the embedding (manifest embedding.colour; 0 without): kept too. */
  colourWeight: number;
}

export interface AdaptationRequest {
  minutes: number;
  /** Cap on optimizer steps per stage (0: none). */
  maxSteps: number;
  /** Models folder to write; default DATA_DIR/models/<name>-<version>. */
  out?: string;
  /** How it was asked for, recorded in the manifest (a command line, or the GraphQL mutation). */
  command: string;
}

export interface AdaptationPlan {
  workDir: string;
  out: string;
  name: string;
  version: string;
  catalogFingerprint: string;
  images: number;
  /** True when an earlier, interrupted run of the same plan left its work folder. */
  resumed: boolean;
  /** Arguments of training.train. */
  trainArgs: string[];
}

interface StoredPlan {
  out: string;
  version: string;
  createdAt: string;
}

/** sha256 over the sorted image sha256s: the same photos, the same fingerprint. */
export function catalogFingerprint(images: Pick<TrainingImage, 'sha256'>[]): string {
  const hash = createHash('sha256');
  for (const sha of images.map((i) => i.sha256).sort()) hash.update(`${sha}\n`);
  return hash.digest('hex');
}

const csvField = (v: string | null) => (v && /[",\n\r]/.test(v) ? `"${v.replaceAll('"', '""')}"` : (v ?? ''));

/**
 * path,label,category,colour in sha256 order (a resumed run must see the same list): the product id
 * is the label (a product's photos are positives of one another).
 */
export function trainingList(images: TrainingImage[]): string {
  const sorted = [...images].sort((a, b) => (a.sha256 < b.sha256 ? -1 : a.sha256 > b.sha256 ? 1 : 0));
  const rows = sorted.map((i) => [i.mediaPath, i.productId, i.category, i.colour].map(csvField).join(','));
  return ['path,label,category,colour', ...rows].join('\n') + '\n';
}

/** Writes (or finds) the work folder of this base model, catalog and budget. */
export async function preparePlan(
  dataDir: string,
  mediaRoot: string,
  base: BaseModel,
  images: TrainingImage[],
  request: AdaptationRequest,
  now = new Date(),
): Promise<AdaptationPlan> {
  const fingerprint = catalogFingerprint(images);
  const budget = `${request.minutes}m${request.maxSteps ? `-${request.maxSteps}steps` : ''}`;
  const modelsRoot = path.join(path.resolve(dataDir), 'models');
  const workDir = path.join(modelsRoot, `.adapt-${base.embedderSha256.slice(0, 12)}-${fingerprint.slice(0, 12)}-${budget}`);
  const planFile = path.join(workDir, 'plan.json');
  const wantedOut = request.out && path.resolve(request.out);
  let stored = await readPlan(planFile);
  const resumed = stored !== null && (!wantedOut || stored.out === wantedOut);
  if (!stored || !resumed) {
    const stamp = now.toISOString().replace(/[-:]/g, '').replace(/\..*$/, '').replace('T', '');
    const version = `${base.version}-adapted.${stamp}`;
    stored = { out: wantedOut || path.join(modelsRoot, `${base.name}-${version}`), version, createdAt: now.toISOString() };
    await mkdir(workDir, { recursive: true });
    await writeFile(planFile, JSON.stringify(stored, null, 2));
  }
  const labels = path.join(workDir, 'catalog.csv');
  await writeFile(labels, trainingList(images));
  const extra = path.join(workDir, 'adaptation.json');
  await writeFile(
    extra,
    JSON.stringify(
      {
        base: { key: base.key, embedderSha256: base.embedderSha256 },
        catalog: { fingerprint, images: images.length, products: new Set(images.map((i) => i.productId)).size },
        minutes: request.minutes,
        maxSteps: request.maxSteps,
        command: request.command,
        startedAt: stored.createdAt,
      },
      null,
      2,
    ),
  );
  // Half the from-scratch learning rate (the base's features are a start, not noise) and mixed
  // views (classic + photo-like, training/README ablation #5); measured on myntra in
  // bench/results/adaptation-myntra.md.
  const trainArgs = [
    '--images-dir', mediaRoot, '--labels', labels, '--split', 'all', '--eval-split', 'none',
    '--init', path.join(base.dir, 'weights.pt'), '--init-scorer', '--augment', 'mixed', '--lr', '0.001',
    '--size', String(base.size), '--dim', String(base.dim), '--channels', String(base.channels),
    '--colour-weight', String(base.colourWeight),
    '--minutes', String(request.minutes), ...(request.maxSteps ? ['--max-steps', String(request.maxSteps)] : []),
    '--name', base.name, '--version', stored.version, '--manifest-extra', extra,
    '--out', stored.out, '--progress-json', '--resume',
  ];
  return { workDir, out: stored.out, name: base.name, version: stored.version, catalogFingerprint: fingerprint, images: images.length, resumed, trainArgs };
}

/** After success: the plan is spent (a new adaptation of the same catalog is a new model). */
export function removePlan(plan: AdaptationPlan): Promise<void> {
  return rm(plan.workDir, { recursive: true, force: true });
}

async function readPlan(file: string): Promise<StoredPlan | null> {
  try {
    return JSON.parse(await readFile(file, 'utf8')) as StoredPlan;
  } catch {
    return null;
  }
}
