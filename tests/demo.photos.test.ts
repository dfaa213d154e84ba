// The real-photo demo catalog (demo/photos): its listing, DEMO_CATALOG's values, and a first start
// on each database that loads it, after which a re-photographed demo product is found.
import { readFile, stat } from 'node:fs/promises';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { loadConfig } from '../src/config.js';
import { photoDemoDir, photoProducts, type PhotoProduct } from '../src/demo/photo-catalog.js';
import { distort } from './support/images.js';
import { serviceBackends, startTestService, type TestService } from './support/service.js';

const products = await photoProducts();

describe('the photo demo catalog', () => {
  it('lists the 372 photos of the CC0 test split, each file present, all within 10 MB', async () => {
    expect(products).toHaveLength(372);
    expect(new Set(products.map((p) => p.product.externalId)).size).toBe(products.length);
    let bytes = 0;
    for (const { file, product } of products) {
      bytes += (await stat(file)).size;
      expect(product.title.length).toBeGreaterThan(3);
      expect(product.attributes).toMatchObject({ license: 'CC0-1.0' });
      expect(String(product.attributes?.path)).toMatch(/^test\//);
    }
    expect(bytes).toBeLessThan(10 * 1024 * 1024);
    expect(new Set(products.map((p) => p.product.category))).toEqual(
      new Set(['dress', 'hat', 'longsleeve', 'outwear', 'pants', 'shirt', 'shoes', 'shorts', 'skirt', 't-shirt']),
    );
    expect(path.basename(photoDemoDir())).toBe('photos');
  });

  it('DEMO_CATALOG: photos by default and for true, drawn, or none for false', () => {
    const demo = (value?: string) => loadConfig(value === undefined ? {} : { DEMO_CATALOG: value }).DEMO_CATALOG;
    expect(demo()).toBe('photos');
    expect(['true', 'photos', '1', 'yes'].map(demo)).toEqual(['photos', 'photos', 'photos', 'photos']);
    expect(demo('drawn')).toBe('drawn');
    expect(['false', '0', 'no'].map(demo)).toEqual(['none', 'none', 'none']);
    expect(() => demo('cartoons')).toThrow(/DEMO_CATALOG/);
  });
});

describe.each(await serviceBackends())('first start with the photo demo ($name)', (backend) => {
  let service: TestService;

  beforeAll(async () => {
    service = await startTestService(backend, { DEMO_CATALOG: 'photos' });
  }, 600_000);
  afterAll(async () => {
    await service?.stop();
  });

  it('loads every photo with its listing', async () => {
    const stats = await service.service.services.catalog.stats();
    expect(stats.products).toBe(products.length);
    expect(stats.embeddings).toBe(stats.images);
    const shoes = await service.service.services.catalog.products(100, null, { category: ['shoes'] });
    expect(shoes.totalCount).toBe(products.filter((p) => p.product.category === 'shoes').length);
    for (const { node } of shoes.edges) expect(node).toMatchObject({ source: 'demo-photos', category: 'shoes', currency: 'EUR' });
  });

  it("finds a demo product's photo, re-photographed by the tests' distortions, in the top 3", async () => {
    // One product of each category, the first in the listing.
    const picks = [...new Map(products.map((p) => [p.product.category, p])).values()];
    const ranks: string[] = [];
    for (const [i, pick] of picks.entries()) {
      const photo = await distort(await readFile(pick.file), { seed: i + 1 });
      const form = new FormData();
      form.append('image', new Blob([new Uint8Array(photo)], { type: 'image/jpeg' }), 'photo.jpg');
      const response = await fetch(`${service.url}/api/match?topK=3`, { method: 'POST', body: form });
      expect(response.status).toBe(200);
      const { items } = (await response.json()) as { items: { product: { externalId: string } }[] };
      const rank = items.findIndex((item) => item.product.externalId === pick.product.externalId) + 1;
      ranks.push(`${pick.product.category}:${rank || '>3'}`);
      expect(rank, describeMiss(pick, items)).toBeGreaterThan(0);
    }
    console.info(`[demo.photos] ranks of re-photographed demo products: ${ranks.join(' ')}`);
  });
});

function describeMiss(pick: PhotoProduct, items: { product: { externalId: string } }[]): string {
  return `${pick.product.externalId} (${pick.product.title}) not in the top 3: ${items.map((i) => i.product.externalId).join(', ')}`;
}
