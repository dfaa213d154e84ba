import { useEffect, useId, useState, type FormEvent } from 'react';
import { describeError, type ProductPage } from '../../client/index.js';
import { api } from './api.js';
import { Filters, NO_FILTERS, activeFilterCount, toProductFilter, type FilterValues } from './filters.js';
import { plural } from './format.js';
import { ProductCard } from './product-card.js';
import { navigate } from './router.js';

const PAGE_SIZES = [12, 24, 48, 96];

/** Browse the catalog: filters, page size, and cursor pagination (previous / next). */
export function CatalogPage() {
  const id = useId();
  const [draft, setDraft] = useState<FilterValues>(NO_FILTERS);
  const [applied, setApplied] = useState<FilterValues>(NO_FILTERS);
  const [pageSize, setPageSize] = useState(24);
  /** Cursors of the pages seen so far: cursors[i] is the `after` of page i (page 0: null). */
  const [cursors, setCursors] = useState<(string | null)[]>([null]);
  const [page, setPage] = useState<ProductPage | null>(null);
  const [loading, setLoading] = useState(true);
  const [error, setError] = useState<string | null>(null);
  const index = cursors.length - 1;

  useEffect(() => {
    const controller = new AbortController();
    setLoading(true);
    setError(null);
    api
      .products({ first: pageSize, after: cursors[index], filter: toProductFilter(applied) }, { signal: controller.signal })
      .then((p) => {
        setPage(p);
        setLoading(false);
      })
      .catch((err) => {
        if (controller.signal.aborted) return;
        setError(describeError(err));
        setLoading(false);
      });
    return () => controller.abort();
  }, [cursors, index, pageSize, applied]);

  const submit = (event: FormEvent) => {
    event.preventDefault();
    setApplied(draft);
    setCursors([null]);
  };

  const first = index * pageSize + 1;
  const last = index * pageSize + (page?.edges.length ?? 0);
  const filtersOn = activeFilterCount(applied);

  return (
    <div className="search-layout">
      <section className="panel" aria-labelledby={`${id}-filters`}>
        <h2 id={`${id}-filters`}>Browse</h2>
        <form className="search-form" onSubmit={submit} aria-label="Catalog filters">
          <Filters values={draft} onChange={setDraft} />
          <div className="field top-k">
            <label htmlFor={`${id}-size`}>Per page</label>
            <select
              id={`${id}-size`}
              value={pageSize}
              onChange={(e) => {
                setPageSize(Number(e.target.value));
                setCursors([null]);
              }}
            >
              {PAGE_SIZES.map((n) => (
                <option key={n} value={n}>
                  {n}
                </option>
              ))}
            </select>
          </div>
          <div className="form-actions">
            <button type="submit" className="button primary">
              Apply filters
            </button>
            {activeFilterCount(draft) > 0 && (
              <button
                type="button"
                className="link-button"
                onClick={() => {
                  setDraft(NO_FILTERS);
                  setApplied(NO_FILTERS);
                  setCursors([null]);
                }}
              >
                Clear filters
              </button>
            )}
          </div>
        </form>
      </section>

      <section className="results" aria-labelledby={`${id}-products`} aria-busy={loading}>
        <div className="results-head">
          <h2 id={`${id}-products`}>Products</h2>
        </div>
        <p className="status" role="status" aria-live="polite">
          {loading
            ? 'Loading…'
            : page
              ? page.totalCount === 0
                ? ''
                : `Products ${first}–${last} of ${page.totalCount}${filtersOn ? ` matching ${plural(filtersOn, 'filter')}` : ''}.`
              : ''}
        </p>
        {error && (
          <div className="error" role="alert">
            {error}
          </div>
        )}
        {page && page.totalCount === 0 && !loading && (
          <div className="empty-state">
            <p>{filtersOn ? 'No products match these filters. Clear a filter to see more.' : 'The catalog is empty.'}</p>
          </div>
        )}
        {page && page.edges.length > 0 && (
          <ul className="grid" aria-label="Catalog products">
            {page.edges.map(({ node }, i) => (
              <ProductCard key={node.id} product={node} eager={i < 8} onMoreLikeThis={(p) => navigate(`/?product=${encodeURIComponent(p.id)}`)} />
            ))}
          </ul>
        )}
        <nav className="pager" aria-label="Pages">
          <button type="button" className="button" disabled={index === 0 || loading} onClick={() => setCursors((c) => c.slice(0, -1))}>
            ← Previous page
          </button>
          <span className="page-number">Page {index + 1}{page && page.totalCount ? ` of ${Math.max(1, Math.ceil(page.totalCount / pageSize))}` : ''}</span>
          <button
            type="button"
            className="button"
            disabled={!page?.pageInfo.hasNextPage || loading}
            onClick={() => page?.pageInfo.endCursor && setCursors((c) => [...c, page.pageInfo.endCursor])}
          >
            Next page →
          </button>
        </nav>
      </section>
    </div>
  );
}
