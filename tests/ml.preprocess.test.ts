// toTensor against training/preprocess.py itself on generated images of many shapes: down- and
// upscales, odd sizes, EXIF orientation, transparency, palette GIF, crop regions.
import { spawnSync } from 'node:child_process';
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import sharp from 'sharp';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { decodePixels, validateImage } from '../src/images/index.js';
import { normalize, PIL_MAX_PIXELS, toTensor } from '../src/ml/preprocess.js';
import { resizeBilinearPil } from '../src/ml/resample.js';
import type { Region } from '../src/ml/types.js';
import { encodeAs, exifRotatedJpeg, productImage, transparentPng } from './support/images.js';
import { needsSystem } from './support/system.js';
import { absDiff } from './support/tensors.js';

const SPEC = { size: 96, scale: 255, mean: [0.485, 0.456, 0.406], std: [0.229, 0.224, 0.225] } as const;
const spec = { ...SPEC, mean: [...SPEC.mean] as [number, number, number], std: [...SPEC.std] as [number, number, number] };

function findPython(): string | undefined {
  for (const py of [process.env.PYTHON, '/usr/bin/python3', 'python3']) {
    if (!py) continue;
    const r = spawnSync(py, ['-c', 'import numpy, PIL'], { stdio: 'ignore', timeout: 60_000 });
    if (r.status === 0) return py;
  }
  return undefined;
}

const python = findPython();
const hasPython = needsSystem('python3 with PIL and numpy', python !== undefined, 'apt-get install python3-pil python3-numpy');

interface Case {
  name: string;
  bytes: Buffer;
  region?: Region;
}

describe.runIf(hasPython)('toTensor matches training/preprocess.py', () => {
  let dir: string;
  const cases: Case[] = [];
  const reference = new Map<string, Float32Array>();

  beforeAll(async () => {
    dir = await mkdtemp(path.join(tmpdir(), 'ml-preprocess-'));
    const add = (name: string, bytes: Buffer, region?: Region) => cases.push({ name, bytes, ...(region ? { region } : {}) });
    add('down-300x200.png', await productImage(10, { width: 300, height: 200 }));
    add('down-1024x768.jpg', await productImage(11, { width: 1024, height: 768, format: 'jpeg' }));
    add('up-64x64.png', await productImage(12, { width: 64, height: 64 }));
    add('mixed-40x300.png', await productImage(13, { width: 40, height: 300 }));
    add('odd-97x150.webp', await productImage(14, { width: 97, height: 150, format: 'webp' }));
    add('exif6-320x200.jpg', await exifRotatedJpeg(await productImage(15, { width: 320, height: 200 }), 6));
    add('exif3-200x120.jpg', await exifRotatedJpeg(await productImage(16, { width: 200, height: 120 }), 3));
    add('alpha-200.png', await transparentPng(200));
    add('palette.gif', await encodeAs(await productImage(17, { width: 180, height: 120 }), 'gif'));
    add('grey.png', await sharp(await productImage(18, { width: 150, height: 150 })).greyscale().png().toBuffer());
    add('region.png', await productImage(19, { width: 400, height: 300 }), { x: 0.1, y: 0.2, width: 0.6, height: 0.7 });
    add('exif6-region.jpg', await exifRotatedJpeg(await productImage(20, { width: 320, height: 240 }), 6), {
      x: 0.3,
      y: 0.1,
      width: 0.6,
      height: 0.4,
    });
    add('large-1400x1000.png', await productImage(21, { width: 1400, height: 1000 }));

    const jobs = cases.map((c, i) => ({ file: path.join(dir, `${i}-${c.name}`), region: c.region ?? null, out: path.join(dir, `${i}.f32`) }));
    await Promise.all(cases.map((c, i) => writeFile(jobs[i]!.file, c.bytes)));
    await writeFile(path.join(dir, 'jobs.json'), JSON.stringify(jobs));
    // The crop mirrors regionToPixels (round half up, at least one pixel), applied after orientation.
    const script = `
import json, math, sys
import numpy as np
from training.preprocess import load_rgb, normalize, resize_fill
jobs = json.load(open(sys.argv[1]))
for j in jobs:
    img = load_rgb(j["file"])
    r = j["region"]
    if r:
        W, H = img.size
        rnd = lambda v: math.floor(v + 0.5)
        left = min(W - 1, rnd(r["x"] * W)); top = min(H - 1, rnd(r["y"] * H))
        right = min(W, max(left + 1, rnd((r["x"] + r["width"]) * W))); bottom = min(H, max(top + 1, rnd((r["y"] + r["height"]) * H)))
        img = img.crop((left, top, right, bottom))
    normalize(np.asarray(resize_fill(img, ${SPEC.size}))).astype("<f4").tofile(j["out"])
`;
    const r = spawnSync(python!, ['-c', script, path.join(dir, 'jobs.json')], { cwd: process.cwd(), encoding: 'utf8', timeout: 120_000 });
    expect(r.status, r.stderr).toBe(0);
    for (let i = 0; i < cases.length; i++) {
      const buf = await readFile(jobs[i]!.out);
      reference.set(cases[i]!.name, new Float32Array(buf.buffer, buf.byteOffset, buf.byteLength / 4));
    }
  });

  afterAll(async () => {
    if (dir) await rm(dir, { recursive: true, force: true });
  });

  it('is bit-exact (PIL resampler) up to 1 MP, for every shape, orientation, alpha and region, from bytes or kept pixels', async () => {
    const lines: string[] = [];
    for (const c of cases.filter((c) => !c.name.startsWith('large'))) {
      const image = await validateImage(c.bytes, { maxPixels: 40_000_000 });
      const d = absDiff(await toTensor(image, spec, c.region), reference.get(c.name)!);
      lines.push(`${c.name} max ${d.maxAbs.toFixed(5)}`);
      expect(d.maxAbs, c.name).toBeLessThan(1e-5);
      // As ingest embeds a small image: from the pixels its perceptual hash decoded (withPixels).
      const kept = { ...image, pixels: await decodePixels(image) };
      expect(absDiff(await toTensor(kept, spec, c.region), reference.get(c.name)!).maxAbs, c.name).toBeLessThan(1e-5);
    }
    console.info(`[preprocess] vs Python: ${lines.join(', ')}`);
  });

  it("stays close above 1 MP (sharp 'linear') and is exact with resize: 'pil'", async () => {
    const c = cases.find((c) => c.name.startsWith('large'))!;
    const image = await validateImage(c.bytes, { maxPixels: 40_000_000 });
    expect(image.width * image.height).toBeGreaterThan(PIL_MAX_PIXELS);
    const ref = reference.get(c.name)!;
    const auto = absDiff(await toTensor(image, spec), ref);
    const pil = absDiff(await toTensor(image, spec, undefined, { resize: 'pil' }), ref);
    console.info(`[preprocess] 1400×1000: auto (sharp linear) max ${auto.maxAbs.toFixed(4)} mean ${auto.meanAbs.toFixed(5)}; pil max ${pil.maxAbs.toFixed(5)}`);
    expect(auto.meanAbs).toBeLessThan(0.005);
    expect(auto.maxAbs).toBeLessThan(0.5);
    expect(pil.maxAbs).toBeLessThan(1e-5);
  });
});

