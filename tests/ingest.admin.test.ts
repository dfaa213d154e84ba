// Admin GraphQL mutations over HTTP on the real service: with the key, without it, with a wrong
// one, and with none configured. Products added or removed are searchable / gone at once.
import 'reflect-metadata';
import { mkdtemp, rm, stat, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { errorCode, graphql } from './support/graphql.js';
import { productImage, truncated } from './support/images.js';
import { serviceBackends, startTestService, type TestService } from './support/service.js';

const KEY = 'test-admin-key-0123456789';
const image = (seed: number) => productImage(seed, { width: 256, height: 256 });

const PRODUCT = 'id externalId source title brand category colour price currency attributes images { id sha256 url position }';
const CREATE = `mutation($input: ProductInput!, $images: [Upload!]) {
  createProduct(input: $input, images: $images) { product { ${PRODUCT} } images { sha256 decision imageId duplicateOfProductId } }
}`;
const ADD = `mutation($id: ID!, $images: [Upload!]!) { addProductImages(productId: $id, images: $images) { product { ${PRODUCT} } images { decision } } }`;
const SEARCH = `query($f: Upload) { similarProducts(image: $f, topK: 5) { items { image { id } product { id externalId } } } }`;

const uploads = async (seeds: (number | Buffer)[]) =>
  Promise.all(seeds.map(async (s, i) => ({ variable: `images.${i}`, bytes: typeof s === 'number' ? await image(s) : s, type: 'image/png' })));

describe.each(await serviceBackends())('admin mutations ($name)', (backend) => {
  let t: TestService;
  let files: string;
  const admin: Record<string, string> = { authorization: `Bearer ${KEY}` };
  const gql = (query: string, variables: Record<string, unknown> = {}, files?: { variable: string; bytes: Buffer }[], headers = admin) =>
    graphql(t.url, query, variables, { files, headers });
  const hits = async (seed: number): Promise<{ image: { id: string }; product: { externalId: string } }[]> => {
    const r = await graphql(t.url, SEARCH, {}, { files: [{ variable: 'f', bytes: await image(seed) }] });
    expect(r.errors).toBeUndefined();
    return r.data.similarProducts.items;
  };
  const search = async (seed: number) => (await hits(seed)).map((i) => i.product.externalId);
  let lamp: { id: string; images: { id: string; url: string }[] };

  beforeAll(async () => {
    t = await startTestService(backend, { ADMIN_API_KEY: KEY, INGEST_RATE_PER_SECOND: '0' });
    files = await mkdtemp(path.join(tmpdir(), 'vps-ingest-admin-'));
  });

  afterAll(async () => {
    await t?.stop();
    if (files) await rm(files, { recursive: true, force: true });
  });

  it('refuses every admin operation without the key or with a wrong one', async () => {
    const input = { title: 'Nope', externalId: 'X1' };
    const attempts: Record<string, string>[] = [{}, { authorization: 'Bearer wrong-key-wrong-key-wrong' }, { authorization: KEY }];
    for (const headers of attempts) {
      expect(errorCode(await gql(CREATE, { input }, undefined, headers))).toBe('UNAUTHENTICATED');
      expect(errorCode(await gql('{ ingestJobs { id } }', {}, undefined, headers))).toBe('UNAUTHENTICATED');
      expect(errorCode(await gql('mutation { deleteProduct(id: "00000000-0000-0000-0000-000000000000") }', {}, undefined, headers))).toBe(
        'UNAUTHENTICATED',
      );
    }
    expect(await t.service.db.catalog.productByKey('manual', 'X1')).toBeNull();
  });

  it('creates a product with photos, searchable at once', async () => {
    const input = { title: ' Brass lamp ', externalId: 'L1', category: 'Lamps', price: 49.5, currency: 'eur', attributes: { material: 'brass' } };
    const r = await gql(CREATE, { input }, await uploads([31, 32]));
    expect(r.errors).toBeUndefined();
    const { product, images } = r.data.createProduct;
    expect(product).toMatchObject({ externalId: 'L1', source: 'manual', title: 'Brass lamp', price: 49.5, currency: 'EUR', attributes: { material: 'brass' } });
    expect(product.images.map((i: { position: number }) => i.position)).toEqual([0, 1]);
    expect(images.map((i: { decision: string }) => i.decision)).toEqual(['NEW', 'NEW']);
    lamp = product;
    expect((await search(31))[0]).toBe('L1');
    expect((await search(32))[0]).toBe('L1');
  });

  it('reports exact duplicates, refuses bad images and existing ids', async () => {
    const dup = await gql(CREATE, { input: { title: 'Lamp copy', externalId: 'L2' } }, await uploads([31]));
    expect(dup.errors).toBeUndefined();
    expect(dup.data.createProduct.images).toEqual([
      expect.objectContaining({ decision: 'EXACT_DUPLICATE', duplicateOfProductId: lamp.id, imageId: null }),
    ]);
    expect(dup.data.createProduct.product.images).toHaveLength(0);

    const before = await t.service.db.catalog.countProducts();
    const bad = await gql(CREATE, { input: { title: 'Broken', externalId: 'L3' } }, await uploads([33, truncated(await image(34))]));
    expect(errorCode(bad)).toBe('BAD_IMAGE');
    expect(await t.service.db.catalog.countProducts()).toBe(before);

    expect(errorCode(await gql(CREATE, { input: { title: 'Again', externalId: 'L1' } }))).toBe('CONFLICT');
    expect(errorCode(await gql(CREATE, { input: { title: '  ' } }))).toBe('BAD_USER_INPUT');
  });

  it('updates fields, adds and removes photos', async () => {
    const update = `mutation($id: ID!, $input: ProductUpdateInput!) { updateProduct(id: $id, input: $input) { ${PRODUCT} } }`;
    const r = await gql(update, { id: lamp.id, input: { title: 'Brass desk lamp', brand: 'Lumo', price: null } });
    expect(r.errors).toBeUndefined();
    expect(r.data.updateProduct).toMatchObject({ title: 'Brass desk lamp', brand: 'Lumo', price: null, category: 'Lamps', currency: 'EUR' });
    expect(errorCode(await gql(update, { id: lamp.id, input: { title: null } }))).toBe('BAD_USER_INPUT');
    expect(errorCode(await gql(update, { id: '00000000-0000-0000-0000-000000000000', input: { brand: 'x' } }))).toBe('NOT_FOUND');

    const added = await gql(ADD, { id: lamp.id }, await uploads([35]));
    expect(added.errors).toBeUndefined();
    expect(added.data.addProductImages.images).toEqual([{ decision: 'NEW' }]);
    expect(added.data.addProductImages.product.images.map((i: { position: number }) => i.position)).toEqual([0, 1, 2]);
    expect((await search(35))[0]).toBe('L1');

    const second = lamp.images[1]!;
    const mediaFile = path.join(t.dataDir, 'media', second.url.replace('/media/', ''));
    await stat(mediaFile);
    const removed = await gql(`mutation($id: ID!) { removeProductImage(imageId: $id) { ${PRODUCT} } }`, { id: second.id });
    expect(removed.errors).toBeUndefined();
    expect(removed.data.removeProductImage.images.map((i: { id: string }) => i.id)).not.toContain(second.id);
    await expect(stat(mediaFile)).rejects.toMatchObject({ code: 'ENOENT' });
    expect((await hits(32)).map((h) => h.image.id)).not.toContain(second.id);
  });

  it('deletes a product: gone from search at once', async () => {
    const r = await gql('mutation($id: ID!) { deleteProduct(id: $id) }', { id: lamp.id });
    expect(r.errors).toBeUndefined();
    expect(r.data.deleteProduct).toBe(true);
    expect(await search(31)).not.toContain('L1');
    expect((await graphql(t.url, 'query($id: ID!) { product(id: $id) { id } }', { id: lamp.id })).data.product).toBeNull();
    expect(errorCode(await gql('mutation($id: ID!) { deleteProduct(id: $id) }', { id: lamp.id }))).toBe('NOT_FOUND');
  });

  it('starts an ingest job whose progress can be queried', async () => {
    const photo = path.join(files, 'rug.png');
    await writeFile(photo, await image(36));
    await writeFile(
      path.join(files, 'items.jsonl'),
      [JSON.stringify({ id: 'R1', title: 'Rug', image: 'rug.png' }), JSON.stringify({ id: 'R2', title: 'Lost', image: 'gone.png' })].join('\n'),
    );
    const start = await gql(`mutation($s: IngestSourceInput!) { startIngest(source: $s) { id status kind source } }`, {
      s: { kind: 'MANIFEST', path: path.join(files, 'items.jsonl'), sourceName: 'jobs' },
    });
    expect(start.errors).toBeUndefined();
    expect(start.data.startIngest).toMatchObject({ kind: 'MANIFEST', source: 'jobs' });
    const id = start.data.startIngest.id;
    const JOB = `query($id: ID!) { ingestJob(id: $id) { status itemsDone itemsTotal counts { created failed newImages } failures { itemKey code reason } } }`;
    let job;
    for (let i = 0; i < 300; i++) {
      job = (await gql(JOB, { id })).data.ingestJob;
      if (job.status !== 'RUNNING') break;
      await new Promise((r) => setTimeout(r, 100));
    }
    expect(job).toMatchObject({ status: 'COMPLETED', itemsDone: 2, itemsTotal: 2, counts: { created: 1, failed: 1, newImages: 1 } });
    expect(job.failures).toEqual([expect.objectContaining({ itemKey: 'R2', code: 'IMAGE_FETCH_FAILED' })]);
    expect((await search(36))[0]).toBe('R1');
    const jobs = await gql('{ ingestJobs(first: 5) { id status } }');
    expect(jobs.data.ingestJobs[0]).toEqual({ id, status: 'COMPLETED' });
    expect(errorCode(await gql(`mutation { startIngest(source: { kind: FOLDER, path: "${path.join(files, 'none')}" }) { id } }`))).toBe(
      'BAD_USER_INPUT',
    );
  });
});

describe('admin mutations with no ADMIN_API_KEY configured', () => {
  let t: TestService;
  beforeAll(async () => {
    t = await startTestService({ name: 'embedded' }, { DEMO_CATALOG: 'false' });
  });
  afterAll(() => t?.stop());

  it('are disabled, whatever the request sends', async () => {
    const attempts: Record<string, string>[] = [{}, { authorization: `Bearer ${KEY}` }];
    for (const headers of attempts) {
      const r = await graphql(t.url, 'mutation { createProduct(input: { title: "x" }) { product { id } } }', {}, { headers });
      expect(errorCode(r)).toBe('ADMIN_DISABLED');
    }
    expect((await graphql(t.url, '{ catalogStats { products } }')).data.catalogStats.products).toBe(0);
  });
});
