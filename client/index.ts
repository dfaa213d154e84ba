// A small typed client for the visual product search API, for the browser and for Node ≥ 20
// (both have fetch, FormData and Blob). Documents and result types are generated from
// schema.graphql by graphql-codegen (`npm run codegen`, see client/operations.graphql).
//
//   import { createClient } from './client/index.js';
//   const api = createClient({ url: 'http://localhost:4000/graphql' });
//   const result = await api.similarProducts({ image: await readFile('photo.jpg'), topK: 5 });
//   for (const hit of result.items) console.log(hit.rank, hit.product.title, hit.similarity);
import {
  CatalogStatsDocument,
  FacetValuesDocument,
  ProductDocument,
  ProductsDocument,
  RerankSearchDocument,
  SimilarProductsDocument,
  type CatalogStatsQuery,
  type FacetValuesQuery,
  type ProductFilter,
  type ProductQuery,
  type ProductsQuery,
  type RegionInput,
  type SimilarProductsQuery,
  type TypedDocumentString,
} from './generated/graphql.js';
import type { ApiErrorCode } from './error-codes.js';

export * from './generated/graphql.js';
export * from './error-codes.js';

/** One search result (SimilarProducts and RerankSearch select the same fields). */
export type SearchResult = SimilarProductsQuery['similarProducts'];
export type SearchHit = SearchResult['items'][number];
export type ProductCard = SearchHit['product'];
export type ProductDetail = NonNullable<ProductQuery['product']>;
export type ProductPage = ProductsQuery['products'];
export type CatalogStats = CatalogStatsQuery['catalogStats'];

/** Codes the API puts in `extensions.code` (client/error-codes.ts), plus two of the client's own. */
export type ErrorCode =
  | ApiErrorCode
  /** The server could not be reached (fetch failed). */
  | 'NETWORK_ERROR'
  /** The server answered something that is not a GraphQL response. */
  | 'BAD_RESPONSE'
  | (string & {});

export interface GraphQLErrorInfo {
  message: string;
  path?: (string | number)[];
  extensions?: { code?: string; [key: string]: unknown };
}

/** A failed call: `code` is the first error's `extensions.code` (stable), `message` its text. */
export class ApiError extends Error {
  readonly code: ErrorCode;
  constructor(
    message: string,
    code: ErrorCode,
    /** Every GraphQL error of the response (empty for NETWORK_ERROR and BAD_RESPONSE). */
    readonly errors: GraphQLErrorInfo[] = [],
    /** HTTP status, when the server answered. */
    readonly status?: number,
  ) {
    super(message);
    this.name = 'ApiError';
    this.code = code;
  }
}

/** Image bytes: a File or Blob in the browser; a Buffer, Uint8Array or Blob in Node. */
export type ImageInput = Blob | Uint8Array | ArrayBuffer;

export interface ClientOptions {
  /** The GraphQL endpoint. Default '/graphql' (same origin; in Node give an absolute URL). */
  url?: string;
  /** Extra headers on every request (e.g. Authorization). */
  headers?: Record<string, string>;
  /** A fetch implementation (default: the global one). */
  fetch?: typeof fetch;
}

export interface RequestOptions {
  signal?: AbortSignal;
}

export interface SimilarProductsArgs {
  /** A photo to search with (multipart upload). Give exactly one of image, imageUrl, productId. */
  image?: ImageInput;
  /** File name sent with the upload (default 'image'). */
  filename?: string;
  imageUrl?: string;
  /** "More like this": a catalog product's id. */
  productId?: string;
  /** Part of the photo to search with, in fractions of its width and height. */
  region?: RegionInput;
  topK?: number;
  filter?: ProductFilter;
  /** Re-rank the shortlist with the pairwise scorer in the same call. */
  rerank?: boolean;
  /** With no region: let the server find the part of the photo that holds the product. */
  autoRegion?: boolean;
}

