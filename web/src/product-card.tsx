import type { ReactNode } from 'react';
import type { ProductCard as Product } from '../../client/index.js';
import { formatPrice } from './format.js';
import { Link } from './router.js';

interface ProductCardProps {
  product: Product;
  /** The image to show (a search shows the one that matched); default the product's first. */
  image?: { url: string; thumbnailUrl: string; width: number; height: number };
  /** Shown above the title (rank). */
  badge?: ReactNode;
  /** Lines under the price (similarity, score). */
  children?: ReactNode;
  onMoreLikeThis?(product: Product): void;
  /** Load the photo at once (the first rows), not lazily. */
  eager?: boolean;
}

/** One product in a grid: photo, title, facts, price, and the two actions. */
export function ProductCard({ product, image, badge, children, onMoreLikeThis, eager }: ProductCardProps) {
  const shown = image ?? product.images[0];
  const facts = [product.category, product.colour, product.brand].filter(Boolean).join(' · ');
  const photos = product.images.length;
  return (
    <li className="card">
      <div className="thumb">
        {shown ? (
          <a href={shown.url} target="_blank" rel="noopener">
            <img src={shown.thumbnailUrl} alt={`Photo of ${product.title}`} loading={eager ? "eager" : "lazy"} width={shown.width} height={shown.height} />
          </a>
        ) : (
          <span className="no-photo">No photo</span>
        )}
        {badge}
      </div>
      <div className="card-body">
        <h3 className="card-title">{product.title}</h3>
        {facts && <p className="facts">{facts}</p>}
        <p className="price">{formatPrice(product.price, product.currency)}</p>
        {children}
        <div className="card-actions">
          {onMoreLikeThis && (
            <button type="button" className="button small" onClick={() => onMoreLikeThis(product)}>
              More like this<span className="visually-hidden">: {product.title}</span>
            </button>
          )}
          <Link to={`/product/${encodeURIComponent(product.id)}`} className="photos-link">
            {photos === 1 ? 'Photo' : `${photos} photos`}
            <span className="visually-hidden"> of {product.title}</span>
          </Link>
        </div>
      </div>
    </li>
  );
}
