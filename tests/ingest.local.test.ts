// Folder (with and without a sidecar) and manifest (CSV, JSONL) ingests into the real service on
// each database, from files the test writes; manifest URLs come from a real local server.
import 'reflect-metadata';
import { mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { encodeAs, productImage, randomBytes } from './support/images.js';
import { serviceBackends, startTestService, type TestService } from './support/service.js';
import { FakeStore } from './ingest.store.js';

const image = (seed: number) => productImage(seed, { width: 240, height: 240 });
const MYNTRA_HEADER = 'path,id,gender,masterCategory,subCategory,articleType,baseColour,season,year,usage,productDisplayName';

describe.each(await serviceBackends())('folder and manifest ingest ($name)', (backend) => {
  let t: TestService;
  let root: string;
  const store = new FakeStore();
  const runs = () => t.service.db.ingestRuns;
  const product = async (source: string, externalId: string) => {
    const found = await t.service.db.catalog.productByKey(source, externalId);
    if (!found) throw new Error(`no product ${source}/${externalId}`);
    return found;
  };

  async function put(relative: string, bytes: Buffer | string): Promise<void> {
    await mkdir(path.dirname(path.join(root, relative)), { recursive: true });
    await writeFile(path.join(root, relative), bytes);
  }

  beforeAll(async () => {
    t = await startTestService(backend, {
      DEMO_CATALOG: 'false',
      INGEST_RATE_PER_SECOND: '0',
    });
    root = await mkdtemp(path.join(tmpdir(), 'vps-ingest-files-'));
    await store.start();
  });

  afterAll(async () => {
    await store.stop();
    await t?.stop();
    if (root) await rm(root, { recursive: true, force: true });
  });

  it('reads a folder with a styles.csv sidecar (the myntra layout), several images per product', async () => {
    await put('shop/images/10000.jpg', await encodeAs(await image(21), 'jpeg'));
    await put('shop/images/10001.jpg', await encodeAs(await image(22), 'jpeg'));
    await put('shop/images/10002.png', await image(23));
    await put('shop/images/10003.jpg', await encodeAs(await image(21), 'jpeg')); // the bytes of 10000
    await put('shop/extra/10004_front.png', await image(24));
    await put('shop/extra/10004-back.png', await image(25));
    await put('shop/10005/a.webp', await encodeAs(await image(26), 'webp'));
    await put('shop/10005/b.png', await image(27));
    await put('shop/images/broken.jpg', randomBytes(3000, 5));
    await put(
      'shop/styles.csv',
      [
        MYNTRA_HEADER,
        'images/10000.jpg,10000,Men,Apparel,Topwear,Tshirts,Navy Blue,Fall,2011,Casual,Turtle Check Men Navy Blue Shirt',
        'images/10001.jpg,10001,Women,Apparel,Bottomwear,Skirts,White,Summer,2012,Casual,"Palm Tree Girls White Skirt, Sp"',
        'images/10002.png,10002,Unisex,Accessories,Bags,Backpacks,Black,Winter,2016,Casual,Wildcraft Unisex Black Backpack',
        'images/10003.jpg,10003,Men,Apparel,Topwear,Shirts,Navy Blue,Fall,2011,Casual,Turtle Check Shirt (listed twice)',
        ',10004,Men,Footwear,Shoes,Casual Shoes,Brown,Fall,2012,Casual,Brown Loafers',
        ',10005,Women,Accessories,Watches,Watches,Gold,Winter,2016,Casual,Gold Watch',
        'images/broken.jpg,10006,Men,Apparel,Topwear,Tshirts,Red,Fall,2011,Casual,Broken Tee',
        'images/nope.jpg,10007,Men,Apparel,Topwear,Tshirts,Red,Fall,2011,Casual,Missing Tee',
        'images/10000.jpg,10008,Men,Apparel,Topwear,Tshirts,Red,Fall,2011,Casual,',
      ].join('\n'),
    );
    const report = await t.service.ingest.run(
      {
        kind: 'folder',
        dir: path.join(root, 'shop'),
        meta: path.join(root, 'shop/styles.csv'),
        map: 'id=id,title=productDisplayName,category=articleType,colour=baseColour,image=path,attr.gender=gender,attr.season=season',
      },
      { batchSize: 4 },
    );
    expect(report.status).toBe('completed');
    expect(report.itemsTotal).toBe(9);
    expect(report.counts).toMatchObject({ created: 6, failed: 3, newImages: 7, exactDuplicates: 1 });
    // Every image the pipeline touched, per stage: 10 files read (one missing), 9 validated (one
    // broken), 8 looked up (with 10003's copy of 10000), 7 embedded, rendered and written.
    const stages = Object.fromEntries(report.stages.map((s) => [s.stage, s.images]));
    expect(stages).toEqual({ read: 10, validate: 9, dedupe: 8, embed: 7, render: 7, write: 7 });
    for (const s of report.stages) expect(s.activeMs).toBeLessThanOrEqual(report.elapsedMs);

    const first = await product('shop', '10000');
    expect(first).toMatchObject({ title: 'Turtle Check Men Navy Blue Shirt', category: 'Tshirts', colour: 'Navy Blue', attributes: { gender: 'Men', season: 'Fall' } });
    expect((await product('shop', '10001')).title).toBe('Palm Tree Girls White Skirt, Sp');
    expect((await product('shop', '10003')).images).toHaveLength(0);
    // Files named after the id (10004_front, 10004-back) and a folder named after it (10005/).
    expect((await product('shop', '10004')).images.map((i) => i.sourceUrl)).toEqual([
      path.join(root, 'shop/extra/10004-back.png'),
      path.join(root, 'shop/extra/10004_front.png'),
    ]);
    expect((await product('shop', '10005')).images).toHaveLength(2);

    const failures = (await runs().failures(report.runId, 100)).sort((a, b) => a.itemKey!.localeCompare(b.itemKey!));
    expect(failures.map((f) => [f.itemKey, f.code])).toEqual([
      ['10006', 'UNSUPPORTED_IMAGE_TYPE'],
      ['10007', 'IMAGE_FETCH_FAILED'],
      ['10008', 'MISSING_FIELD'],
    ]);
    expect(failures[1]!.reason).toMatch(/file not found/);
  });

  it('makes each image of a folder without a sidecar a product', async () => {
    await put('loose/red-dress.png', await image(41));
    await put('loose/summer/blue_hat.jpg', await encodeAs(await image(42), 'jpeg'));
    await put('loose/notes.txt', 'not an image');
    const report = await t.service.ingest.run({ kind: 'folder', dir: path.join(root, 'loose') });
    expect(report.counts).toMatchObject({ created: 2, failed: 0, newImages: 2 });
    expect((await product('loose', 'red-dress')).title).toBe('Red dress');
    expect((await product('loose', 'summer/blue_hat')).title).toBe('Blue hat');
  });

  it('reads a CSV manifest of paths and URLs, and a JSONL manifest with a bad line', async () => {
    await put('manifests/photos/m1.png', await image(51));
    const m2 = store.addImage('m2.png', await image(52));
    await put(
      'manifests/catalog.csv',
      ['sku,name,price,currency,image', `M1,Lamp,12.50,EUR,photos/m1.png`, `M2,Chair,80,EUR,${m2}`, `M3,Table,abc,EUR,photos/m1.png`].join('\n'),
    );
    const csv = await t.service.ingest.run({ kind: 'manifest', file: path.join(root, 'manifests/catalog.csv'), map: 'id=sku,title=name' });
    expect(csv.counts).toMatchObject({ created: 2, failed: 1, newImages: 2 });
    expect(Number((await product('catalog', 'M1')).price)).toBe(12.5);
    expect((await product('catalog', 'M2')).images[0]!.sourceUrl).toBe(m2);
    const [bad] = await runs().failures(csv.runId, 1);
    expect(bad).toMatchObject({ itemKey: 'M3', code: 'BAD_FIELD' });

    const m4 = store.addImage('m4.png', await image(54));
    await put(
      'manifests/more.jsonl',
      [
        JSON.stringify({ id: 'J1', title: 'Rug', image: [m4, 'photos/m1.png'], brand: 'Weave' }),
        '{"id": "J2", "title": ',
        JSON.stringify({ id: 'J3', title: 'No photo' }),
      ].join('\n'),
    );
    const jsonl = await t.service.ingest.run({ kind: 'manifest', file: path.join(root, 'manifests/more.jsonl'), source: 'catalog' });
    expect(jsonl.counts).toMatchObject({ created: 1, failed: 2, newImages: 1, exactDuplicates: 1 });
    const failures = (await runs().failures(jsonl.runId, 100)).sort((a, b) => a.code.localeCompare(b.code));
    expect(failures.map((f) => f.code)).toEqual(['BAD_RECORD', 'NO_IMAGES']);
    expect((await product('catalog', 'J1')).brand).toBe('Weave');
  });

  it('stores the embeddings a batch was given ahead by the active model, ignores another model\'s, and embeds ahead only new images', async () => {
    const importer = t.service.importer;
    const model = t.service.services.models.current().vectorModel;
    const prepare = async (seed: number) => importer.prepare(await image(seed));
    const [a, b, c] = await Promise.all([prepare(61), prepare(62), prepare(63)]);
    const item = (id: string, img: typeof a) => ({ product: { source: 'ahead', externalId: id, title: id }, images: [img] });
    // B's embedding handed in under A's hash: what is stored for A shows which one was used.
    const { bySha256 } = await importer.embedAhead([item('B', b)]);
    const swapped = new Map([[a.image.sha256, bySha256.get(b.image.sha256)!]]);
    const stored = async (id: string) => {
      const imageId = (await product('ahead', id)).images[0]!.id;
      return (await t.service.db.vectors.get([imageId], model)).get(imageId)!.vector;
    };
    await importer.importBatch([item('A', a)], { embedded: { modelKey: model.key, bySha256: swapped } });
    expect(Array.from(await stored('A'))).toEqual(Array.from(bySha256.get(b.image.sha256)!.vector));
    await importer.importBatch([item('C', c)], { embedded: { modelKey: 'another@1', bySha256: new Map([[c.image.sha256, bySha256.get(b.image.sha256)!]]) } });
    const own = (await importer.embedAhead([item('C2', c)])).bySha256;
    expect(own.size).toBe(0); // C is in the catalog now: nothing to embed ahead
    expect(Array.from(await stored('C'))).not.toEqual(Array.from(bySha256.get(b.image.sha256)!.vector));
    const fresh = (await importer.embedAhead([item('D', await prepare(64)), item('A2', a)])).bySha256;
    expect(fresh.size).toBe(1);
  });

  it('refuses bad arguments before starting a run', async () => {
    await expect(t.service.ingest.run({ kind: 'folder', dir: path.join(root, 'nowhere') })).rejects.toMatchObject({ code: 'BAD_USER_INPUT' });
    await expect(t.service.ingest.run({ kind: 'manifest', file: path.join(root, 'manifests/catalog.csv'), map: 'titel=name' })).rejects.toThrow(
      /unknown field "titel"/,
    );
    await expect(t.service.ingest.run({ kind: 'api', url: 'ftp://example.test/x' })).rejects.toMatchObject({ code: 'BAD_USER_INPUT' });
  });
});
