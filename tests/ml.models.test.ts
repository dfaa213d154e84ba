// loadModels on the real model: real onnxruntime sessions, real sharp, nothing mocked.
import { execFile } from 'node:child_process';
import { promisify } from 'node:util';
import pino from 'pino';
import sharp from 'sharp';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ImageError, validateImage, type ValidatedImage } from '../src/images/index.js';
import { loadModels, type LoadedModels } from '../src/ml/index.js';
import { providerUnavailable } from '../src/ml/session.js';
import { ModelError, RegionError } from '../src/ml/types.js';
import { distort, encodeAs, exifRotatedJpeg, productImage } from './support/images.js';

const MODELS_DIR = process.env.ML_TEST_MODELS_DIR ?? 'models';
const silent = pino({ level: 'silent' });
const run = promisify(execFile);
const MAX = 40_000_000;

let models: LoadedModels;
const validate = (b: Buffer) => validateImage(b, { maxPixels: MAX });

const l2 = (a: Float32Array, b: Float32Array) => {
  let s = 0;
  for (let i = 0; i < a.length; i++) s += (a[i]! - b[i]!) ** 2;
  return Math.sqrt(s);
};
const maxAbs = (a: Float32Array, b: Float32Array) => a.reduce((m, v, i) => Math.max(m, Math.abs(v - b[i]!)), 0);

/** A pino logger whose JSON lines land in an array. */
function capturingLogger() {
  const lines: Record<string, unknown>[] = [];
  const logger = pino({ level: 'debug' }, { write: (s: string) => void lines.push(JSON.parse(s)) });
  return { logger, lines };
}

beforeAll(async () => {
  models = await loadModels({ modelsDir: MODELS_DIR, providers: ['cpu'], batchSize: 4, logger: silent });
});
afterAll(async () => {
  await models?.close();
});

