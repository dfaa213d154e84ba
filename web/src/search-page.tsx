import { useCallback, useEffect, useId, useRef, useState, type FormEvent } from 'react';
import { describeError, type ProductCard as Product, type SearchResult, type SimilarProductsArgs } from '../../client/index.js';
import { api } from './api.js';
import { CropBox, describeRegion, isWhole, type Region } from './crop-box.js';
import { Examples } from './examples.js';
import { Filters, NO_FILTERS, activeFilterCount, toProductFilter, type FilterValues } from './filters.js';
import { milliseconds, percent, plural } from './format.js';
import { ProductCard } from './product-card.js';
import { QueryImage } from './query-image.js';

type Source =
  | { kind: 'file'; file: File; preview: string }
  | { kind: 'url'; url: string }
  | { kind: 'product'; product: Pick<Product, 'id' | 'title' | 'images'> };

type Busy = 'searching' | 'reranking' | null;

const DEFAULT_TOP_K = 12;
const RERANK_CANDIDATES = 50;

export function SearchPage({ productId }: { productId?: string | null }) {
  const id = useId();
  const [source, setSource] = useState<Source | null>(null);
  const [previewFailed, setPreviewFailed] = useState(false);
  const [region, setRegion] = useState<Region | null>(null);
  const [filters, setFilters] = useState<FilterValues>(NO_FILTERS);
  const [topK, setTopK] = useState(String(DEFAULT_TOP_K));
  /** Let the server find the product in the photo (the area it used is drawn as the crop box). */
  const [findProduct, setFindProduct] = useState(false);
  const [result, setResult] = useState<SearchResult | null>(null);
  /** Ranks before the last re-rank, by product id (null when the result is not a re-rank). */
  const [ranksBefore, setRanksBefore] = useState<Map<string, number> | null>(null);
  const [busy, setBusy] = useState<Busy>(null);
  const [error, setError] = useState<string | null>(null);
  const pending = useRef<AbortController | null>(null);
  const resultsHeading = useRef<HTMLHeadingElement>(null);
  const resultsSection = useRef<HTMLElement>(null);
  /** A wide screen shows the filters open beside the results; a phone folds them away. */
  const [wide] = useState(() => window.matchMedia('(min-width: 761px)').matches);

  const topKNumber = Math.min(100, Math.max(1, parseInt(topK, 10) || DEFAULT_TOP_K));

  const run = useCallback(
    async (what: Busy, call: (signal: AbortSignal) => Promise<SearchResult>, before: Map<string, number> | null) => {
      pending.current?.abort();
      const controller = new AbortController();
      pending.current = controller;
      setBusy(what);
      setError(null);
      try {
        const next = await call(controller.signal);
        if (controller.signal.aborted) return;
        setResult(next);
        setRanksBefore(before);
        // The area the server found: drawn as the crop box, for the user to keep or change.
        if (next.autoRegion && next.region) setRegion(next.region);
        // On a phone the results are below the photo and the form: bring them into view.
        if (what === 'searching' && !window.matchMedia('(min-width: 761px)').matches) {
          resultsSection.current?.scrollIntoView({ behavior: 'smooth', block: 'start' });
        }
      } catch (err) {
        if (controller.signal.aborted || (err as Error)?.name === 'AbortError') return;
        setError(describeError(err));
        if (what === 'searching') setResult(null);
      } finally {
        if (pending.current === controller) {
          pending.current = null;
          setBusy(null);
        }
      }
    },
    [],
  );

  const search = useCallback(
    (src: Source | null, area: Region | null, values: FilterValues, k: number, auto: boolean) => {
      if (!src) {
        setError('Choose a photo first: pick a file, drop or paste one, or give the address of an image.');
        return;
      }
      const args: SimilarProductsArgs = { topK: k, filter: toProductFilter(values) };
      if (src.kind === 'file') args.image = src.file;
      else if (src.kind === 'url') args.imageUrl = src.url;
      else args.productId = src.product.id;
      if (src.kind !== 'product' && !isWhole(area)) args.region = area!;
      else if (src.kind !== 'product' && auto) args.autoRegion = true;
      void run('searching', (signal) => api.similarProducts(args, { signal }), null);
    },
    [run],
  );

  const chooseSource = (next: Source) => {
    setSource((old) => {
      if (old?.kind === 'file') URL.revokeObjectURL(old.preview);
      return next;
    });
    setPreviewFailed(false);
    setRegion(null);
    search(next, null, filters, topKNumber, findProduct);
  };

  const onFile = (file: File) => chooseSource({ kind: 'file', file, preview: URL.createObjectURL(file) });
  const onUrl = (url: string) => chooseSource({ kind: 'url', url });
  const moreLikeThis = (product: Pick<Product, 'id' | 'title' | 'images'>) => {
    chooseSource({ kind: 'product', product });
    window.scrollTo({ top: 0, behavior: 'smooth' });
  };

  // /?product=<id> (from the catalog or a product page): "more like this" for that product.
  useEffect(() => {
    if (!productId) return;
    let live = true;
    api
      .product(productId)
      .then((p) => {
        if (!live) return;
        if (p) moreLikeThis(p);
        else setError('That product no longer exists. Start a new search.');
      })
      .catch((err) => live && setError(describeError(err)));
    return () => {
      live = false;
    };
  }, [productId]);

  const submit = (event: FormEvent) => {
    event.preventDefault();
    search(source, region, filters, topKNumber, findProduct);
  };

  const rerank = () => {
    if (!result) return;
    const before = new Map(result.items.map((item) => [item.product.id, item.rank]));
    const k = Math.max(1, result.items.length);
    void run('reranking', (signal) => api.rerankSearch(result.id, { topK: k, candidates: Math.max(RERANK_CANDIDATES, k) }, { signal }), before);
  };

  // Tell screen readers (and move focus for keyboard users who asked for a new order).
  useEffect(() => {
    if (ranksBefore && result?.reranked) resultsHeading.current?.focus();
  }, [ranksBefore, result]);

  const newcomers = ranksBefore && result ? result.items.filter((i) => !ranksBefore.has(i.product.id)).length : 0;
  const moved = ranksBefore && result ? result.items.filter((i) => ranksBefore.has(i.product.id) && ranksBefore.get(i.product.id) !== i.rank).length : 0;
  const filtersOn = activeFilterCount(filters);

  return (
    <div className="search-layout">
      <section className="panel query-panel" aria-labelledby={`${id}-query`}>
        <h2 id={`${id}-query`}>Your photo</h2>
        <QueryImage onFile={onFile} onUrl={onUrl} />
        <Examples onFile={onFile} onError={setError} />

        {source && (
          <div className="preview" aria-label="Query photo">
            {source.kind === 'product' ? (
              <figure className="product-query">
                {source.product.images[0] && <img src={source.product.images[0].thumbnailUrl} alt="" />}
                <figcaption>
                  More like <strong>{source.product.title}</strong>
                </figcaption>
              </figure>
            ) : previewFailed ? (
              <p className="preview-failed">
                {source.kind === 'file' ? (
                  <>
                    <strong>{source.file.name}</strong> cannot be shown here.
                  </>
                ) : (
                  <>This page cannot show the image at that address; the server may still read it.</>
                )}
              </p>
            ) : (
              <CropBox
                src={source.kind === 'file' ? source.preview : source.url}
                alt={source.kind === 'file' ? `Your photo ${source.file.name}` : 'The image at the address you gave'}
                region={region}
                onChange={setRegion}
                onError={() => setPreviewFailed(true)}
              />
            )}
          </div>
        )}

        <form className="search-form" onSubmit={submit} aria-label="Search options">
          <details className="options" open={wide}>
            <summary>
              Filters and options{filtersOn > 0 && <span className="count"> ({filtersOn} on)</span>}
            </summary>
            <Filters values={filters} onChange={setFilters} />
            <div className="field top-k">
              <label htmlFor={`${id}-topk`}>Results</label>
              <input id={`${id}-topk`} type="number" min="1" max="100" step="1" inputMode="numeric" value={topK} onChange={(e) => setTopK(e.target.value)} />
            </div>
            <label className="check">
              <input type="checkbox" checked={findProduct} onChange={(e) => setFindProduct(e.target.checked)} />
              Find the product in the photo
            </label>
          </details>
          <div className="form-actions">
            <button type="submit" className="button primary" disabled={!source}>
              {source && source.kind !== 'product' && !isWhole(region) ? 'Search this area' : 'Search'}
            </button>
            {filtersOn > 0 && (
              <button type="button" className="link-button" onClick={() => setFilters(NO_FILTERS)}>
                Clear {plural(filtersOn, 'filter')}
              </button>
            )}
          </div>
        </form>
      </section>

      <section className="results" ref={resultsSection} aria-labelledby={`${id}-results`} aria-busy={busy !== null}>
        <div className="results-head">
          <h2 id={`${id}-results`} ref={resultsHeading} tabIndex={-1}>
            Similar products
          </h2>
          {result && result.items.length > 1 && !result.reranked && (
            <button type="button" className="button" onClick={rerank} disabled={busy !== null}>
              {busy === 'reranking' ? 'Re-ranking…' : 'Re-rank'}
            </button>
          )}
        </div>

        <p className="status" role="status" aria-live="polite" data-testid="status">
          {busy === 'searching'
            ? 'Searching…'
            : busy === 'reranking'
              ? 'Re-ranking with the pairwise model…'
              : result
                ? result.reranked
                  ? `Re-ranked ${plural(result.items.length, 'product')} with the pairwise model in ${milliseconds(result.tookMs)}${ranksBefore ? `: ${moved} moved, ${newcomers} new from further down the list` : ''}. Model ${result.model}.`
                  : `${plural(result.items.length, 'product')} in ${milliseconds(result.tookMs)}, searching ${source?.kind === 'product' ? 'like a catalog product' : describeRegion(region)}${result.autoRegion ? ' (found automatically)' : ''}. Model ${result.model}.`
                : ''}
        </p>

        {error && (
          <div className="error" role="alert">
            {error}
          </div>
        )}

        {!result && !error && busy === null && (
          <div className="empty-state">
            <p>Choose a photo of a product — a shirt, a top — and the most similar products in the catalog appear here.</p>
          </div>
        )}

        {result && result.items.length === 0 && (
          <div className="empty-state">
            <p>
              No products match
              {filtersOn ? ' with these filters. Clear a filter and search again.' : '. The catalog may still be loading its photos.'}
            </p>
          </div>
        )}

        {result && result.items.length > 0 && (
          <ol className="grid" aria-label="Results, most similar first" data-testid="results">
            {result.items.map((hit) => {
              const before = ranksBefore?.get(hit.product.id);
              return (
                <ProductCard
                  key={hit.product.id}
                  eager={hit.rank <= 8}
                  product={hit.product}
                  image={hit.image}
                  badge={<span className="rank">#{hit.rank}</span>}
                  onMoreLikeThis={moreLikeThis}
                >
                  <p className="similarity">
                    <meter min={0} max={1} value={Math.max(0, hit.similarity)} aria-hidden="true" />
                    <span>{percent(hit.similarity, 1)} similar</span>
                  </p>
                  {hit.score != null && <p className="score">Match {percent(hit.score, 1)}</p>}
                  {ranksBefore && (
                    <p className="moved">
                      {before === undefined ? 'new: was below the list' : before === hit.rank ? 'same place' : `was #${before}`}
                    </p>
                  )}
                </ProductCard>
              );
            })}
          </ol>
        )}
      </section>
    </div>
  );
}
