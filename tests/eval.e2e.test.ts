// npm run eval end to end on a small generated catalog: the CLI ingests it, runs every method on
// distorted and listed queries, attributes and "shopper" photos, and writes the reports.
import { execFile } from 'node:child_process';
import { cp, mkdir, mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { promisify } from 'node:util';
import sharp from 'sharp';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { EvalReport } from '../src/eval/report.js';
import { distort, productImage } from './support/images.js';

const run = promisify(execFile);
const PRODUCTS = 30;
const KINDS = ['Shirts', 'Tshirts', 'Shoes'];
const COLOURS = ['Red', 'Blue', 'Green', 'Black', 'White'];
const METHODS = ['ann', 'exact', 'ann+rerank', 'colorHistogram'];

describe('npm run eval on a generated catalog', () => {
  let dir: string;
  const file = (...parts: string[]) => path.join(dir, ...parts);

  const evaluate = (args: string[]) =>
    run(process.execPath, ['--import', 'tsx', 'src/cli/eval.ts', ...args, '--no-progress'], {
      env: { ...process.env, MODELS_DIR: path.resolve('models'), ML_PROVIDERS: 'cpu', LOG_LEVEL: 'warn' },
      timeout: 300_000,
    });

  beforeAll(async () => {
    dir = await mkdtemp(path.join(tmpdir(), 'vps-eval-e2e-'));
    await mkdir(file('catalog', 'images'), { recursive: true });
    await mkdir(file('photos'));
    const rows = ['sku,name,picture,articleType,baseColour'];
    for (let seed = 1; seed <= PRODUCTS; seed++) {
      await writeFile(file('catalog', 'images', `${seed}.png`), await productImage(seed));
      rows.push(`p${seed},Product ${seed},images/${seed}.png,${KINDS[seed % 3]},${COLOURS[seed % 5]}`);
    }
    await writeFile(file('catalog', 'styles.csv'), `${rows.join('\n')}\n`);
    // Listed queries: relative paths, one with two acceptable ids.
    await writeFile(file('photos', 'q1.jpg'), await distort(await productImage(3), { seed: 1 }));
    await writeFile(file('photos', 'q2.jpg'), await distort(await productImage(17), { seed: 2 }));
    await writeFile(file('queries.csv'), 'query_path,expected_id\nphotos/q1.jpg,p3\nphotos/q2.jpg,p17|p18\n');
    // "Shopper photos" labelled by kind, with a label map onto articleType.
    const labels = ['path,label,split'];
    for (const seed of [2, 5, 9, 12]) {
      await writeFile(file('photos', `s${seed}.jpg`), await distort(await productImage(seed), { seed }));
      labels.push(`photos/s${seed}.jpg,${KINDS[seed % 3]!.toLowerCase()},${seed === 12 ? 'train' : 'test'}`);
    }
    labels.push('photos/s2.jpg,hat,test');
    await writeFile(file('labels.csv'), `${labels.join('\n')}\n`);
    await writeFile(file('map.json'), JSON.stringify({ attribute: 'articleType', labels: Object.fromEntries(KINDS.map((k) => [k.toLowerCase(), [k]])) }));
  });

  afterAll(() => rm(dir, { recursive: true, force: true }));

  it('measures every method and writes the JSON, Markdown and chart', { timeout: 400_000 }, async () => {
    const { stdout } = await evaluate([
      '--catalog', file('catalog', 'styles.csv'),
      '--map', 'id=sku,title=name,image=picture,category=articleType,colour=baseColour',
      '--queries', file('queries.csv'),
      '--distort', '20', '--seed', '7', '--strength', '0.3',
      '--attributes', 'articleType,baseColour', '--attribute-sample', '12',
      '--shopper', file('labels.csv'), '--label-map', file('map.json'), '--shopper-splits', 'test',
      '--data-dir', file('db'),
      '--out', file('out', 'report.json'), '--md', file('out', 'report.md'),
    ]);
    expect(stdout).toContain('report.md');
    const report = JSON.parse(await readFile(file('out', 'report.json'), 'utf8')) as EvalReport;

    expect(report.catalogSize).toBe(PRODUCTS);
    expect(report.queries).toBe(22);
    expect(Object.keys(report.methods)).toEqual(METHODS);
    for (const method of METHODS) {
      const m = report.methods[method]!;
      for (const key of ['recallAt1', 'recallAt5', 'recallAt10', 'mapAt10'] as const) {
        expect(m[key], `${method} ${key}`).toBeGreaterThanOrEqual(0);
        expect(m[key], `${method} ${key}`).toBeLessThanOrEqual(1);
      }
      expect(m.recallAt1!).toBeLessThanOrEqual(m.recallAt5!);
      expect(m.recallAt5!).toBeLessThanOrEqual(m.recallAt10!);
      expect(m.mapAt10!).toBeLessThanOrEqual(m.recallAt10!);
      expect(m.recallAtK).toHaveLength(10);
      expect(m.p50Ms!).toBeGreaterThan(0);
      expect(m.p95Ms!).toBeGreaterThanOrEqual(m.p50Ms!);
    }
    // Mild distortions of a small catalog: the model finds nearly every product.
    expect(report.methods.ann!.recallAt10!).toBeGreaterThanOrEqual(0.8);
    expect(report.methods.exact!.recallAt10!).toBeGreaterThanOrEqual(report.methods.ann!.recallAt10!);
    expect(report.annRecallVsExact!).toBeGreaterThan(0.9);
    expect(report.rerank).toMatchObject({ candidates: 50 });
    expect(report.rerank!.calls).toBe(22 + 3);

    for (const attribute of ['articleType', 'baseColour']) {
      for (const method of METHODS) {
        const share = report.attributes![attribute]![method]!;
        expect(share).toBeGreaterThanOrEqual(0);
        expect(share).toBeLessThanOrEqual(1);
      }
    }
    expect(report.attributeSample).toBe(12);
    // Each kind is a third of the catalog; the product itself is left out.
    expect(report.attributeChance!.articleType).toBeCloseTo(9 / 29, 3);
    expect(report.shopperQueries).toBe(3);
    expect(Object.keys(report.shopper!)).toEqual(METHODS);
    expect(report.setup.shopper).toMatchObject({ attribute: 'articleType', splits: ['test'], unmapped: 1 });
    expect(report.setup.reusedDatabase).toBe(false);

    const markdown = await readFile(file('out', 'report.md'), 'utf8');
    expect(markdown).toContain('npm run eval --');
    expect(markdown).toMatch(/\| `ann` \| [\d.]+ \|/);
    expect(markdown).toContain('![Recall@k per method](report-recall-at-k.png)');
    const chart = await sharp(await readFile(file('out', 'report-recall-at-k.png'))).metadata();
    expect(chart.format).toBe('png');
    expect(chart.width).toBeGreaterThan(500);
  });

  it('reuses the evaluation database for the same catalog and model', { timeout: 300_000 }, async () => {
    await evaluate([
      '--catalog', file('catalog', 'styles.csv'),
      '--map', 'id=sku,title=name,image=picture,category=articleType,colour=baseColour',
      '--distort', '5', '--methods', 'ann,colorHistogram',
      '--data-dir', file('db'),
      '--out', file('out', 'again.json'),
    ]);
    const report = JSON.parse(await readFile(file('out', 'again.json'), 'utf8')) as EvalReport;
    expect(report.setup.reusedDatabase).toBe(true);
    expect(report.catalogSize).toBe(PRODUCTS);
    expect(Object.keys(report.methods)).toEqual(['ann', 'colorHistogram']);
    expect(report.methods.ann!.recallAt10).toBeGreaterThanOrEqual(0.8);
    await expect(evaluate(['--catalog', file('catalog', 'styles.csv'), '--out', file('out', 'x.json')])).rejects.toThrow(/nothing to measure/);
  });

  it('evaluates the models folder named by --models (the database is rebuilt for it)', { timeout: 300_000 }, async () => {
    // A copy of the shipped models under another name: another model to the evaluation.
    await cp(path.resolve('models'), file('other-models'), { recursive: true });
    const manifest = JSON.parse(await readFile(file('other-models', 'manifest.json'), 'utf8'));
    await writeFile(file('other-models', 'manifest.json'), JSON.stringify({ ...manifest, name: 'adapted-copy' }));
    await evaluate([
      '--catalog', file('catalog', 'styles.csv'),
      '--map', 'id=sku,title=name,image=picture,category=articleType,colour=baseColour',
      '--models', file('other-models'),
      '--distort', '5', '--methods', 'ann',
      '--data-dir', file('db'),
      '--out', file('out', 'other.json'),
    ]);
    const report = JSON.parse(await readFile(file('out', 'other.json'), 'utf8')) as EvalReport;
    expect(report.setup.model).toMatch(/^adapted-copy@/);
    expect(report.setup.reusedDatabase).toBe(false);
    expect(report.methods.ann!.recallAt10).toBeGreaterThanOrEqual(0.8);
  });
});