describe(`loadModels (${MODELS_DIR})`, () => {
  it('describes the model from its manifest', () => {
    const { info, manifest } = models;
    expect(info.key).toBe(`${manifest.name}@${manifest.version}+${manifest.files.embedder.sha256.slice(0, 12)}`);
    expect(info.dim).toBe(manifest.embedding.dim);
    expect(info.metric).toBe('l2');
    expect(models.provider).toBe('cpu');
    expect(models.providers).toEqual({ embedder: 'cpu', scorer: 'cpu' });
  });

  it('embeds into unit vectors of the manifest dimension, with features of the manifest shape', async () => {
    const images = await Promise.all([1, 2, 3, 4, 5].map(async (s) => validate(await productImage(s))));
    const out = await models.embed(images.map((image) => ({ image })));
    const [C, H, W] = models.info.featureShape;
    expect(out).toHaveLength(5);
    for (const e of out) {
      expect(e.vector).toBeInstanceOf(Float32Array);
      expect(e.vector.length).toBe(models.info.dim);
      expect(Math.hypot(...e.vector)).toBeCloseTo(1, 5);
      expect(e.features.length).toBe(C * H * W);
      expect(e.vector.every(Number.isFinite) && e.features.every(Number.isFinite)).toBe(true);
    }
    expect(await models.embed([])).toEqual([]);
  });

  it('puts an image closer to its mild distortion than to unrelated products', async () => {
    const seeds = [21, 22, 23, 24, 25, 26];
    let wins = 0;
    const report: string[] = [];
    for (const seed of seeds) {
      const original = await productImage(seed);
      const inputs = [original, await distort(original, { seed }), ...(await Promise.all([1, 2, 3].map((k) => productImage(seed * 100 + k))))];
      const [a, b, ...others] = await models.embed(await Promise.all(inputs.map(async (x) => ({ image: await validate(x) }))));
      const same = l2(a!.vector, b!.vector);
      const nearestOther = Math.min(...others.map((o) => l2(a!.vector, o.vector)));
      report.push(`${same.toFixed(3)}<${nearestOther.toFixed(3)}`);
      if (same < nearestOther) wins++;
    }
    console.info(`[models] distortion vs nearest unrelated (l2): ${report.join(' ')}`);
    expect(wins).toBe(seeds.length);
  });

  it('scores the true pair above a different product', async () => {
    const seeds = [31, 32, 33, 34];
    let wins = 0;
    const report: string[] = [];
    for (const seed of seeds) {
      const original = await productImage(seed);
      const [q, pos, neg] = await models.embed(
        [await validate(await distort(original, { seed })), await validate(original), await validate(await productImage(seed + 1000))].map(
          (image) => ({ image }),
        ),
      );
      const [sPos, sNeg] = await models.score(q!, [pos!, neg!]);
      report.push(`${sPos!.toFixed(3)}>${sNeg!.toFixed(3)}`);
      expect(sPos).toBeGreaterThanOrEqual(0);
      expect(sPos).toBeLessThanOrEqual(1);
      if (sPos! > sNeg!) wins++;
    }
    console.info(`[models] scorer true pair vs other product: ${report.join(' ')}`);
    expect(wins).toBe(seeds.length);
  });

  it('score() chunks long candidate lists and checks feature and embedding sizes', async () => {
    const [a, b] = await models.embed([{ image: await validate(await productImage(41)) }, { image: await validate(await productImage(42)) }]);
    const many = Array.from({ length: 300 }, (_, i) => (i % 2 ? a! : b!));
    const scores = await models.score(a!, many); // 300 > scoreBatchSize 256: two runs
    expect(scores).toHaveLength(300);
    expect(Math.abs(scores[1]! - scores[299]!)).toBeLessThan(1e-5);
    expect(Math.abs(scores[0]! - scores[298]!)).toBeLessThan(1e-5);
    expect(await models.score(a!, [])).toEqual([]);
    await expect(models.score({ ...a!, features: new Float32Array(3) }, [a!])).rejects.toThrow(RangeError);
    await expect(models.score(a!, [{ ...b!, vector: new Float32Array(3) }])).rejects.toThrow(/embedding must have/);
  });

  it("score() starts from the served embeddings' cosine (colour term included), not the feature maps alone", async () => {
    // Two candidates with another product's feature maps, differing only in their embedding: the one
    // whose embedding equals the query's wins (a scorer of feature maps alone would tie them).
    const [a, b] = await models.embed([{ image: await validate(await productImage(43)) }, { image: await validate(await productImage(44)) }]);
    const [alike, other] = await models.score(a!, [{ features: b!.features, vector: a!.vector }, b!]);
    console.info(`[models] same feature maps, query's embedding ${alike!.toFixed(4)} vs its own ${other!.toFixed(4)}`);
    expect(alike! - other!).toBeGreaterThan(0.01);
  });

  it('uses the EXIF orientation: a sideways-stored, tagged JPEG embeds like the upright one', async () => {
    const upright = await productImage(51, { width: 200, height: 140 });
    const sideways = await sharp(upright).rotate(-90).toBuffer();
    const inputs = [await encodeAs(upright, 'jpeg'), await exifRotatedJpeg(sideways, 6), await encodeAs(sideways, 'jpeg')];
    const [a, b, c] = await models.embed(await Promise.all(inputs.map(async (x) => ({ image: await validate(x) }))));
    expect(l2(a!.vector, b!.vector)).toBeLessThan(l2(a!.vector, c!.vector));
    expect(l2(a!.vector, b!.vector)).toBeLessThan(0.1);
  });

  it('crops to a region: the embedding changes; a full-image region changes nothing; bad regions fail', async () => {
    const image = await validate(await productImage(61, { width: 300, height: 200 }));
    const [whole, full, crop] = await models.embed([
      { image },
      { image, region: { x: 0, y: 0, width: 1, height: 1 } },
      { image, region: { x: 0.1, y: 0.2, width: 0.4, height: 0.5 } },
    ]);
    expect(maxAbs(whole!.vector, full!.vector)).toBeLessThan(1e-5);
    expect(l2(whole!.vector, crop!.vector)).toBeGreaterThan(1e-3);
    for (const region of [
      { x: 0.8, y: 0, width: 0.5, height: 0.5 },
      { x: 0, y: -0.1, width: 0.5, height: 0.5 },
      { x: 0, y: 0, width: 0, height: 1 },
    ]) {
      const err = await models.embed([{ image, region }]).catch((e: unknown) => e);
      expect(err).toBeInstanceOf(RegionError);
      expect((err as RegionError).code).toBe('BAD_USER_INPUT');
    }
  });

  it('coalesces concurrent embed() calls into micro-batches with the same results', async () => {
    const local = await loadModels({ modelsDir: MODELS_DIR, providers: ['cpu'], batchSize: 4, logger: silent });
    try {
      const N = 10;
      const images: ValidatedImage[] = await Promise.all(Array.from({ length: N }, async (_, i) => validate(await productImage(70 + i))));
      const together = await local.embed(images.map((image) => ({ image })));
      const before = local.stats();
      expect(before).toMatchObject({ embedRuns: 3, embeddedImages: N, largestBatch: 4 }); // 4 + 4 + 2
      const separately = await Promise.all(images.map((image) => local.embed([{ image }])));
      const after = local.stats();
      const runs = after.embedRuns - before.embedRuns;
      console.info(`[models] ${N} concurrent single-image calls ran in ${runs} embedder runs (batch size 4)`);
      expect(runs).toBeLessThan(N);
      expect(runs).toBeGreaterThanOrEqual(Math.ceil(N / 4));
      separately.forEach(([e], i) => {
        expect(maxAbs(e!.vector, together[i]!.vector)).toBeLessThan(1e-5);
        expect(maxAbs(e!.features, together[i]!.features)).toBeLessThan(1e-5);
      });
    } finally {
      await local.close();
    }
  });

  it('embeds on worker threads exactly as on the calling thread, with stage times and coded errors', async () => {
    const pooled = await loadModels({ modelsDir: MODELS_DIR, providers: ['cpu'], batchSize: 4, logger: silent, workers: 2 });
    try {
      const images = await Promise.all([101, 102, 103, 104, 105, 106].map(async (s) => validate(await productImage(s))));
      const tasks = images.map((image, i) => (i % 2 ? { image, region: { x: 0.1, y: 0.2, width: 0.6, height: 0.5 } } : { image }));
      const here = await models.embed(tasks);
      const stages: Record<string, number> = {};
      const there = await pooled.embed(tasks, { add: (stage, ms) => (stages[stage] = (stages[stage] ?? 0) + ms) });
      there.forEach((e, i) => {
        expect(e.vector).toBeInstanceOf(Float32Array);
        expect(maxAbs(e.vector, here[i]!.vector)).toBeLessThan(1e-6);
        expect(maxAbs(e.features, here[i]!.features)).toBeLessThan(1e-6);
      });
      expect(pooled.stats().embedRuns).toBe(0); // nothing ran on this thread
      expect(Object.keys(stages).sort()).toEqual(['embed', 'preprocess', 'queue']);
      expect(stages.preprocess).toBeGreaterThan(0);
      expect(stages.embed).toBeGreaterThan(0);
      // Concurrent single-image calls from many requests all come back, each with its own result.
      const separately = await Promise.all(images.map((image) => pooled.embed([{ image }])));
      separately.forEach(([e], i) => {
        if (!tasks[i]!.region) expect(maxAbs(e!.vector, here[i]!.vector)).toBeLessThan(1e-6);
        else expect(maxAbs(e!.vector, here[i]!.vector)).toBeGreaterThan(1e-3); // the crop made a difference
      });
      const forged: ValidatedImage = { ...images[0]!, bytes: images[0]!.bytes.subarray(0, 100) };
      const bad = await pooled.embed([{ image: images[1]! }, { image: forged }]).catch((e: unknown) => e);
      expect(bad).toBeInstanceOf(ImageError);
      expect((bad as ImageError).code).toBe('BAD_IMAGE');
      const outside = await pooled.embed([{ image: images[0]!, region: { x: 0.9, y: 0, width: 0.5, height: 1 } }]).catch((e: unknown) => e);
      expect(outside).toBeInstanceOf(RegionError);
    } finally {
      await pooled.close();
    }
    await expect(pooled.embed([{ image: await validate(await productImage(107)) }])).rejects.toThrow(ModelError);
  });

  it('fails the whole call with ImageError when one image cannot be decoded', async () => {
    const good = await validate(await productImage(81));
    const forged: ValidatedImage = { ...good, bytes: good.bytes.subarray(0, 100) };
    const err = await models.embed([{ image: good }, { image: forged }]).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(ImageError);
  });

  it('close() waits for queued work, then refuses new work', async () => {
    const local = await loadModels({ modelsDir: MODELS_DIR, providers: ['cpu'], batchSize: 2, logger: silent });
    const image = await validate(await productImage(91));
    const pending = local.embed([{ image }, { image }, { image }]);
    // Let preprocessing finish so the work is queued before close() is called.
    await new Promise((r) => setTimeout(r, 200));
    await local.close();
    await expect(pending).resolves.toHaveLength(3);
    await expect(local.embed([{ image }])).rejects.toThrow(ModelError);
    await local.close(); // idempotent
  });

  it('close() waits for a scoring run already in flight, then refuses scoring', async () => {
    const local = await loadModels({ modelsDir: MODELS_DIR, providers: ['cpu'], batchSize: 2, logger: silent });
    const [a, b] = await local.embed([{ image: await validate(await productImage(92)) }, { image: await validate(await productImage(93)) }]);
    const many = Array.from({ length: 200 }, (_, i) => (i % 2 ? a! : b!));
    const expected = await local.score(a!, many);
    // close() right after the run starts: the session must outlive it (a released session under a
    // running onnxruntime call ends the process), and the run must give its own scores.
    const pending = local.score(a!, many);
    await local.close();
    expect(await pending).toEqual(expected);
    await expect(local.score(a!, [b!])).rejects.toThrow(ModelError);
    await expect(local.runScorer({ features: a!.features, vectors: a!.vector }, { features: b!.features, vectors: b!.vector }, 1)).rejects.toThrow(ModelError);
  });
});