export interface Client {
  /** Runs any generated document; files (Blob values) anywhere in the variables go as multipart. */
  request<TResult, TVariables>(
    document: TypedDocumentString<TResult, TVariables>,
    variables?: TVariables,
    options?: RequestOptions,
  ): Promise<TResult>;
  similarProducts(args: SimilarProductsArgs, options?: RequestOptions): Promise<SearchResult>;
  /** Re-orders an earlier search's shortlist with the pairwise scorer (no new upload). */
  rerankSearch(
    searchId: string,
    args?: { topK?: number; candidates?: number },
    options?: RequestOptions,
  ): Promise<SearchResult>;
  product(id: string, options?: RequestOptions): Promise<ProductDetail | null>;
  products(args?: { first?: number; after?: string | null; filter?: ProductFilter }, options?: RequestOptions): Promise<ProductPage>;
  catalogStats(options?: RequestOptions): Promise<CatalogStats>;
  /** Distinct categories, colours and brands of the first `limit` products (for filter menus). */
  facetValues(limit?: number, options?: RequestOptions): Promise<Facets>;
}

export interface Facets {
  category: string[];
  colour: string[];
  brand: string[];
}

export function createClient(options: ClientOptions = {}): Client {
  const url = options.url ?? '/graphql';
  const doFetch = options.fetch ?? ((input: RequestInfo | URL, init?: RequestInit) => fetch(input, init));

  async function request<TResult, TVariables>(
    document: TypedDocumentString<TResult, TVariables>,
    variables?: TVariables,
    requestOptions: RequestOptions = {},
  ): Promise<TResult> {
    const query = document.toString();
    // Apollo's CSRF prevention wants this header on every request that could be a simple one.
    const headers: Record<string, string> = { 'apollo-require-preflight': 'true', ...options.headers };
    const { variables: plain, files } = extractFiles(variables ?? {});
    let body: BodyInit;
    if (files.length) {
      // GraphQL multipart request spec: operations, map, then the files in order.
      const form = new FormData();
      form.append('operations', JSON.stringify({ query, variables: plain }));
      form.append('map', JSON.stringify(Object.fromEntries(files.map((f, i) => [String(i), [`variables.${f.path}`]]))));
      files.forEach((f, i) => form.append(String(i), f.blob, f.filename));
      body = form;
    } else {
      headers['content-type'] = 'application/json';
      body = JSON.stringify({ query, variables: plain });
    }

    let response: Response;
    try {
      response = await doFetch(url, { method: 'POST', headers, body, signal: requestOptions.signal });
    } catch (error) {
      if ((error as Error)?.name === 'AbortError') throw error;
      throw new ApiError(`Cannot reach ${url}: ${(error as Error)?.message ?? error}`, 'NETWORK_ERROR');
    }
    const text = await response.text();
    let json: { data?: TResult | null; errors?: GraphQLErrorInfo[] };
    try {
      json = JSON.parse(text);
    } catch {
      throw new ApiError(`The server answered HTTP ${response.status} without a GraphQL response.`, 'BAD_RESPONSE', [], response.status);
    }
    if (json.errors?.length) {
      const [first] = json.errors;
      throw new ApiError(first!.message, first!.extensions?.code ?? 'INTERNAL_SERVER_ERROR', json.errors, response.status);
    }
    if (json.data == null) {
      throw new ApiError(`The server answered HTTP ${response.status} with no data.`, 'BAD_RESPONSE', [], response.status);
    }
    return json.data;
  }

  return {
    request,

    async similarProducts(args, requestOptions) {
      const { image, filename, ...rest } = args;
      const data = await request(
        SimilarProductsDocument,
        { ...rest, image: image === undefined ? undefined : toBlob(image, filename) },
        requestOptions,
      );
      return data.similarProducts;
    },

    async rerankSearch(searchId, args = {}, requestOptions) {
      const data = await request(RerankSearchDocument, { searchId, ...args }, requestOptions);
      return data.rerankSearch;
    },

    async product(id, requestOptions) {
      return (await request(ProductDocument, { id }, requestOptions)).product ?? null;
    },

    async products(args = {}, requestOptions) {
      return (await request(ProductsDocument, args, requestOptions)).products;
    },

    async catalogStats(requestOptions) {
      return (await request(CatalogStatsDocument, {}, requestOptions)).catalogStats;
    },

    async facetValues(limit = 500, requestOptions) {
      const sets = { category: new Set<string>(), colour: new Set<string>(), brand: new Set<string>() };
      let after: string | null | undefined;
      for (let seen = 0; seen < limit; ) {
        const first = Math.min(100, limit - seen);
        const page: FacetValuesQuery['products'] = (await request(FacetValuesDocument, { first, after }, requestOptions)).products;
        for (const { node } of page.edges) {
          if (node.category) sets.category.add(node.category);
          if (node.colour) sets.colour.add(node.colour);
          if (node.brand) sets.brand.add(node.brand);
        }
        seen += page.edges.length;
        if (!page.pageInfo.hasNextPage || !page.edges.length) break;
        after = page.pageInfo.endCursor;
      }
      const sorted = (s: Set<string>) => [...s].sort((a, b) => a.localeCompare(b));
      return { category: sorted(sets.category), colour: sorted(sets.colour), brand: sorted(sets.brand) };
    },
  };
}

