// The REST face's contract, defined once in zod: the handler parses requests and shapes responses
// with these schemas, and the OpenAPI document served at /api/openapi.json is generated from them.
import { OpenAPIRegistry, OpenApiGeneratorV31 } from '@asteasolutions/zod-to-openapi';
import { z } from 'zod';
import { ERROR_CODES, type ErrorCode } from '../errors.js';
import { MAX_TOP_K, type SearchResultView } from '../search/search-service.js';
import { HTTP_STATUS } from './client-errors.js';

export const MATCH_PATH = '/api/match';
export const OPENAPI_PATH = '/api/openapi.json';

/** A query parameter that may repeat (`?category=Shirts&category=Tshirts`): one value or many. */
const repeated = (description: string) =>
  z
    .preprocess((v) => (typeof v === 'string' ? [v] : v), z.array(z.string().min(1)))
    .optional()
    .meta({ description: `${description} Repeat the parameter for several; a product matches any of them.` });

// Query values arrive as text; the document states the type they must parse as.
const price = (description: string) => z.coerce.number().min(0).optional().meta({ type: 'number', description });

/** The query parameters of POST /api/match (unknown ones are refused, so a typo is not ignored). */
export const matchQuery = z
  .strictObject({
    imageUrl: z.url().optional().meta({ description: 'Search with the image at this address instead of an upload.' }),
    productId: z.string().min(1).optional().meta({ description: '"More like this": search with a catalog product’s image.' }),
    topK: z.coerce.number().int().min(1).max(MAX_TOP_K).default(10).meta({ description: 'How many products to return.' }),
    rerank: z
      .stringbool()
      .default(false)
      .meta({ type: 'boolean', default: false, description: 'Re-rank the nearest 50 (at least topK) with the pairwise scorer: slower, more precise.' }),
    category: repeated('Only products of this category.'),
    colour: repeated('Only products of this colour.'),
    brand: repeated('Only products of this brand.'),
    minPrice: price('Only products at this price or more.'),
    maxPrice: price('Only products at this price or less.'),
    keyword: z.string().min(1).optional().meta({ description: 'Only products whose title contains these words (case-insensitive).' }),
    region: z
      .string()
      .regex(/^\s*[\d.]+\s*(,\s*[\d.]+\s*){3}$/, 'region is x,y,width,height: four fractions of the photo, e.g. 0.1,0,0.8,0.6.')
      .transform((v) => {
        const [x, y, width, height] = v.split(',').map(Number) as [number, number, number, number];
        return { x, y, width, height };
      })
      .optional()
      .meta({ type: 'string', description: 'Search only this part of the photo: x,y,width,height in fractions of its width and height.' }),
    autoRegion: z
      .stringbool()
      .optional()
      .meta({ type: 'boolean', description: 'Search the part of the photo that holds the product (default: the server’s AUTO_REGION).' }),
  })
  .meta({ description: 'Give exactly one query source: the multipart `image`, `imageUrl` or `productId`.' });

export type MatchQuery = z.output<typeof matchQuery>;

const image = z
  .object({
    id: z.string(),
    url: z.string().meta({ description: 'The display rendition (WebP), relative to the server.' }),
    thumbnailUrl: z.string(),
    width: z.int(),
    height: z.int(),
  })
  .meta({ id: 'Image' });

const product = z
  .object({
    id: z.string(),
    externalId: z.string().meta({ description: 'The store’s own id (SKU), unique within its source.' }),
    source: z.string(),
    title: z.string(),
    description: z.string().nullable(),
    brand: z.string().nullable(),
    category: z.string().nullable(),
    colour: z.string().nullable(),
    price: z.number().nullable(),
    currency: z.string().nullable().meta({ description: 'ISO 4217 code.' }),
    attributes: z.record(z.string(), z.unknown()),
    images: z.array(image),
  })
  .meta({ id: 'Product' });

