import { useEffect, useState } from 'react';
import { describeError, type ProductDetail } from '../../client/index.js';
import { api } from './api.js';
import { formatPrice } from './format.js';
import { Link, navigate } from './router.js';

/** One product: its facts and every photo (full size a click away). */
export function ProductPage({ id, onTitle }: { id: string; onTitle(title: string | null): void }) {
  const [product, setProduct] = useState<ProductDetail | null | undefined>(undefined);
  const [error, setError] = useState<string | null>(null);

  useEffect(() => {
    let live = true;
    setProduct(undefined);
    api
      .product(id)
      .then((p) => {
        if (!live) return;
        setProduct(p);
        onTitle(p?.title ?? null);
      })
      .catch((err) => live && setError(describeError(err)));
    return () => {
      live = false;
      onTitle(null);
    };
  }, [id, onTitle]);

  if (error) {
    return (
      <div className="error" role="alert">
        {error}
      </div>
    );
  }
  if (product === undefined) return <p role="status">Loading…</p>;
  if (product === null) {
    return (
      <div className="empty-state">
        <p>
          There is no product with that id. <Link to="/catalog">Browse the catalog</Link>.
        </p>
      </div>
    );
  }

  const facts: [string, string | null][] = [
    ['Price', formatPrice(product.price, product.currency)],
    ['Category', product.category],
    ['Colour', product.colour],
    ['Brand', product.brand],
    ['SKU', `${product.externalId} (${product.source})`],
    ...Object.entries(product.attributes)
      .filter(([, v]) => typeof v === 'string' || typeof v === 'number')
      .map(([k, v]): [string, string] => [k[0]!.toUpperCase() + k.slice(1), String(v)]),
  ];

  return (
    <article className="product-detail">
      {product.description && <p className="description">{product.description}</p>}
      <div className="detail-layout">
        <ul className="gallery" aria-label={`Photos of ${product.title}`}>
          {product.images.map((image, i) => (
            <li key={image.id}>
              <a href={image.url} target="_blank" rel="noopener">
                <img src={image.thumbnailUrl} width={image.width} height={image.height} alt={`${product.title}, photo ${i + 1} of ${product.images.length}`} />
              </a>
              <span className="hint">
                {image.width} × {image.height}
              </span>
            </li>
          ))}
          {product.images.length === 0 && <li className="no-photo">No photos</li>}
        </ul>
        <div>
          <dl className="facts-list">
            {facts
              .filter(([, v]) => v)
              .map(([k, v]) => (
                <div key={k}>
                  <dt>{k}</dt>
                  <dd>{v}</dd>
                </div>
              ))}
          </dl>
          <button type="button" className="button primary" onClick={() => navigate(`/?product=${encodeURIComponent(product.id)}`)}>
            More like this
          </button>
        </div>
      </div>
    </article>
  );
}
