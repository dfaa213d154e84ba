// The product's fields, defined once: their kinds, and the zod schema of their values as stored
// (text trimmed, empty text cleared; price within NUMERIC(12,2), rounded to cents; currency a
// CHAR(3) ISO 4217 code; attributes a JSON object). The write path, the ingest's field mapping
// and the admin inputs (GraphQL types and validation) are all derived from this file. Only zod.
import { z } from 'zod';

/** The largest NUMERIC(12,2). */
export const MAX_PRICE = 9_999_999_999.99;

const text = z.string().nullable().transform((v) => v?.trim() || null);
const price = z
  .number()
  .nullable()
  .refine((v) => v === null || (Number.isFinite(v) && v >= 0 && v <= MAX_PRICE), `price must be between 0 and ${MAX_PRICE}.`)
  .transform((v) => (v === null ? null : Math.round(v * 100) / 100));
const currency = z
  .string()
  .nullable()
  .transform((v) => v?.trim().toUpperCase() || null)
  .refine((v) => v === null || /^[A-Z]{3}$/.test(v), 'currency must be an ISO 4217 code such as EUR.');
const attributes = z
  .record(z.string(), z.unknown())
  .nullable()
  .transform((v) => v ?? {});

/** Every product field in order, with its kind (title is also text: required where a product is made). */
export const PRODUCT_FIELDS = {
  title: { kind: 'text', schema: text },
  description: { kind: 'text', schema: text },
  brand: { kind: 'text', schema: text },
  category: { kind: 'text', schema: text },
  colour: { kind: 'text', schema: text },
  price: { kind: 'price', schema: price },
  currency: { kind: 'currency', schema: currency },
  attributes: { kind: 'attributes', schema: attributes },
} as const;

export type ProductFieldName = keyof typeof PRODUCT_FIELDS;
export type ProductFieldKind = (typeof PRODUCT_FIELDS)[ProductFieldName]['kind'];
export const PRODUCT_FIELD_NAMES = Object.keys(PRODUCT_FIELDS) as ProductFieldName[];

/**
 * Fields to set: an absent (or undefined) field is left as it is, null clears it. Parsing
 * normalises the values and rejects a bad price or currency with the message a user sees.
 */
export const productPatchSchema = z.object(
  Object.fromEntries(PRODUCT_FIELD_NAMES.map((f) => [f, PRODUCT_FIELDS[f].schema.optional()])) as {
    [F in ProductFieldName]: z.ZodOptional<(typeof PRODUCT_FIELDS)[F]['schema']>;
  },
);

/** Field values as a client sends them (null clears). */
export type ProductFieldsInput = z.input<typeof productPatchSchema>;
/** Normalised field values (undefined: not given). */
export type ProductPatch = z.output<typeof productPatchSchema>;

/** A product as written: its key, a title, and any other fields (absent: empty). */
export interface ProductRecord extends Omit<ProductPatch, 'title'> {
  source: string;
  externalId: string;
  title: string;
}