export const matchResponse = z
  .object({
    searchId: z.string().meta({ description: 'Pass to the GraphQL rerankSearch to re-rank without uploading again.' }),
    model: z.string().meta({ description: 'Model key (name@version) that produced the embeddings.' }),
    tookMs: z.number().meta({ description: 'Server time spent on the search, in milliseconds.' }),
    reranked: z.boolean(),
    region: z
      .object({ x: z.number(), y: z.number(), width: z.number(), height: z.number() })
      .nullable()
      .meta({ description: 'The part of the photo searched, in fractions of its width and height; null: the whole photo.' }),
    autoRegion: z.boolean().meta({ description: 'Whether the service found that region itself.' }),
    items: z.array(
      z
        .object({
          rank: z.int().meta({ description: '1 for the best match.' }),
          similarity: z.number().meta({ description: 'Cosine similarity of the embeddings.' }),
          score: z.number().nullable().meta({ description: 'The pairwise scorer’s match probability; null unless reranked.' }),
          product,
          image,
        })
        .meta({ id: 'Match' }),
    ),
  })
  .meta({ id: 'MatchResult' });

export const errorResponse = z
  .object({
    error: z.object({
      code: z.enum(Object.keys(ERROR_CODES) as [ErrorCode, ...ErrorCode[]]),
      message: z.string(),
    }),
  })
  .meta({ id: 'Error' });

/** The search as the REST face returns it (unknown fields dropped by the schema). */
export function matchBody(result: SearchResultView): z.output<typeof matchResponse> {
  return matchResponse.parse({ ...result, searchId: result.id });
}

/** The codes POST /api/match can answer with, by HTTP status (for the document). */
const MATCH_ERRORS: ErrorCode[] = [
  'BAD_USER_INPUT',
  'BAD_IMAGE',
  'UNSUPPORTED_IMAGE_TYPE',
  'IMAGE_TOO_LARGE',
  'IMAGE_FETCH_FAILED',
  'TOO_MANY_FILES',
  'NOT_FOUND',
  'RATE_LIMITED',
  'OVERLOADED',
  'DATABASE_UNAVAILABLE',
  'INTERNAL_SERVER_ERROR',
];

/** The OpenAPI 3.1 document of the REST routes. */
export function openApiDocument(serverUrl?: string) {
  const registry = new OpenAPIRegistry();
  const byStatus = new Map<number, ErrorCode[]>();
  for (const code of MATCH_ERRORS) byStatus.set(HTTP_STATUS[code], [...(byStatus.get(HTTP_STATUS[code]) ?? []), code]);
  registry.registerPath({
    method: 'post',
    path: MATCH_PATH,
    summary: 'Products that look most like a photo',
    description:
      'The same search as GraphQL similarProducts. Upload the photo as the multipart field `image` ' +
      '(`curl -F image=@shirt.jpg …/api/match`), or give `imageUrl` or `productId` as a query parameter.',
    request: {
      query: matchQuery,
      body: {
        required: false,
        content: {
          'multipart/form-data': {
            schema: z.object({ image: z.string().meta({ format: 'binary', description: 'JPEG, PNG, WebP, GIF or AVIF.' }) }),
          },
          'image/*': { schema: z.string().meta({ format: 'binary', description: 'The image itself as the body.' }) },
        },
      },
    },
    responses: {
      200: { description: 'The products, best match first.', content: { 'application/json': { schema: matchResponse } } },
      ...Object.fromEntries(
        [...byStatus].map(([status, codes]) => [
          status,
          { description: codes.map((c) => `${c}: ${ERROR_CODES[c]}`).join(' '), content: { 'application/json': { schema: errorResponse } } },
        ]),
      ),
    },
  });
  registry.registerPath({
    method: 'get',
    path: OPENAPI_PATH,
    summary: 'This document',
    responses: { 200: { description: 'The OpenAPI 3.1 document of the REST routes.', content: { 'application/json': { schema: z.object({}).passthrough() } } } },
  });
  return new OpenApiGeneratorV31(registry.definitions).generateDocument({
    openapi: '3.1.0',
    info: {
      title: 'Visual product search — REST',
      version: '1.0.0',
      description: 'A one-request search by photo. Everything else (catalog, re-ranking, admin) is in the GraphQL API at /graphql.',
    },
    ...(serverUrl ? { servers: [{ url: serverUrl }] } : {}),
  });
}
