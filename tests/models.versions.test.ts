// Model versions over HTTP on the real service (both databases, the real ONNX models): register a
// second models folder → the catalog is re-embedded in the background while searches keep working →
// ready → activate → searches answer with the new key; refusals with stable codes; retire.
// The second folder is a copy of models/ under another name: its key differs (the key holds
// name@version and the embedder's hash), so the flow is real without exporting a new network.
import 'reflect-metadata';
import { cp, mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { pino } from 'pino';
import { loadConfig } from '../src/config.js';
import { modelKey } from '../src/ml/index.js';
import { openCore } from '../src/service.js';
import { errorCode, graphql } from './support/graphql.js';
import { productImage } from './support/images.js';
import { serviceBackends, startTestService, type TestService } from './support/service.js';

const KEY = 'test-admin-key-0123456789';
const MODELS = '{ models { key name version status imagesEmbedded imagesTotal createdAt activatedAt training } }';
const REGISTER = 'mutation($path: String!) { registerModel(path: $path) { key status imagesEmbedded imagesTotal } }';
const ACTIVATE = 'mutation($key: String!) { activateModel(key: $key) { key status } }';
const RETIRE = 'mutation($key: String!) { retireModel(key: $key) { key status imagesEmbedded } }';
const SEARCH = 'query($f: Upload) { similarProducts(image: $f, topK: 3) { id model items { product { externalId } } } }';
const RERANK = 'mutation($id: ID!) { rerankSearch(searchId: $id, candidates: 5, topK: 3) { id } }';
const CREATE = 'mutation($input: ProductInput!, $images: [Upload!]) { createProduct(input: $input, images: $images) { product { id images { id } } } }';

/** A copy of the shipped models under another name (and so another key). */
async function copyModels(name: string): Promise<string> {
  const dir = await mkdtemp(path.join(tmpdir(), 'vps-models-'));
  await cp(path.resolve('models'), dir, { recursive: true });
  const manifest = JSON.parse(await readFile(path.join(dir, 'manifest.json'), 'utf8'));
  await writeFile(path.join(dir, 'manifest.json'), JSON.stringify({ ...manifest, name, training: { note: 'a test copy' } }));
  return dir;
}

describe('model keys', () => {
  it('hold the embedder hash: a retrain that keeps its name and version gets another key', () => {
    const files = (sha256: string) => ({ embedder: { sha256 }, scorer: {} }) as never;
    const a = modelKey({ name: 'm', version: '1.0.0', files: files('ab'.repeat(32)) });
    const b = modelKey({ name: 'm', version: '1.0.0', files: files('cd'.repeat(32)) });
    expect(a).toBe(`m@1.0.0+${'ab'.repeat(6)}`);
    expect(b).not.toBe(a);
  });
});

describe.each(await serviceBackends())('model versions ($name)', (backend) => {
  let t: TestService;
  let copy: string;
  let shipped: string;
  let next: string;
  const admin = { authorization: `Bearer ${KEY}` };
  const gql = (query: string, variables: Record<string, unknown> = {}, headers: Record<string, string> = admin) =>
    graphql(t.url, query, variables, { headers });
  const search = async (seed: number) => graphql(t.url, SEARCH, {}, { files: [{ variable: 'f', bytes: await productImage(seed, { width: 160, height: 160 }) }] });
  const list = async () => (await gql(MODELS)).data.models as { key: string; status: string; imagesEmbedded: number; imagesTotal: number; training: unknown }[];
  beforeAll(async () => {
    // Small batches with a pause: the re-embedding lasts long enough to search and activate during it.
    t = await startTestService(backend, { ADMIN_API_KEY: KEY, REEMBED_BATCH_SIZE: '4', REEMBED_PAUSE_MS: '50', REEMBED_PAUSE_FACTOR: '0', MODEL_POLL_MS: '200' });
    copy = await copyModels('siamese-copy');
  }, 120_000);

  afterAll(async () => {
    await t?.stop();
    if (copy) await rm(copy, { recursive: true, force: true });
  });

  it('starts a fresh database with MODELS_DIR as its one active model, fully embedded', async () => {
    const models = await list();
    expect(models).toHaveLength(1);
    shipped = models[0]!.key;
    expect(shipped).toMatch(/^siamese-cc0@[^+]+\+[0-9a-f]{12}$/);
    expect(models[0]).toMatchObject({ status: 'ACTIVE' });
    expect(models[0]!.imagesEmbedded).toBe(models[0]!.imagesTotal);
    expect(models[0]!.imagesTotal).toBeGreaterThan(10);
    expect((await search(3)).data.similarProducts.model).toBe(shipped);
  });

  it('refuses every model mutation without the admin key', async () => {
    const refused: Record<string, string>[] = [{}, { authorization: 'Bearer wrong-key-wrong-key-wrong' }];
    for (const headers of refused) {
      expect(errorCode(await gql(REGISTER, { path: copy }, headers))).toBe('UNAUTHENTICATED');
      expect(errorCode(await gql(ACTIVATE, { key: shipped }, headers))).toBe('UNAUTHENTICATED');
      expect(errorCode(await gql(RETIRE, { key: shipped }, headers))).toBe('UNAUTHENTICATED');
    }
    expect(await list()).toHaveLength(1);
  });

  it('refuses a folder that fails the manifest checks, and unknown keys', async () => {
    const broken = await copyModels('siamese-broken');
    try {
      const manifest = JSON.parse(await readFile(path.join(broken, 'manifest.json'), 'utf8'));
      manifest.files.embedder.sha256 = '0'.repeat(64);
      await writeFile(path.join(broken, 'manifest.json'), JSON.stringify(manifest));
      const r = await gql(REGISTER, { path: broken });
      expect(errorCode(r)).toBe('MODEL_INVALID');
      expect(r.errors![0]!.message).toMatch(/sha256/);
      expect(errorCode(await gql(REGISTER, { path: path.join(broken, 'nowhere') }))).toBe('MODEL_INVALID');
    } finally {
      await rm(broken, { recursive: true, force: true });
    }
    expect(errorCode(await gql(ACTIVATE, { key: 'no-such@model' }))).toBe('MODEL_NOT_FOUND');
    expect(errorCode(await gql(RETIRE, { key: 'no-such@model' }))).toBe('MODEL_NOT_FOUND');
    expect(await list()).toHaveLength(1);
  });

  it('registers a model, re-embeds the catalog while searches keep working, then activates it', { timeout: 180_000 }, async () => {
    const r = await gql(REGISTER, { path: copy });
    expect(r.errors).toBeUndefined();
    next = r.data.registerModel.key;
    expect(next).toMatch(/^siamese-copy@/);
    expect(r.data.registerModel.status).toBe('INDEXING');
    expect(errorCode(await gql(ACTIVATE, { key: next }))).toBe('MODEL_NOT_READY');

    // A product added during the re-embedding gets an embedding from both models.
    const created = await graphql(t.url, CREATE, { input: { title: 'Added meanwhile', externalId: 'MEANWHILE' } }, {
      headers: admin,
      files: [{ variable: 'images.0', bytes: await productImage(4242, { width: 200, height: 200 }) }],
    });
    expect(created.errors).toBeUndefined();
    const addedImage = created.data.createProduct.product.images[0].id as string;

    const seen: string[] = [];
    let searches = 0;
    for (;;) {
      const s = await search(searches++);
      expect(s.errors).toBeUndefined();
      expect(s.data.similarProducts.items.length).toBe(3);
      seen.push(s.data.similarProducts.model);
      const model = (await list()).find((m) => m.key === next)!;
      expect(model.imagesEmbedded).toBeLessThanOrEqual(model.imagesTotal);
      if (model.status === 'READY') {
        expect(model.imagesEmbedded).toBe(model.imagesTotal);
        break;
      }
      expect(model.status).toBe('INDEXING');
    }
    expect(searches).toBeGreaterThan(1);
    expect(new Set(seen)).toEqual(new Set([shipped]));
    const both = await t.service.db.vectors.get([addedImage], { key: next, dim: 1, metric: 'l2' });
    expect(both.has(addedImage)).toBe(true);

    const before = await search(7);
    const activated = await gql(ACTIVATE, { key: next });
    expect(activated.errors).toBeUndefined();
    expect(activated.data.activateModel.status).toBe('ACTIVE');
    const statuses = Object.fromEntries((await list()).map((m) => [m.key, m.status]));
    expect(statuses).toEqual({ [shipped]: 'READY', [next]: 'ACTIVE' });
    const after = await search(7);
    expect(after.data.similarProducts.model).toBe(next);
    // The same network under another key: the same products. (Not always in the same order: the
    // re-embedding reads the stored display renditions, not the original uploads, so near-ties may swap.)
    const ids = (r: typeof before) => new Set(r.data.similarProducts.items.map((i: { product: { externalId: string } }) => i.product.externalId));
    expect(ids(after)).toEqual(ids(before));
    // A search made with the model before the switch is not re-ranked against the new one.
    const stale = await gql(RERANK, { id: before.data.similarProducts.id });
    expect(errorCode(stale)).toBe('SEARCH_EXPIRED');
    expect(stale.errors![0]!.message).toContain(shipped);
  });

  // Two processes need a server: PGlite is one process's.
  it.runIf(backend.name === 'postgres')('switches another process at its next poll', { timeout: 120_000 }, async () => {
    const other = await openCore(
      loadConfig({ DATABASE_URL: t.databaseUrl!, DATA_DIR: t.dataDir, MODELS_DIR: path.resolve('models'), ML_PROVIDERS: 'cpu', DEMO_CATALOG: 'false', MODEL_POLL_MS: '200', LOG_LEVEL: 'warn' }),
      pino({ level: 'warn' }),
    );
    const waitForKey = async (key: string) => {
      for (let i = 0; other.models.current().vectorModel.key !== key; i++) {
        if (i > 300) throw new Error(`the other process never switched to ${key}`);
        await new Promise((r) => setTimeout(r, 100));
      }
    };
    try {
      other.models.startBackground();
      expect(other.models.current().vectorModel.key).toBe(next);
      expect((await gql(ACTIVATE, { key: shipped })).errors).toBeUndefined();
      await waitForKey(shipped);
      expect((await gql(ACTIVATE, { key: next })).errors).toBeUndefined();
      await waitForKey(next);
    } finally {
      await other.close();
    }
  });

  it('retires a model: its embeddings and index are gone; the active one cannot be retired', async () => {
    expect(errorCode(await gql(RETIRE, { key: next }))).toBe('CONFLICT');
    // Right after a switch another process may still search with the model before: wait two polls.
    await new Promise((r) => setTimeout(r, 500));
    const r = await gql(RETIRE, { key: shipped });
    expect(r.errors).toBeUndefined();
    expect(r.data.retireModel).toMatchObject({ status: 'RETIRED', imagesEmbedded: 0 });
    expect(await t.service.db.vectors.count(shipped)).toBe(0);
    expect(await t.service.db.models.indexInfo({ key: next, dim: 1, metric: 'l2' })).not.toBeNull();
    expect(await t.service.db.models.indexInfo({ key: shipped, dim: 1, metric: 'l2' })).toBeNull();
    expect((await search(9)).data.similarProducts.model).toBe(next);
    expect(errorCode(await gql(ACTIVATE, { key: shipped }))).toBe('MODEL_NOT_READY');
  });
});
