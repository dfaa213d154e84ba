import type { Logger } from 'pino';
import type { ProductImporter } from '../catalog/product-importer.js';
import { rasterizeSvg } from '../images/index.js';
import { demoProducts } from './demo-catalog.js';

const DEMO_IMAGE_SIZE = 400;
const BATCH = 32;

/**
 * Loads the generated demo catalog in batches (one embed call and one transaction each);
 * idempotent: products are keyed, images deduplicated by hash. Look-alike demo products
 * (same colour and cut) are kept and linked, never dropped as near-duplicates.
 */
export async function loadDemoCatalog(importer: ProductImporter, logger: Logger): Promise<number> {
  const products = demoProducts();
  logger.info({ products: products.length }, 'loading the demo catalog');
  const nearDuplicates = { ...importer.nearDuplicatePolicy, action: 'link' as const };
  for (let start = 0; start < products.length; start += BATCH) {
    const items = await Promise.all(
      products.slice(start, start + BATCH).map(async ({ product, svg }) => ({
        product,
        images: [await importer.prepare(await rasterizeSvg(svg, DEMO_IMAGE_SIZE))],
      })),
    );
    await importer.importBatch(items, { nearDuplicates });
  }
  return products.length;
}
