// Which field of a source record feeds which product field: `--map id=id,title=productDisplayName,
// image=path,attr.gender=gender`. Paths are dot-separated (`images.0.url`); `*` takes every
// element of an array (`images.*.url`); `a|b` reads both (a text field takes the first value).
import { MAX_PRICE, PRODUCT_FIELD_NAMES, PRODUCT_FIELDS as STORED_FIELDS, productPatchSchema, type ProductFieldName, type ProductRecord } from '../db/product-fields.js';
import { AppError } from '../errors.js';

/** The product's fields read from one path each (attributes are read per name: attr.<name>). */
const MAPPED_FIELDS = PRODUCT_FIELD_NAMES.filter((f): f is Exclude<ProductFieldName, 'attributes'> => f !== 'attributes');

/** What --map can name: the item's id, the product's fields, its images. */
export const PRODUCT_FIELDS = ['id', ...MAPPED_FIELDS, 'image'] as const;
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

/** One source record → a product and its image references (URLs or paths, not yet resolved). */
export function mapRecord(record: unknown, map: FieldMap, source: string): MappedItem {
  const f = map.fields;
  const key = text(record, f.id);
  if (!key) return { ok: false, key: null, code: 'MISSING_FIELD', reason: `no id (field "${f.id}")` };
  const title = text(record, f.title);
  if (!title) return { ok: false, key, code: 'MISSING_FIELD', reason: `no title (field "${f.title}")` };

  const raw = Object.fromEntries(MAPPED_FIELDS.map((field) => [field, text(record, f[field])])) as Record<(typeof MAPPED_FIELDS)[number], string | null>;
  // Prices come as text ("1,299.00", "₹ 499"): the number in it.
  const priceText = raw.price;
  const price = priceText === null ? null : /\d/.test(priceText) ? Number(priceText.replace(/[^\d.-]/g, '')) : NaN;

  const attributes: Record<string, unknown> = {};
  for (const [name, path] of Object.entries(map.attributes)) {
    const value = valuesAt(record, path).find((v) => !isBlank(v));
    if (value !== undefined) attributes[name] = typeof value === 'string' ? value.trim() : value;
  }
  const parsed = productPatchSchema.safeParse({ ...raw, price, attributes });
  if (!parsed.success) {
    const field = parsed.error.issues[0]!.path[0] as ProductFieldName;
    const reason =
      STORED_FIELDS[field].kind === 'price'
        ? `price "${priceText}" is not a number from 0 to ${MAX_PRICE}`
        : `currency "${raw.currency?.toUpperCase()}" is not an ISO 4217 code`;
    return { ok: false, key, code: 'BAD_FIELD', reason };
  }

  // A list field counts as its elements; a text field may hold several references separated by '|'.
  const imageRefs = valuesAt(record, f.image)
    .flatMap((v) => (Array.isArray(v) ? v : [v]))
    .flatMap((v) => (typeof v === 'string' ? v.split('|') : typeof v === 'number' ? [String(v)] : []))
    .map((v) => v.trim())
    .filter(Boolean);

  return {
    ok: true,
    key,
    imageRefs: [...new Set(imageRefs)],
    product: { ...parsed.data, source, externalId: key, title },
  };
}