describe('resizeBilinearPil', () => {
  it("matches PIL's known output on a tiny upscale", () => {
    // PIL: Image.fromarray([[0,100,200,250]]).resize((8,1), BILINEAR) → 0 25 75 125 175 213 238 250
    const out = resizeBilinearPil(new Uint8Array([0, 100, 200, 250]), 4, 1, 1, 8, 1);
    expect([...out]).toEqual([0, 25, 75, 125, 175, 213, 238, 250]);
  });

  it('is the identity at the same size and matches PIL on a 2× downscale', () => {
    const src = new Uint8Array([10, 20, 30, 40, 50, 60]);
    expect([...resizeBilinearPil(src, 3, 2, 1, 3, 2)]).toEqual([...src]);
    expect([...resizeBilinearPil(new Uint8Array([0, 100, 200, 250]), 4, 1, 1, 2, 1)]).toEqual([71, 207]) // PIL 9.4 output;
  });
});

describe('normalize', () => {
  it('computes (x/scale − mean)/std in CHW order', () => {
    const px = new Uint8Array([255, 0, 0, 0, 255, 0, 0, 0, 255, 255, 255, 255]); // 2×2 RGB
    const t = normalize(px, { ...spec, size: 2 });
    expect(t.length).toBe(12);
    expect(t[0]).toBeCloseTo((1 - 0.485) / 0.229, 5); // R of pixel 0
    expect(t[4 + 1]).toBeCloseTo((1 - 0.456) / 0.224, 5); // G of pixel 1
    expect(t[8 + 0]).toBeCloseTo((0 - 0.406) / 0.225, 5); // B of pixel 0
  });
});
