// Which field of a source record feeds which product field: `--map id=id,title=productDisplayName,
// image=path,attr.gender=gender`. Paths are dot-separated (`images.0.url`); `*` takes every
// element of an array (`images.*.url`); `a|b` reads both (a text field takes the first value).
import { AppError } from '../errors.js';
import type { ProductRecord } from '../db/index.js';

export const PRODUCT_FIELDS = ['id', 'title', 'description', 'brand', 'category', 'colour', 'price', 'currency', 'image'] as const;
export type ProductField = (typeof PRODUCT_FIELDS)[number];

export interface FieldMap {
  fields: Record<ProductField, string>;
  /** attributes.<name> ← path */
  attributes: Record<string, string>;
}

/** Without --map, each field is read from the same-named field. */
export const DEFAULT_FIELDS: Record<ProductField, string> = Object.fromEntries(PRODUCT_FIELDS.map((f) => [f, f])) as Record<ProductField, string>;

const ALIASES: Record<string, ProductField> = { color: 'colour', images: 'image', name: 'title' };

/** Parses a --map string over the defaults; throws BAD_USER_INPUT naming what is wrong. */
export function parseFieldMap(text: string | undefined): FieldMap {
  const map: FieldMap = { fields: { ...DEFAULT_FIELDS }, attributes: {} };
  for (const entry of (text ?? '').split(',').map((e) => e.trim()).filter(Boolean)) {
    const eq = entry.indexOf('=');
    const target = entry.slice(0, eq).trim();
    const path = entry.slice(eq + 1).trim();
    if (eq < 1 || !path) throw new AppError('BAD_USER_INPUT', `--map entry "${entry}" is not field=path.`);
    if (target.startsWith('attr.') && target.length > 5) {
      map.attributes[target.slice(5)] = path;
      continue;
    }
    const field = (PRODUCT_FIELDS as readonly string[]).includes(target) ? (target as ProductField) : ALIASES[target];
    if (!field) {
      throw new AppError(
        'BAD_USER_INPUT',
        `--map: unknown field "${target}"; use ${PRODUCT_FIELDS.join(', ')} or attr.<name> for an extra attribute.`,
      );
    }
    map.fields[field] = path;
  }
  return map;
}

/** Canonical text of a map (for the run fingerprint). */
export function formatFieldMap(map: FieldMap): string {
  const attrs = Object.entries(map.attributes).sort(([a], [b]) => a.localeCompare(b));
  return [...PRODUCT_FIELDS.map((f) => `${f}=${map.fields[f]}`), ...attrs.map(([k, v]) => `attr.${k}=${v}`)].join(',');
}

/** Every value at a path or at any of its `|` alternatives, in order. */
export function valuesAt(record: unknown, paths: string): unknown[] {
  return paths.split('|').flatMap((p) => valuesAtPath(record, p.trim()));
}

/** Every value at one path; a key holding dots is matched whole first (CSV columns like "a.b"). */
function valuesAtPath(record: unknown, path: string): unknown[] {
  if (path === '') return [record];
  if (record && typeof record === 'object' && !Array.isArray(record) && path in record) {
    return [(record as Record<string, unknown>)[path]];
  }
  let current: unknown[] = [record];
  for (const part of path.split('.')) {
    current = current.flatMap((value) => {
      if (part === '*') return Array.isArray(value) ? value : [];
      if (value === null || typeof value !== 'object') return [];
      const next = (value as Record<string, unknown>)[part];
      return next === undefined ? [] : [next];
    });
  }
  return current;
}

const isBlank = (v: unknown) => v === null || v === undefined || (typeof v === 'string' && v.trim() === '');

function text(record: unknown, path: string): string | null {
  const value = valuesAt(record, path).find((v) => !isBlank(v));
  if (value === undefined) return null;
  return typeof value === 'string' ? value.trim() : typeof value === 'number' || typeof value === 'boolean' ? String(value) : JSON.stringify(value);
}

export type MappedItem =
  | { ok: true; key: string; product: ProductRecord; imageRefs: string[] }
  | { ok: false; key: string | null; code: 'MISSING_FIELD' | 'BAD_FIELD'; reason: string };

const MAX_PRICE = 9_999_999_999.99;

/** One source record → a product and its image references (URLs or paths, not yet resolved). */
export function mapRecord(record: unknown, map: FieldMap, source: string): MappedItem {
  const f = map.fields;
  const key = text(record, f.id);
  if (!key) return { ok: false, key: null, code: 'MISSING_FIELD', reason: `no id (field "${f.id}")` };
  const title = text(record, f.title);
  if (!title) return { ok: false, key, code: 'MISSING_FIELD', reason: `no title (field "${f.title}")` };

  const priceText = text(record, f.price);
  let price: number | null = null;
  if (priceText !== null) {
    price = Number(priceText.replace(/[^\d.-]/g, ''));
    if (!/\d/.test(priceText) || !Number.isFinite(price) || price < 0 || price > MAX_PRICE) {
      return { ok: false, key, code: 'BAD_FIELD', reason: `price "${priceText}" is not a number from 0 to ${MAX_PRICE}` };
    }
    price = Math.round(price * 100) / 100;
  }
  const currency = text(record, f.currency)?.toUpperCase() ?? null;
  if (currency !== null && !/^[A-Z]{3}$/.test(currency)) {
    return { ok: false, key, code: 'BAD_FIELD', reason: `currency "${currency}" is not an ISO 4217 code` };
  }

  // A list field counts as its elements; a text field may hold several references separated by '|'.
  const imageRefs = valuesAt(record, f.image)
    .flatMap((v) => (Array.isArray(v) ? v : [v]))
    .flatMap((v) => (typeof v === 'string' ? v.split('|') : typeof v === 'number' ? [String(v)] : []))
    .map((v) => v.trim())
    .filter(Boolean);

  const attributes: Record<string, unknown> = {};
  for (const [name, path] of Object.entries(map.attributes)) {
    const value = valuesAt(record, path).find((v) => !isBlank(v));
    if (value !== undefined) attributes[name] = typeof value === 'string' ? value.trim() : value;
  }
  return {
    ok: true,
    key,
    imageRefs: [...new Set(imageRefs)],
    product: {
      source,
      externalId: key,
      title,
      description: text(record, f.description),
      brand: text(record, f.brand),
      category: text(record, f.category),
      colour: text(record, f.colour),
      price,
      currency,
      attributes,
    },
  };
}
