import type { Logger } from 'pino';
import type { ProductImporter } from '../catalog/product-importer.js';
import { rasterizeSvg } from '../ml/render-svg.js';
import { demoProducts } from './demo-catalog.js';

const DEMO_IMAGE_SIZE = 400;

/** Loads the generated demo catalog (idempotent: products are keyed, images deduplicated by hash). */
export async function loadDemoCatalog(importer: ProductImporter, logger: Logger): Promise<number> {
  const products = demoProducts();
  logger.info({ products: products.length }, 'loading the demo catalog');
  for (const { product, svg } of products) {
    await importer.import(product, [{ bytes: await rasterizeSvg(svg, DEMO_IMAGE_SIZE) }]);
  }
  return products.length;
}
