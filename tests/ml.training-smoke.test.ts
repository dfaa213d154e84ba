// The training pipeline end to end at toy scale: generated images → training.train (2 steps) →
// a model folder that loadModels verifies (sha256), opens and runs.
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import pino from 'pino';
import { afterAll, describe, expect, it } from 'vitest';
import { validateImage } from '../src/images/index.js';
import { loadModels } from '../src/ml/index.js';
import { loadManifest } from '../src/ml/manifest.js';
import { distort, productImage } from './support/images.js';
import { runPython as run, torchAvailable } from './support/python.js';
import { needsSystem } from './support/system.js';

const hasTorch = needsSystem('python3-torch', torchAvailable(), 'apt-get install python3-torch python3-pil python3-numpy');
const dirs: string[] = [];

afterAll(async () => {
  await Promise.all(dirs.map((d) => rm(d, { recursive: true, force: true })));
});


describe.runIf(hasTorch)('training smoke test', () => {
  it('trains 2 steps on 6 generated images and exports a model loadModels accepts', { timeout: 300_000 }, async () => {
    const images = await mkdtemp(path.join(tmpdir(), 'ml-train-images-'));
    // --out inside a folder that does not exist yet (the checkpoint next to it needs it too).
    const outRoot = await mkdtemp(path.join(tmpdir(), 'ml-train-out-'));
    const out = path.join(outRoot, 'not-yet', 'models');
    dirs.push(images, outRoot);
    for (let i = 0; i < 6; i++) await writeFile(path.join(images, `product-${i}.${i % 2 ? 'jpg' : 'png'}`), await productImage(200 + i, { format: i % 2 ? 'jpeg' : 'png' }));

    const args = ['-m', 'training.train', '--images-dir', images, '--epochs', '1', '--max-steps', '2', '--batch-size', '4',
      '--size', '64', '--dim', '32', '--seed', '1', '--scorer-epochs', '1', '--out', out];
    const { code, output } = await run(args, 280_000);
    expect(code, output.slice(-4000)).toBe(0);

    // The manifest is the contract: valid, files verified by sha256.
    const { manifest, info } = await loadManifest(out);
    expect(manifest.input.size).toBe(64);
    // the network's 32 dimensions, then the colour descriptor's bins
    const bins = manifest.embedding.colour!.bins;
    expect(info.dim).toBe(32 + bins);
    expect(JSON.parse(await readFile(path.join(out, 'manifest.json'), 'utf8')).files.embedder.sha256).toMatch(/^[0-9a-f]{64}$/);

    const models = await loadModels({ modelsDir: out, providers: ['cpu'], batchSize: 4, logger: pino({ level: 'silent' }) });
    try {
      const original = await productImage(200);
      const validated = await Promise.all([original, await distort(original), await productImage(300)].map((b) => validateImage(b, { maxPixels: 40_000_000 })));
      const embeddings = await models.embed(validated.map((image) => ({ image })));
      const [C, H, W] = models.info.featureShape;
      expect([H, W]).toEqual([64 / 16, 64 / 16]);
      for (const e of embeddings) {
        expect(e.vector.length).toBe(32 + bins);
        expect(Math.hypot(...e.vector)).toBeCloseTo(1, 5);
        expect(e.features.length).toBe(C * H * W);
      }
      const scores = await models.score(embeddings[0]!, [embeddings[1]!, embeddings[2]!]);
      for (const s of scores) expect(s >= 0 && s <= 1).toBe(true);
    } finally {
      await models.close();
    }
  });
});
