// Does searching the automatically proposed product region (src/images/garment-region.ts) help a
// shopper's photo? The labelled CC0 shopper photos (clothing-cc0 validation + test) against a store
// catalog (myntra), each embedded whole and with the proposed region; the figure is the share of the
// top 10 whose articleType fits the photo's label (the evaluation's shopper metric), by an exact
// scan. Catalog photos are embedded whole, as ingest does.
//
//   npx tsx bench/auto-region.ts --catalog ../shared/datasets/myntra/styles.csv \
//     --map id=id,title=productDisplayName,category=articleType,colour=baseColour,image=path \
//     --shopper ../shared/datasets/clothing-cc0/labels.csv --label-map bench/clothing-cc0-label-map.json \
//     --out bench/results/auto-region.json
import { readFile, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { Command } from 'commander';
import pino from 'pino';
import { readCatalog } from '../src/eval/catalog-file.js';
import { agreement, mean } from '../src/eval/metrics.js';
import { readLabelMap, readShopperPhotos } from '../src/eval/query-sets.js';
import { proposeRegion, validateImage, type ImageRegion, type ValidatedImage } from '../src/images/index.js';
import { loadModels, type LoadedModels } from '../src/ml/index.js';

const K = 10;
const program = new Command()
  .option('--models <dir>', 'models folder', 'models')
  .requiredOption('--catalog <csv>', 'catalog listing')
  .option('--map <mapping>', 'field mapping, as for npm run eval')
  .requiredOption('--shopper <csv>', 'labelled shopper photos')
  .requiredOption('--label-map <json>', 'shopper label → accepted articleType values')
  .option('--splits <list>', 'shopper photo splits', 'validation,test')
  .requiredOption('--out <json>', 'JSON results (a Markdown table beside it)');
program.parse();
const opts = program.opts();

const models = await loadModels({ modelsDir: path.resolve(opts.models), providers: ['cpu'], batchSize: 32, logger: pino({ level: 'warn' }), verify: false });
const dim = models.info.dim;

/** Unit vectors of the images (with their regions), n × dim. */
async function embed(m: LoadedModels, items: { image: ValidatedImage; region?: ImageRegion | null }[]): Promise<Float32Array> {
  const out = new Float32Array(items.length * dim);
  for (let i = 0; i < items.length; i += 64) {
    const batch = items.slice(i, i + 64).map(({ image, region }) => ({ image, region: region ?? undefined }));
    (await m.embed(batch)).forEach((e, j) => out.set(e.vector, (i + j) * dim));
    if ((i / 64) % 20 === 0) process.stderr.write(`\r  embedded ${Math.min(i + 64, items.length)}/${items.length}`);
  }
  process.stderr.write('\n');
  return out;
}

function top(index: Float32Array, n: number, q: Float32Array, offset: number, k: number): number[] {
  const best: { i: number; s: number }[] = [];
  for (let i = 0; i < n; i++) {
    let s = 0;
    for (let d = 0; d < dim; d++) s += index[i * dim + d]! * q[offset + d]!;
    if (best.length < k || s > best[best.length - 1]!.s) {
      best.push({ i, s });
      best.sort((a, b) => b.s - a.s);
      if (best.length > k) best.pop();
    }
  }
  return best.map((b) => b.i);
}

const started = Date.now();
const catalog = await readCatalog(opts.catalog, opts.map);
const entries = catalog.entries;
console.error(`catalog: ${entries.length} products`);
const catalogImages: ValidatedImage[] = [];
for (const e of entries) catalogImages.push(await validateImage(await readFile(e.imagePath), { maxPixels: 40e6 }));
const index = await embed(models, catalogImages.map((image) => ({ image })));

const map = await readLabelMap(opts.labelMap);
const { photos } = await readShopperPhotos(opts.shopper, map, String(opts.splits).split(','));
console.error(`shopper photos: ${photos.length}`);
const images = await Promise.all(photos.map(async (p) => validateImage(await readFile(p.path), { maxPixels: 40e6 })));
const regionStarted = performance.now();
const regions: (ImageRegion | null)[] = [];
for (const image of images) regions.push(await proposeRegion(image));
const regionMs = (performance.now() - regionStarted) / images.length;
const whole = await embed(models, images.map((image) => ({ image })));
/**
 * The region grown on its shorter side (in fractions) to the photo's own shape: the model stretches
 * every input to a square, so a crop of another shape is distorted unlike the catalog's photos.
 */
const photoShaped = (r: ImageRegion | null): ImageRegion | null => {
  if (!r) return r;
  const side = Math.min(1, Math.max(r.width, r.height));
  const x = Math.min(Math.max(0, r.x + r.width / 2 - side / 2), 1 - side);
  const y = Math.min(Math.max(0, r.y + r.height / 2 - side / 2), 1 - side);
  return { x, y, width: side, height: side };
};
const auto = await embed(models, images.map((image, i) => ({ image, region: regions[i] })));
const shaped = await embed(models, images.map((image, i) => ({ image, region: photoShaped(regions[i]!) })));

interface Tally {
  photos: number;
  proposed: number;
  whole: number[];
  auto: number[];
  shaped: number[];
}
const byLabel = new Map<string, Tally>();
const all: Tally = { photos: 0, proposed: 0, whole: [], auto: [], shaped: [] };
for (const [i, p] of photos.entries()) {
  const right = (t: number) => p.accepted.has(entries[t]!.attributes[map.attribute] ?? '');
  const w = agreement(top(index, entries.length, whole, i * dim, K), right) ?? 0;
  const a = agreement(top(index, entries.length, auto, i * dim, K), right) ?? 0;
  const sh = agreement(top(index, entries.length, shaped, i * dim, K), right) ?? 0;
  const label = byLabel.get(p.label) ?? { photos: 0, proposed: 0, whole: [], auto: [], shaped: [] };
  byLabel.set(p.label, label);
  for (const t of [label, all]) {
    t.photos++;
    if (regions[i]) t.proposed++;
    t.whole.push(w);
    t.auto.push(a);
    t.shaped.push(sh);
  }
}
const summary = (t: Tally) => ({ photos: t.photos, proposed: t.proposed, whole: mean(t.whole), auto: mean(t.auto), shaped: mean(t.shaped) });
const proposedIdx = regions.map((r, i) => (r ? i : -1)).filter((i) => i >= 0);
const result = {
  models: models.info.key,
  catalog: entries.length,
  k: K,
  all: summary(all),
  onProposed: {
    photos: proposedIdx.length,
    whole: mean(proposedIdx.map((i) => all.whole[i]!)),
    auto: mean(proposedIdx.map((i) => all.auto[i]!)),
    shaped: mean(proposedIdx.map((i) => all.shaped[i]!)),
  },
  meanRegionArea: mean(regions.filter((r): r is ImageRegion => r !== null).map((r) => r.width * r.height)),
  regionMsPerPhoto: regionMs,
  byLabel: Object.fromEntries([...byLabel].sort().map(([l, t]) => [l, summary(t)])),
  seconds: Math.round((Date.now() - started) / 1000),
};
await models.close();
await writeFile(opts.out, JSON.stringify(result, null, 2) + '\n');
const f = (v: number) => v.toFixed(3);
const md = [
  `# Automatic product region on shopper photos`,
  '',
  `\`npx tsx bench/auto-region.ts --catalog … --shopper … --label-map bench/clothing-cc0-label-map.json --out ${opts.out}\``,
  '',
  `Model ${result.models}; ${result.catalog} catalog products; ${result.all.photos} labelled CC0 shopper photos (${opts.splits}). ` +
    `Share of the top ${K} (exact scan) whose articleType fits the photo's label, with the whole photo and with the proposed region ` +
    `(the whole photo where none is proposed). A region was proposed for ${result.all.proposed} photos (mean area ${f(result.meanRegionArea)} of the photo), ` +
    `in ${result.regionMsPerPhoto.toFixed(1)} ms a photo. "Photo-shaped" grows the region's shorter side to the photo's own shape ` +
    `(the model stretches its input to a square).`,
  '',
  '| label | photos | region proposed | whole photo | automatic region | photo-shaped region |',
  '| --- | --- | --- | --- | --- | --- |',
  ...Object.entries(result.byLabel).map(([l, s]) => `| ${l} | ${s.photos} | ${s.proposed} | ${f(s.whole)} | ${f(s.auto)} | ${f(s.shaped)} |`),
  `| **all** | ${result.all.photos} | ${result.all.proposed} | **${f(result.all.whole)}** | **${f(result.all.auto)}** | **${f(result.all.shaped)}** |`,
  `| photos with a region | ${result.onProposed.photos} | | ${f(result.onProposed.whole)} | ${f(result.onProposed.auto)} | ${f(result.onProposed.shaped)} |`,
  '',
];
await writeFile(opts.out.replace(/\.json$/, '.md'), md.join('\n'));
console.log(md.join('\n'));
