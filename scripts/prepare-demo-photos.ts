// Makes the real-photo demo catalog (demo/photos) and the web page's "try an example" photos
// (web/src/examples) from the CC0 clothing set (alexeygrigorev/clothing-dataset-small, CC0 1.0):
// the test split becomes the catalog, a few validation photos the examples, so an example is never
// a catalog photo. Each photo is resized (longest side 384) and re-encoded as WebP; the listing
// gives each a title, its category (the dataset's label), a colour estimated from the photo and a
// price. Re-running it rewrites the same files.
//
//   npx tsx scripts/prepare-demo-photos.ts [--datasets ../shared/datasets]
import { mkdir, readFile, readdir, rm, stat, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { parseArgs } from 'node:util';
import { parse } from 'csv-parse/sync';
import { LISTING_FILE, type PhotoListingEntry } from '../src/demo/photo-catalog.js';
import { decodeRgb, renderMedia, validateImage, type RgbPixels } from '../src/images/index.js';

const SIZE = 384;
const SET = 'clothing-cc0';
/** The labels the page offers as examples, one photo each. */
const EXAMPLE_LABELS = ['t-shirt', 'dress', 'pants', 'shoes', 'longsleeve', 'shorts'];

/** The dataset's labels as a shop would name one product of each. */
const NOUNS: Record<string, string> = {
  dress: 'dress',
  hat: 'hat',
  longsleeve: 'long-sleeve top',
  outwear: 'jacket',
  pants: 'trousers',
  shirt: 'shirt',
  shoes: 'shoes',
  shorts: 'shorts',
  skirt: 'skirt',
  't-shirt': 'T-shirt',
};
/** A plausible price range per label (EUR); each product gets a fixed point in it. */
const PRICES: Record<string, [number, number]> = {
  dress: [29, 79],
  hat: [9, 25],
  longsleeve: [19, 45],
  outwear: [49, 149],
  pants: [25, 69],
  shirt: [19, 49],
  shoes: [29, 99],
  shorts: [14, 35],
  skirt: [19, 49],
  't-shirt': [9, 29],
};

const { values: args } = parseArgs({
  options: {
    datasets: { type: 'string', default: process.env.DATASETS_DIR ?? '../shared/datasets' },
    out: { type: 'string', default: 'demo/photos' },
    examples: { type: 'string', default: 'web/src/examples' },
  },
});

interface Row {
  path: string;
  label: string;
  split: string;
}

const root = path.join(args.datasets!, SET);
const rows = (parse(await readFile(path.join(root, 'labels.csv')), { columns: true, skip_empty_lines: true, trim: true }) as Row[]).sort(
  (a, b) => a.path.localeCompare(b.path),
);

/** The photo as a WebP of longest side SIZE, and the pixels to estimate its colour from. */
async function prepare(file: string) {
  const bytes = await readFile(path.join(root, file));
  const image = await validateImage(bytes, { maxPixels: 40_000_000 });
  const { display } = await renderMedia(image, { displaySize: SIZE, thumbnailSize: 16 });
  return { webp: display, pixels: await decodeRgb(bytes, { maxSide: 96 }) };
}

const uuidOf = (file: string) => path.basename(file, path.extname(file));

async function writeCatalog() {
  const test = rows.filter((r) => r.split === 'test');
  await rm(args.out!, { recursive: true, force: true });
  await mkdir(args.out!, { recursive: true });
  const listing: PhotoListingEntry[] = [];
  for (const row of test) {
    const { webp, pixels } = await prepare(row.path);
    const id = uuidOf(row.path).slice(0, 8);
    const file = `${row.label}-${id}.webp`;
    await writeFile(path.join(args.out!, file), webp);
    const colour = dominantColour(pixels);
    const [low, high] = PRICES[row.label] ?? [10, 50];
    listing.push({
      file,
      externalId: `cc0-${id}`,
      title: `${colour} ${NOUNS[row.label] ?? row.label}`,
      category: row.label,
      colour,
      price: Math.floor(low + (parseInt(id, 16) % (high - low + 1))) + 0.99,
      currency: 'EUR',
      attributes: { dataset: 'alexeygrigorev/clothing-dataset-small', license: 'CC0-1.0', path: row.path },
    });
  }
  await writeFile(path.join(args.out!, LISTING_FILE), JSON.stringify(listing, null, 1) + '\n');
  return test.length;
}

async function writeExamples() {
  await rm(args.examples!, { recursive: true, force: true });
  await mkdir(args.examples!, { recursive: true });
  for (const label of EXAMPLE_LABELS) {
    const row = rows.find((r) => r.split === 'validation' && r.label === label);
    if (!row) throw new Error(`no validation photo of ${label}`);
    await writeFile(path.join(args.examples!, `${label}.webp`), (await prepare(row.path)).webp);
  }
}

async function bytesIn(dir: string) {
  let total = 0;
  for (const f of await readdir(dir)) total += (await stat(path.join(dir, f))).size;
  return total;
}

/**
 * The garment's colour name: the photos show one garment on a plain-ish surface (a bed, a floor, a
 * wall), so the background is what the border shows. The central pixels unlike any border colour
 * are clustered, weighted towards the centre; the heaviest cluster's mean names the colour, or
 * "Multicolour" when no cluster holds most of the garment and the big ones are named differently.
 */
function dominantColour({ data, width, height }: RgbPixels): string {
  const at = (x: number, y: number) => {
    const i = (y * width + x) * 3;
    return [data[i]!, data[i + 1]!, data[i + 2]!] as const;
  };
  const margin = Math.max(2, Math.round(Math.min(width, height) * 0.06));
  const border: Rgb[] = [];
  const inner: { rgb: Rgb; weight: number }[] = [];
  for (let y = 0; y < height; y++)
    for (let x = 0; x < width; x++) {
      const rgb = at(x, y);
      if (x < margin || y < margin || x >= width - margin || y >= height - margin) border.push(rgb);
      else inner.push({ rgb, weight: 1 - Math.hypot(x / width - 0.5, y / height - 0.5) });
    }
  // The border's main colours; a few stray pixels (a sleeve that reaches the edge) are not background.
  const background = palette(border.map((rgb) => ({ rgb, weight: 1 })), 6)
    .filter((c) => c.weight > border.length * 0.05)
    .map((c) => c.rgb);
  const garment = inner.filter((p) => background.every((b) => distance(b, p.rgb) >= 48));
  // A garment the colour of its background: fall back to the whole centre.
  const clusters = palette(garment.length > inner.length * 0.05 ? garment : inner, 3).sort((a, b) => b.weight - a.weight);
  const total = clusters.reduce((sum, c) => sum + c.weight, 0);
  const [first, second] = clusters.map((c) => ({ name: colourName(c.rgb), share: c.weight / total }));
  const family = (name: string) => FAMILIES[name] ?? name;
  if (first!.share < 0.4 && second && second.share > 0.3 && family(second.name) !== family(first!.name)) return 'Multicolour';
  return first!.name;
}

type Rgb = readonly [number, number, number];

/** Names that one colour in light and shadow takes: not several colours. */
const FAMILIES: Record<string, string> = { Navy: 'Blue', Teal: 'Blue', Maroon: 'Red', Grey: 'Black', White: 'Black', Beige: 'Brown', Orange: 'Brown', Olive: 'Green' };

/** k representative colours of weighted pixels and the weight each gathers (k-means, seeded far apart). */
function palette(pixels: { rgb: Rgb; weight: number }[], k: number): { rgb: Rgb; weight: number }[] {
  const centres: Rgb[] = [pixels[0]!.rgb];
  const nearest = (p: Rgb) => Math.min(...centres.map((c) => distance(c, p)));
  while (centres.length < k) centres.push(pixels.reduce((far, p) => (nearest(p.rgb) > nearest(far.rgb) ? p : far)).rgb);
  let weights = centres.map(() => 0);
  for (let round = 0; round < 8; round++) {
    const sums = centres.map(() => [0, 0, 0]);
    weights = centres.map(() => 0);
    for (const { rgb, weight } of pixels) {
      const i = centres.reduce((best, c, j) => (distance(c, rgb) < distance(centres[best]!, rgb) ? j : best), 0);
      for (let ch = 0; ch < 3; ch++) sums[i]![ch]! += rgb[ch]! * weight;
      weights[i]! += weight;
    }
    sums.forEach(([r, g, b], i) => {
      const w = weights[i]!;
      if (w) centres[i] = [r! / w, g! / w, b! / w];
    });
  }
  return centres.map((rgb, i) => ({ rgb, weight: weights[i]! }));
}

function distance(a: readonly number[], b: readonly number[]): number {
  return Math.hypot(a[0]! - b[0]!, a[1]! - b[1]!, a[2]! - b[2]!);
}

/** A shop's colour name for an sRGB colour, by hue, saturation and value. */
function colourName([r, g, b]: Rgb): string {
  const max = Math.max(r, g, b) / 255;
  const min = Math.min(r, g, b) / 255;
  const v = max;
  const s = max === 0 ? 0 : (max - min) / max;
  let h = 0;
  if (max !== min) {
    const d = max - min;
    const [rn, gn, bn] = [r / 255, g / 255, b / 255];
    h = max === rn ? ((gn - bn) / d) % 6 : max === gn ? (bn - rn) / d + 2 : (rn - gn) / d + 4;
    h = (h * 60 + 360) % 360;
  }
  if (v < 0.2) return 'Black';
  // Blues show their hue at lower saturation (faded denim) than warm colours.
  if (s < (h >= 190 && h < 250 ? 0.12 : 0.2)) return v > 0.82 ? 'White' : v < 0.35 ? 'Black' : 'Grey';
  if (h < 15 || h >= 345) return s < 0.5 && v > 0.7 ? 'Pink' : v < 0.4 ? 'Maroon' : 'Red';
  if (h < 45) return v < 0.55 ? 'Brown' : s < 0.45 ? 'Beige' : 'Orange';
  if (h < 70) return v < 0.5 ? 'Olive' : s < 0.4 ? 'Beige' : 'Yellow';
  if (h < 165) return 'Green';
  if (h < 195) return 'Teal';
  if (h < 255) return v < 0.4 ? 'Navy' : 'Blue';
  if (h < 290) return 'Purple';
  return 'Pink';
}

const count = await writeCatalog();
await writeExamples();
const mb = (n: number) => (n / 1024 / 1024).toFixed(2);
console.log(`${count} catalog photos: ${mb(await bytesIn(args.out!))} MB in ${args.out}; examples: ${mb(await bytesIn(args.examples!))} MB in ${args.examples}`);
