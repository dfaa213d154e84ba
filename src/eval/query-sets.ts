// The photos the harness searches with: exact-product queries (a CSV, or catalog images it
// distorts itself) and labelled shopper photos.
import { readFile } from 'node:fs/promises';
import path from 'node:path';
import { z } from 'zod';
import { AppError } from '../errors.js';
import { readRecords } from '../ingest/sources/files.js';
import { distortPhoto } from './distortions.js';
import type { CatalogEntry } from './catalog-file.js';
import { itemSeed, sample, seededRandom } from './random.js';

/** A photo whose right answers are known catalog ids. */
export interface ProductQuery {
  name: string;
  load(): Promise<Buffer>;
  /** Acceptable catalog ids (any of them is a hit). */
  expected: string[];
}

/** `query_path,expected_id` rows; paths relative to the CSV, several ids separated by '|'. */
export async function readQueryCsv(file: string): Promise<ProductQuery[]> {
  const rows = (await readRecords(path.resolve(file))) as Record<string, string>[];
  const base = path.dirname(path.resolve(file));
  return rows.map((row, i) => {
    const queryPath = row.query_path?.trim();
    const expected = (row.expected_id ?? '').split('|').map((id) => id.trim()).filter(Boolean);
    if (!queryPath || expected.length === 0) {
      throw new AppError('BAD_USER_INPUT', `${file} row ${i + 2}: needs query_path and expected_id.`);
    }
    return { name: queryPath, load: () => readFile(path.resolve(base, queryPath)), expected };
  });
}

/** `count` catalog images, drawn and distorted reproducibly from `seed`; each must find itself. */
export function distortedQueries(entries: readonly CatalogEntry[], count: number, seed: number, strength: number): ProductQuery[] {
  return sample(entries, count, seededRandom(seed)).map((entry, i) => ({
    name: `${entry.id} (distorted #${i})`,
    expected: [entry.id],
    load: async () => (await distortPhoto(await readFile(entry.imagePath), { random: seededRandom(itemSeed(seed, i)), strength })).bytes,
  }));
}

/** Shopper photo labels → the catalog attribute values that count as a match. */
export const labelMapSchema = z.object({
  /** The catalog attribute the labels are matched against, e.g. articleType. */
  attribute: z.string().min(1),
  labels: z.record(z.string(), z.array(z.string().min(1)).min(1)),
  note: z.string().optional(),
});
export type LabelMap = z.infer<typeof labelMapSchema>;

export async function readLabelMap(file: string): Promise<LabelMap> {
  let json: unknown;
  try {
    json = JSON.parse(await readFile(file, 'utf8'));
  } catch (error) {
    throw new AppError('BAD_USER_INPUT', `--label-map ${file}: ${(error as Error).message}`);
  }
  const parsed = labelMapSchema.safeParse(json);
  if (!parsed.success) throw new AppError('BAD_USER_INPUT', `--label-map ${file}: ${parsed.error.issues.map((i) => `${i.path.join('.')}: ${i.message}`).join('; ')}`);
  return parsed.data;
}

export interface ShopperPhoto {
  path: string;
  label: string;
  accepted: ReadonlySet<string>;
}

/**
 * `path,label[,split]` rows (paths relative to the CSV) of the chosen splits whose label the map
 * knows. Photos of labels the map leaves out are counted, not searched.
 */
export async function readShopperPhotos(file: string, map: LabelMap, splits: readonly string[]) {
  const rows = (await readRecords(path.resolve(file))) as Record<string, string>[];
  const base = path.dirname(path.resolve(file));
  const photos: ShopperPhoto[] = [];
  let unmapped = 0;
  for (const row of rows) {
    if (row.split !== undefined && splits.length > 0 && !splits.includes(row.split)) continue;
    const accepted = map.labels[row.label ?? ''];
    if (!row.path || !accepted) {
      unmapped++;
      continue;
    }
    photos.push({ path: path.resolve(base, row.path), label: row.label!, accepted: new Set(accepted) });
  }
  return { photos, unmapped };
}
