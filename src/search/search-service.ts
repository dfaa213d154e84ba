import { randomUUID } from 'node:crypto';
import type { CatalogService } from '../catalog/catalog-service.js';
import { isUuid } from '../catalog/catalog-service.js';
import type { ImageView, ProductView } from '../catalog/views.js';
import type { Database, ProductFilter, StoredHit, VectorModel } from '../db/index.js';
import { AppError } from '../errors.js';
import { proposeRegion, validateImage, type ValidateImageOptions } from '../images/index.js';
import type { ImageEmbedding, Region } from '../ml/types.js';
import type { ActiveModel, ModelEntry } from '../models/active-model.js';
import type { LoadShedder } from './load-shedder.js';
import { SearchRecords } from './search-records.js';
import { StageTimer } from './stage-timer.js';

export const MAX_TOP_K = 100;
export const MAX_RERANK_CANDIDATES = 200;
/** How many of the nearest products a re-ranked search scores when the client names no number. */
export const DEFAULT_RERANK_CANDIDATES = 50;

/** The shortlist a search re-ranks when a client just asks for re-ranking (at least topK). */
export function defaultRerank(topK: number): { candidates: number } {
  return { candidates: Math.max(DEFAULT_RERANK_CANDIDATES, topK) };
}

export type QuerySource =
  | { kind: 'upload'; bytes: Buffer }
  | { kind: 'url'; bytes: Buffer; url: string }
  | { kind: 'product'; productId: string };

export interface SearchRequest {
  source: QuerySource;
  region?: Region;
  topK: number;
  filter?: ProductFilter;
  /** Re-rank the top `candidates` (≥ topK) with the pairwise scorer before returning topK. */
  rerank?: { candidates: number };
  /** Scan every embedding instead of the HNSW index (the evaluation's exact baseline). */
  exact?: boolean;
  /** With no region, search the part of the photo that holds the product (default: AUTO_REGION). */
  autoRegion?: boolean;
}

export interface HitView {
  rank: number;
  distance: number;
  similarity: number;
  score: number | null;
  product: ProductView;
  image: ImageView;
}

export interface SearchResultView {
  id: string;
  tookMs: number;
  model: string;
  reranked: boolean;
  /** The part of the query photo searched (null: all of it, or a catalog product). */
  region: Region | null;
  /** Whether the service chose that region (the request gave none). */
  autoRegion: boolean;
  items: HitView[];
}

/** The part of the query photo a search used, and whether the service chose it. */
type RegionUsed = Pick<SearchResultView, 'region' | 'autoRegion'>;

interface SearchParams {
  topK: number;
  filter: ProductFilter;
  excludeProductId: string | null;
  source: QuerySource['kind'];
  region: Region | null;
  autoRegion?: boolean;
  exact?: boolean;
}

/** Photo → embedding → nearest products (→ pairwise re-rank) → ranked, hydrated hits. */
export class SearchService {
  private readonly records: SearchRecords;
  /** The last search of each request still running or waiting (see admitted). */
  private readonly lanes = new WeakMap<StageTimer, Promise<unknown>>();

  constructor(
    private readonly db: Database,
    /** The model to search with, taken once per search (an activation swaps it between searches). */
    private readonly active: ActiveModel,
    private readonly catalog: CatalogService,
    private readonly options: {
      imageLimits: ValidateImageOptions;
      searchTtlMs: number;
      /** Search the proposed product region of a photo when a request names no region (AUTO_REGION). */
      autoRegion?: boolean;
      /** The bounded queue searches wait in (none: every search runs at once, as in the evaluation). */
      shedder?: LoadShedder;
      /** Bytes of recent searches kept in memory for rerankSearch (SEARCH_MEMORY_MB). */
      recentSearchBytes?: number;
      /** Told when search records could not be written to the database (they stay in memory). */
      onRecordWriteFailed?: (error: unknown, searches: number) => void;
    },
  ) {
    this.records = new SearchRecords(db.searches, {
      maxBytes: options.recentSearchBytes ?? 16 * 2 ** 20,
      ttlMs: options.searchTtlMs,
      writeDelayMs: 50,
      onWriteFailed: options.onRecordWriteFailed ?? (() => undefined),
    });
  }

  /** `timer` collects the time of each stage (the caller's, to report it). */
  async similarProducts(request: SearchRequest, timer = new StageTimer()): Promise<SearchResultView> {
    checkRange('topK', request.topK, 1, MAX_TOP_K);
    if (request.rerank) checkRange('candidates', request.rerank.candidates, request.topK, MAX_RERANK_CANDIDATES);
    if (request.region) checkRegion(request.region);
    return this.admitted(timer, () => this.search(request, timer));
  }

