// The search methods compared side by side, each as a shopper would meet it: the ANN search and
// its re-ranking through the search service (their tookMs), the exact scan through the same
// service path, and the colour-histogram baseline by brute force.
import { hsvHistogram } from './color-histogram.js';
import type { HitView, SearchService } from '../search/search-service.js';
import type { ColorHistogramIndex } from './color-histogram-index.js';
import type { RankedId } from './metrics.js';

export const METHODS = ['ann', 'exact', 'ann+rerank', 'colorHistogram'] as const;
export type MethodName = (typeof METHODS)[number];

export interface MethodRun {
  ranked: RankedId[];
  ms: number;
}

export interface ImageRuns {
  runs: Partial<Record<MethodName, MethodRun>>;
  /** The rerankSearch call alone (ann+rerank's ms also counts the ANN search before it). */
  rerankMs?: number;
}

export interface MethodRunnerOptions {
  methods: readonly MethodName[];
  k: number;
  /** Shortlist the pairwise scorer re-orders. */
  candidates: number;
  /** Catalog id → product id ("more like this" queries). */
  products: ReadonlyMap<string, string>;
}

export class MethodRunner {
  constructor(
    private readonly search: SearchService,
    private readonly histograms: ColorHistogramIndex | null,
    private readonly options: MethodRunnerOptions,
  ) {}

  private has(method: MethodName): boolean {
    return this.options.methods.includes(method);
  }

  /** One photo through every method, one after the other (so that timings don't overlap). */
  async searchImage(bytes: Buffer): Promise<ImageRuns> {
    const { k, candidates } = this.options;
    const source = { kind: 'upload' as const, bytes };
    const out: ImageRuns = { runs: {} };
    if (this.has('ann') || this.has('ann+rerank')) {
      const ann = await this.search.similarProducts({ source, topK: k });
      if (this.has('ann')) out.runs.ann = { ranked: byDistance(ann.items), ms: ann.tookMs };
      if (this.has('ann+rerank')) {
        const reranked = await this.search.rerankSearch(ann.id, candidates, k);
        out.runs['ann+rerank'] = { ranked: byScore(reranked.items), ms: ann.tookMs + reranked.tookMs };
        out.rerankMs = reranked.tookMs;
      }
    }
    if (this.has('exact')) {
      const exact = await this.search.similarProducts({ source, topK: k, exact: true });
      out.runs.exact = { ranked: byDistance(exact.items), ms: exact.tookMs };
    }
    if (this.has('colorHistogram') && this.histograms) {
      const started = performance.now();
      const ranked = this.histograms.nearest(await hsvHistogram(bytes), k);
      out.runs.colorHistogram = { ranked, ms: performance.now() - started };
    }
    return out;
  }

  /** "More like this": a catalog product's nearest other products by every method. */
  async similarTo(id: string): Promise<Partial<Record<MethodName, RankedId[]>>> {
    const { k, candidates, products } = this.options;
    const productId = products.get(id);
    if (!productId) return {};
    const source = { kind: 'product' as const, productId };
    const out: Partial<Record<MethodName, RankedId[]>> = {};
    if (this.has('ann') || this.has('ann+rerank')) {
      const ann = await this.search.similarProducts({ source, topK: k });
      if (this.has('ann')) out.ann = byDistance(ann.items);
      if (this.has('ann+rerank')) out['ann+rerank'] = byScore((await this.search.rerankSearch(ann.id, candidates, k)).items);
    }
    if (this.has('exact')) out.exact = byDistance((await this.search.similarProducts({ source, topK: k, exact: true })).items);
    const histogram = this.histograms?.histogramOf(id);
    if (this.has('colorHistogram') && histogram) out.colorHistogram = this.histograms!.nearest(histogram, k, id);
    return out;
  }
}

const byDistance = (items: HitView[]): RankedId[] => items.map((i) => ({ id: i.product.externalId, key: i.distance }));
// Higher scores are better; negated so that, like distances, smaller keys rank first.
const byScore = (items: HitView[]): RankedId[] => items.map((i) => ({ id: i.product.externalId, key: -(i.score ?? 0) }));
