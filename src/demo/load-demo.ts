import { readFile } from 'node:fs/promises';
import type { Logger } from 'pino';
import type { ProductImporter } from '../catalog/product-importer.js';
import type { ProductRecord } from '../db/index.js';
import { rasterizeSvg } from '../images/index.js';
import { demoProducts } from './demo-catalog.js';
import { photoProducts } from './photo-catalog.js';

const DEMO_IMAGE_SIZE = 400;
const BATCH = 32;

/** The demo catalogs: real CC0 photos (photo-catalog.ts), or the drawn tops (demo-catalog.ts). */
export type DemoCatalog = 'photos' | 'drawn';

interface DemoItem {
  product: ProductRecord;
  image(): Promise<Buffer>;
}

async function demoItems(catalog: DemoCatalog): Promise<DemoItem[]> {
  if (catalog === 'drawn') return demoProducts().map(({ product, svg }) => ({ product, image: () => rasterizeSvg(svg, DEMO_IMAGE_SIZE) }));
  return (await photoProducts()).map(({ product, file }) => ({ product, image: () => readFile(file) }));
}

/**
 * Loads a demo catalog in batches (one embed call and one transaction each); idempotent:
 * products are keyed, images deduplicated by hash. Look-alike demo products (same colour and
 * cut) are kept and linked, never dropped as near-duplicates.
 */
export async function loadDemoCatalog(importer: ProductImporter, logger: Logger, catalog: DemoCatalog): Promise<number> {
  const items = await demoItems(catalog);
  logger.info({ catalog, products: items.length }, 'loading the demo catalog');
  const nearDuplicates = { ...importer.nearDuplicatePolicy, action: 'link' as const };
  for (let start = 0; start < items.length; start += BATCH) {
    const batch = await Promise.all(
      items.slice(start, start + BATCH).map(async ({ product, image }) => ({
        product,
        images: [await importer.prepare(await image())],
      })),
    );
    await importer.importBatch(batch, { nearDuplicates });
  }
  return items.length;
}
