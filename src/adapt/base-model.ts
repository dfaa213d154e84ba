// The model an adaptation starts from, read from a models folder's manifest (the active model's).
import path from 'node:path';
import { loadManifest } from '../ml/manifest.js';
import type { BaseModel } from './adaptation-plan.js';

export async function baseModelFrom(modelsDir: string): Promise<BaseModel> {
  const { manifest, info } = await loadManifest(modelsDir, { verify: false });
  return {
    key: info.key,
    name: manifest.name,
    version: manifest.version,
    dir: path.resolve(modelsDir),
    embedderSha256: manifest.files.embedder.sha256.toLowerCase(),
    size: manifest.input.size,
    // embedding.dim counts the colour descriptor's bins after the network's own dimensions.
    dim: manifest.embedding.dim - (manifest.embedding.colour?.bins ?? 0),
    channels: manifest.features.shape[0],
    colourWeight: manifest.embedding.colour?.weight ?? 0,
  };
}
