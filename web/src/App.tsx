import { useEffect, useRef, useState } from 'react';
import type { CatalogStats } from '../../client/index.js';
import { api } from './api.js';
import { CatalogPage } from './catalog-page.js';
import { ProductPage } from './product-page.js';
import { Link, useLocation } from './router.js';
import { SearchPage } from './search-page.js';

const TITLE = 'Visual product search';

export function App() {
  const { path, params, key } = useLocation();
  const heading = useRef<HTMLHeadingElement>(null);
  const first = useRef(true);
  const [stats, setStats] = useState<CatalogStats | null>(null);
  const [productTitle, setProductTitle] = useState<string | null>(null);

  useEffect(() => {
    api.catalogStats().then(setStats, () => setStats(null));
  }, []);

  const productMatch = /^\/product\/([^/]+)$/.exec(path);
  const page = path === '/catalog' ? 'catalog' : productMatch ? 'product' : 'search';
  const pageTitle = page === 'catalog' ? 'Catalog' : page === 'product' ? (productTitle ?? 'Product') : 'Search by photo';

  // On navigation: a new document title, and focus on the page heading for screen readers.
  useEffect(() => {
    if (first.current) first.current = false;
    else heading.current?.focus();
  }, [path, key]);
  useEffect(() => {
    document.title = `${pageTitle} · ${TITLE}`;
  }, [pageTitle]);

  const nav = (to: string, label: string, active: boolean) => (
    <Link to={to} aria-current={active ? 'page' : undefined}>
      {label}
    </Link>
  );

  return (
    <>
      <a className="skip-link" href="#main">
        Skip to content
      </a>
      <header className="site-header">
        <Link to="/" className="brand">
          <svg viewBox="0 0 16 16" width="22" height="22" aria-hidden="true">
            <circle cx="6.5" cy="6.5" r="4.5" fill="none" stroke="currentColor" strokeWidth="2" />
            <path d="M10 10l4.5 4.5" stroke="currentColor" strokeWidth="2" />
          </svg>
          {TITLE}
        </Link>
        <nav aria-label="Main">
          {nav('/', 'Search', page === 'search')}
          {nav('/catalog', 'Catalog', page === 'catalog')}
          <a href="/graphiql">GraphiQL</a>
        </nav>
      </header>
      <main id="main">
        <h1 ref={heading} tabIndex={-1} className="page-title">
          {pageTitle}
        </h1>
        {page === 'search' && <SearchPage key={key} productId={params.get('product')} />}
        {page === 'catalog' && <CatalogPage />}
        {page === 'product' && <ProductPage id={decodeURIComponent(productMatch![1]!)} onTitle={setProductTitle} />}
      </main>
      <footer className="site-footer">
        {stats ? (
          <p>
            {stats.products} products, {stats.embeddings} embedded images · model {stats.model.key} on {stats.model.provider} ·{' '}
            {stats.database} database · <a href="/graphql">API</a>
          </p>
        ) : (
          <p>
            The API is at <a href="/graphql">/graphql</a>.
          </p>
        )}
      </footer>
    </>
  );
}
