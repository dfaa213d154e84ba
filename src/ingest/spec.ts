// What to ingest: one source, described the same way by the CLI and by startIngest. The
// fingerprint of these arguments identifies a run, so the same arguments resume it.
import { createHash } from 'node:crypto';
import path from 'node:path';
import { z } from 'zod';
import { AppError } from '../errors.js';
import { formatFieldMap, parseFieldMap } from './mapping.js';

const common = {
  /** products.source; default: the API's host, or the folder's / manifest's name. */
  source: z.string().trim().min(1).max(200).optional(),
  /** --map: which record field feeds which product field. */
  map: z.string().optional(),
  /** Path to the array of records inside a JSON document (API page, JSON sidecar or manifest). */
  itemsPath: z.string().optional(),
  /** Records per page (API page size; progress unit of local files). */
  pageSize: z.number().int().min(1).max(1000).optional(),
};

const httpUrl = z.url({ protocol: /^https?$/, error: 'must be an http(s) URL' });

export const ingestSpecSchema = z.discriminatedUnion('kind', [
  z.object({
    kind: z.literal('api'),
    url: httpUrl,
    pageParam: z.string().min(1).default('p'),
    sizeParam: z.string().min(1).default('rows'),
    startPage: z.number().int().min(0).default(1),
    maxPages: z.number().int().min(1).optional(),
    ...common,
  }),
  z.object({ kind: z.literal('folder'), dir: z.string().min(1), meta: z.string().min(1).optional(), ...common }),
  z.object({ kind: z.literal('manifest'), file: z.string().min(1), ...common }),
]);

export type IngestSpecInput = z.input<typeof ingestSpecSchema>;
export type IngestSpec = z.output<typeof ingestSpecSchema>;

export const DEFAULT_PAGE_SIZE = { api: 50, folder: 100, manifest: 100 } as const;

/** Validates a spec and makes its paths absolute; BAD_USER_INPUT with every problem otherwise. */
export function parseIngestSpec(input: IngestSpecInput): IngestSpec {
  const parsed = ingestSpecSchema.safeParse(input);
  if (!parsed.success) {
    throw new AppError('BAD_USER_INPUT', parsed.error.issues.map((i) => `${i.path.join('.') || 'source'}: ${i.message}`).join('; '));
  }
  const spec = { ...parsed.data, pageSize: parsed.data.pageSize ?? DEFAULT_PAGE_SIZE[parsed.data.kind] };
  parseFieldMap(spec.map);
  if (spec.kind === 'folder') return { ...spec, dir: path.resolve(spec.dir), meta: spec.meta && path.resolve(spec.meta) };
  if (spec.kind === 'manifest') return { ...spec, file: path.resolve(spec.file) };
  return spec;
}

/** The name products from this source are keyed under. */
export function sourceName(spec: IngestSpec): string {
  if (spec.source) return spec.source;
  if (spec.kind === 'api') return new URL(spec.url).host;
  if (spec.kind === 'folder') return path.basename(spec.dir);
  return path.basename(spec.file, path.extname(spec.file));
}

/** sha256 of what identifies the listing: location, paging, mapping and source name. */
export function fingerprint(spec: IngestSpec): string {
  const { maxPages: _limit, ...identity } = spec as IngestSpec & { maxPages?: number };
  const canonical = { ...identity, map: formatFieldMap(parseFieldMap(spec.map)), source: sourceName(spec) };
  const sorted = Object.fromEntries(Object.entries(canonical).filter(([, v]) => v !== undefined).sort(([a], [b]) => a.localeCompare(b)));
  return createHash('sha256').update(JSON.stringify(sorted)).digest('hex');
}