  /** Scores the stored query against the search's top `candidates` products and re-orders them. */
  async rerankSearch(searchId: string, candidates: number, topK: number, timer = new StageTimer()) {
    checkRange('candidates', candidates, 1, MAX_RERANK_CANDIDATES);
    checkRange('topK', topK, 1, Math.min(MAX_TOP_K, candidates));
    return this.admitted(timer, () => this.rerankStored(searchId, candidates, topK, timer));
  }

  /** Writes the search records still waiting to the database (shutdown, tests). */
  flushRecords(): Promise<void> {
    return this.records.flush();
  }

  /** Deletes the searches past their time to live; returns how many (housekeeping). */
  pruneExpired(): Promise<number> {
    return this.db.searches.prune();
  }

  /**
   * Runs a search in a slot of the load shedder. The searches of one request (aliases of one
   * GraphQL operation, up to QUERY_MAX_SEARCHES; one timer per request) take turns: one request
   * holds one slot at a time, so it cannot fill the queue by itself and be refused as overload.
   */
  private admitted<T>(timer: StageTimer, work: () => Promise<T>): Promise<T> {
    const shedder = this.options.shedder;
    if (!shedder) return work();
    const turn = (this.lanes.get(timer) ?? Promise.resolve()).then(() => {
      const queued = performance.now();
      return shedder.run(() => {
        timer.add('queue', performance.now() - queued);
        return work();
      });
    });
    this.lanes.set(timer, turn.catch(() => undefined));
    return turn;
  }

  private async search(request: SearchRequest, timer: StageTimer): Promise<SearchResultView> {
    const started = performance.now();
    const model = this.active.current();
    const query = await this.queryEmbedding(request, model, timer);
    const params: SearchParams = {
      topK: request.topK,
      filter: request.filter ?? {},
      excludeProductId: request.source.kind === 'product' ? request.source.productId : null,
      source: request.source.kind,
      region: query.region,
      autoRegion: query.autoRegion,
      exact: request.exact ?? false,
    };
    // With re-ranking, one ANN query fetches the whole shortlist; its head is the plain result.
    const hits = await timer.time('ann', () => this.nearest(model, query.vector, params, request.rerank?.candidates ?? request.topK));
    // The record rerankSearch needs is kept in memory now and written after the response.
    const id = randomUUID();
    const recording = performance.now();
    this.records.add({
      id,
      expiresAt: new Date(Date.now() + this.options.searchTtlMs),
      modelKey: model.vectorModel.key,
      queryImageHash: query.imageHash,
      queryEmbedding: query.vector,
      queryFeatures: query.features,
      params: params as unknown as Record<string, unknown>,
      results: hits.slice(0, request.topK),
    });
    timer.add('record', performance.now() - recording);
    if (request.rerank) return this.rerank(model, id, query, hits, request.topK, started, query, timer);
    return timer.time('hydrate', () => this.result(model, id, hits, false, started, query));
  }

  private async rerankStored(searchId: string, candidates: number, topK: number, timer: StageTimer) {
    const started = performance.now();
    const model = this.active.current();
    const search = isUuid(searchId) ? await this.records.find(searchId) : null;
    if (!search) throw new AppError('NOT_FOUND', 'No search with that id (searches are kept for SEARCH_TTL_HOURS); run the search again.');
    if (search.expiresAt.getTime() < Date.now()) {
      throw new AppError('SEARCH_EXPIRED', 'That search has expired; run the search again.');
    }
    // Its stored embedding and features belong to that model: scoring them against another's would be wrong.
    if (search.modelKey !== model.vectorModel.key) {
      throw new AppError(
        'SEARCH_EXPIRED',
        `That search was made with model ${search.modelKey}; the active model is now ${model.vectorModel.key}. Run the search again.`,
      );
    }
    const params = search.params as unknown as SearchParams;
    const shortlist = await timer.time('ann', () => this.nearest(model, search.queryEmbedding, params, candidates));
    return this.rerank(model, search.id, { vector: search.queryEmbedding, features: search.queryFeatures }, shortlist, topK, started, { region: params.region, autoRegion: params.autoRegion ?? false }, timer);
  }