describe('execution providers', () => {
  it("['cuda', 'cpu'] runs (on cpu here) and says in the info line why cuda was skipped", async () => {
    const { logger, lines } = capturingLogger();
    const m = await loadModels({ modelsDir: MODELS_DIR, providers: ['cuda', 'cpu'], batchSize: 2, logger });
    try {
      expect(['cuda', 'cpu']).toContain(m.provider);
      const info = lines.find((l) => l.level === 30 && /loaded on/.test(String(l.msg)));
      expect(info).toMatchObject({ embedder: m.provider, scorer: m.provider });
      if (m.provider === 'cpu') {
        // Detected before onnxruntime was asked: an expected state of the machine, not a warning.
        expect(providerUnavailable('cuda')).toBeTruthy();
        expect(lines.filter((l) => Number(l.level) >= 40), JSON.stringify(lines)).toEqual([]);
        expect(String(info!.msg)).toMatch(/loaded on cpu \(cuda unavailable: .+\)/);
        expect((info!.skipped as Record<string, string>).cuda).toBe(providerUnavailable('cuda'));
        console.info(`[providers] ${String(info!.msg)}`);
      }
      const [e] = await m.embed([{ image: await validate(await productImage(1)) }]);
      expect(e!.vector.length).toBe(m.info.dim);
    } finally {
      await m.close();
    }
  });

  it("['webgpu', 'cpu'] falls back the same way when there is no Vulkan loader or adapter", async () => {
    const { logger, lines } = capturingLogger();
    const m = await loadModels({ modelsDir: MODELS_DIR, providers: ['webgpu', 'cpu'], batchSize: 2, logger });
    try {
      if (m.provider === 'cpu') {
        // Without a Vulkan loader the skip is detected (info); with one but no adapter, onnxruntime refuses (warn).
        const skip = providerUnavailable('webgpu')
          ? lines.find((l) => l.level === 30 && (l.skipped as Record<string, string> | undefined)?.webgpu)
          : lines.find((l) => l.level === 40 && l.provider === 'webgpu');
        expect(skip, JSON.stringify(lines)).toBeTruthy();
      }
      const [e] = await m.embed([{ image: await validate(await productImage(2)) }]);
      expect(Math.hypot(...e!.vector)).toBeCloseTo(1, 5);
    } finally {
      await m.close();
    }
  });

  it('a start with the default providers prints no error-level line (onnxruntime writes straight to stderr)', async () => {
    // A child process, because onnxruntime's native logger bypasses pino and vitest.
    const script = [
      "import pino from 'pino';",
      "import { loadConfig } from './src/config.ts';",
      "import { loadModels } from './src/ml/index.ts';",
      'const logger = pino({ level: "info" }, pino.destination(2));',
      `for (const providers of [loadConfig({}).ML_PROVIDERS, ['webgpu', 'cuda', 'cpu']]) {`,
      `  const m = await loadModels({ modelsDir: ${JSON.stringify(MODELS_DIR)}, providers, batchSize: 2, logger });`,
      '  await m.close();',
      '}',
    ].join('\n');
    const { stdout, stderr } = await run(process.execPath, ['--import', 'tsx', '--input-type=module', '-e', script]);
    const output = stdout + stderr;
    const infos = output.split('\n').filter((l) => l.includes('loaded on'));
    expect(infos, output).toHaveLength(2);
    if (providerUnavailable('cuda') && providerUnavailable('webgpu')) {
      expect(output).not.toMatch(/\[E:onnxruntime|"level":(40|50)/);
      expect(output).not.toMatch(/Failed to load library/);
    }
  });

  it('fails with a ModelError listing every reason when no provider works', async () => {
    const { logger } = capturingLogger();
    const err = await loadModels({ modelsDir: MODELS_DIR, providers: ['cuda'], batchSize: 2, logger }).catch((e: unknown) => e);
    if (err instanceof Error) {
      expect(err).toBeInstanceOf(ModelError);
      expect(err.message).toMatch(/cuda:/);
    } else {
      await (err as LoadedModels).close(); // a machine with CUDA
    }
  });
});
