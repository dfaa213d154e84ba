// The catalog under evaluation, read the way the ingest pipeline reads it (same records, same
// --map), so that the harness knows each product's id, image file and attribute values.
import { createHash } from 'node:crypto';
import { stat } from 'node:fs/promises';
import path from 'node:path';
import { AppError } from '../errors.js';
import { mapRecord, parseFieldMap } from '../ingest/mapping.js';
import { listImages, readRecords } from '../ingest/sources/files.js';
import type { IngestSpecInput } from '../ingest/spec.js';

/** products.source of everything the evaluation ingests. */
export const EVAL_SOURCE = 'eval';

export interface CatalogEntry {
  /** The catalog's id (products.external_id). */
  id: string;
  /** Its first image, an absolute local path. */
  imagePath: string;
  /** Attribute values: the source record's fields, and the mapped category, colour and brand. */
  attributes: Record<string, string>;
}

export interface CatalogFile {
  /** What the ingest pipeline is asked to load. */
  spec: IngestSpecInput;
  entries: CatalogEntry[];
  /** Records that name no id, title or local image (not evaluated; the ingest reports them). */
  skipped: number;
  /** Identifies the listing and mapping: a stored evaluation database is reused only for the same. */
  digest: string;
}

/** A CSV / JSON(L) listing (rows with an image path) or a folder of images (ids from file names). */
export async function readCatalog(location: string, map?: string): Promise<CatalogFile> {
  const absolute = path.resolve(location);
  const info = await stat(absolute).catch(() => null);
  if (!info) throw new AppError('BAD_USER_INPUT', `--catalog ${location} does not exist.`);
  const folder = info.isDirectory();
  const spec: IngestSpecInput = folder
    ? { kind: 'folder', dir: absolute, map, source: EVAL_SOURCE }
    : { kind: 'manifest', file: absolute, map, source: EVAL_SOURCE };
  const base = folder ? absolute : path.dirname(absolute);
  const records = folder
    ? (await listImages(absolute)).map((file) => ({ id: file.replace(/\.[^./]+$/, ''), title: file, image: file }))
    : await readRecords(absolute);
  const fields = parseFieldMap(map);
  const entries: CatalogEntry[] = [];
  const seen = new Set<string>();
  for (const record of records) {
    const mapped = mapRecord(record, fields, EVAL_SOURCE);
    const ref = mapped.ok ? mapped.imageRefs[0] : undefined;
    if (!mapped.ok || !ref || /^https?:\/\//i.test(ref) || seen.has(mapped.key)) continue;
    seen.add(mapped.key);
    entries.push({ id: mapped.key, imagePath: path.resolve(base, ref), attributes: attributesOf(record, mapped.product) });
  }
  if (entries.length === 0) throw new AppError('BAD_USER_INPUT', `--catalog ${location}: no product with an id, a title and a local image (check --map).`);
  const digest = createHash('sha256')
    .update(JSON.stringify({ spec, entries: entries.map((e) => [e.id, e.imagePath]) }))
    .digest('hex');
  return { spec, entries, skipped: records.length - entries.length, digest };
}

function attributesOf(record: unknown, product: { category?: string | null; colour?: string | null; brand?: string | null }) {
  const attributes: Record<string, string> = {};
  if (record && typeof record === 'object') {
    for (const [k, v] of Object.entries(record)) if (typeof v === 'string' && v.trim()) attributes[k] = v.trim();
  }
  for (const k of ['category', 'colour', 'brand'] as const) {
    const v = product[k];
    if (v) attributes[k] ??= v;
  }
  return attributes;
}