/** A plain sentence for a failed call, for people (the code stays on the error for programs). */
export function describeError(error: unknown): string {
  if (!(error instanceof ApiError)) return 'Something went wrong in this page. Reload it and try again.';
  switch (error.code) {
    case 'UNSUPPORTED_IMAGE_TYPE':
      return 'That file is not a photo this service can read. Use a JPEG, PNG, WebP, GIF or AVIF image.';
    case 'BAD_IMAGE':
      return 'That image could not be read: the file seems damaged or incomplete. Try another photo.';
    case 'IMAGE_TOO_LARGE':
      return 'That image is too large. Try a smaller photo, or a screenshot of it.';
    case 'IMAGE_FETCH_FAILED':
      return 'The image at that address could not be downloaded. Check the address, or download the photo and upload it.';
    case 'TOO_MANY_FILES':
      return 'Send one photo at a time.';
    case 'NOT_FOUND':
      return 'That product or search no longer exists. Start a new search.';
    case 'SEARCH_EXPIRED':
      return 'This search is too old to re-rank. Search again, then re-rank.';
    case 'BAD_USER_INPUT':
      return `The search could not run as asked: ${error.message}`;
    case 'UNAUTHENTICATED':
      return 'You are not allowed to do that.';
    case 'NETWORK_ERROR':
      return 'The search service cannot be reached. Check your connection and try again.';
    case 'BAD_RESPONSE':
      return 'The search service answered with something unexpected. Try again in a moment.';
    default:
      return 'Something went wrong on the server. Try again in a moment.';
  }
}

interface ExtractedFile {
  path: string;
  blob: Blob;
  filename: string;
}

/** Replaces every Blob in the variables by null and lists where they were (multipart spec). */
function extractFiles(variables: object): { variables: unknown; files: ExtractedFile[] } {
  const files: ExtractedFile[] = [];
  const walk = (value: unknown, path: string): unknown => {
    if (typeof Blob !== 'undefined' && value instanceof Blob) {
      const name = (value as Blob & { name?: unknown }).name;
      files.push({ path, blob: value, filename: typeof name === 'string' && name ? name : 'image' });
      return null;
    }
    if (Array.isArray(value)) return value.map((v, i) => walk(v, `${path}.${i}`));
    if (value && typeof value === 'object' && Object.getPrototypeOf(value) === Object.prototype) {
      return Object.fromEntries(
        Object.entries(value).flatMap(([k, v]) => (v === undefined ? [] : [[k, walk(v, path ? `${path}.${k}` : k)]])),
      );
    }
    return value;
  };
  return { variables: walk(variables, ''), files };
}

function toBlob(image: ImageInput, filename?: string): Blob {
  let blob: Blob;
  if (image instanceof Blob) {
    blob = image;
  } else {
    const bytes = image instanceof ArrayBuffer ? new Uint8Array(image) : new Uint8Array(image.buffer, image.byteOffset, image.byteLength);
    // Copied into a fresh ArrayBuffer: a Buffer may be a view into a shared pool.
    blob = new Blob([new Uint8Array(bytes)]);
  }
  return filename ? new File([blob], filename, { type: blob.type }) : blob;
}