  /** The pairwise scorer over a shortlist, with features stored at ingest (no image is decoded). */
  private async rerank(model: ModelEntry, id: string, query: ImageEmbedding, shortlist: StoredHit[], topK: number, started: number, used: RegionUsed, timer: StageTimer) {
    const reranked = await timer.time('rerank', async () => {
      const stored = await this.db.vectors.get(shortlist.map((h) => h.imageId), model.vectorModel);
      const scored = shortlist.filter((h) => stored.has(h.imageId));
      const scores = await model.models.score(query, scored.map((h) => stored.get(h.imageId)!));
      return scored
        .map((h, i) => ({ ...h, score: scores[i] }))
        .sort((a, b) => b.score - a.score || a.distance - b.distance)
        .slice(0, topK);
    });
    this.records.reranked(id, reranked);
    const view = await timer.time('hydrate', () => this.result(model, id, reranked, true, started, used));
    return { ...view, tookMs: performance.now() - started };
  }

  private async queryEmbedding(request: SearchRequest, model: ModelEntry, timer: StageTimer) {
    const { source } = request;
    if (source.kind === 'product') {
      if (request.region) throw new AppError('BAD_USER_INPUT', 'region applies to an image query, not to productId.');
      const product = await this.catalog.product(source.productId);
      const image = product?.images[0];
      if (!image) throw new AppError('NOT_FOUND', 'No product with that id (or it has no image).');
      const stored = (await this.db.vectors.get([image.id], model.vectorModel)).get(image.id);
      if (!stored) throw new AppError('NOT_FOUND', 'That product has no embedding with the current model yet.');
      return { ...stored, imageHash: null, region: null, autoRegion: false };
    }
    // Header checks only: preprocessing decodes every pixel next and codes bad data BAD_IMAGE.
    const image = await timer.time('decode', () => validateImage(source.bytes, { ...this.options.imageLimits, decode: false }));
    // No region asked for: the service may find where the product is (a photo is mostly background).
    const proposed =
      !request.region && (request.autoRegion ?? this.options.autoRegion ?? false) ? await timer.time('preprocess', () => proposeRegion(image)) : null;
    const region = request.region ?? proposed ?? undefined;
    const [embedding] = await model.models.embed([{ image, region }], timer);
    return { ...embedding, imageHash: image.sha256, region: region ?? null, autoRegion: proposed !== null };
  }

  private nearest(model: ModelEntry, vector: Float32Array, params: SearchParams, k: number) {
    return this.db.vectors.nearest({
      model: model.vectorModel,
      vector,
      k,
      filter: params.filter,
      excludeProductId: params.excludeProductId ?? undefined,
      exact: params.exact ?? false,
    });
  }

  private async result(model: ModelEntry, id: string, hits: StoredHit[], reranked: boolean, started: number, used: RegionUsed): Promise<SearchResultView> {
    const products = await this.catalog.productsById(hits.map((h) => h.productId));
    const items: HitView[] = [];
    for (const hit of hits) {
      const product = products.get(hit.productId);
      const image = product?.images.find((i) => i.id === hit.imageId);
      // A product deleted since the search was made is simply left out.
      if (!product || !image) continue;
      items.push({
        rank: items.length + 1,
        distance: hit.distance,
        similarity: similarity(hit.distance, model.vectorModel.metric),
        score: hit.score ?? null,
        product,
        image,
      });
    }
    return { id, tookMs: performance.now() - started, model: model.vectorModel.key, reranked, region: used.region, autoRegion: used.autoRegion, items };
  }
}

/** Cosine similarity from the stored distance: for unit vectors, |a−b|² = 2 − 2·cos. */
function similarity(distance: number, metric: VectorModel['metric']): number {
  if (metric === 'l2') return 1 - (distance * distance) / 2;
  if (metric === 'cosine') return 1 - distance;
  return -distance;
}

function checkRange(name: string, value: number, min: number, max: number) {
  if (!Number.isInteger(value) || value < min || value > max) {
    throw new AppError('BAD_USER_INPUT', `${name} must be an integer from ${min} to ${max}.`);
  }
}

function checkRegion(r: Region) {
  const ok =
    [r.x, r.y, r.width, r.height].every(Number.isFinite) &&
    r.x >= 0 && r.y >= 0 && r.width > 0 && r.height > 0 &&
    r.x + r.width <= 1 + 1e-9 && r.y + r.height <= 1 + 1e-9;
  if (!ok) {
    throw new AppError('BAD_USER_INPUT', 'region must lie inside the image: x, y ≥ 0, width, height > 0, x + width ≤ 1, y + height ≤ 1.');
  }
}
