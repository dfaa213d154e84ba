// A database from before model versions: the migration makes its one model active, and the
// service adopts it (records MODELS_DIR as its folder) under its old name@version key, so its
// embeddings keep answering searches; registering the same folder again adds no second model.
import { cp, mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { pino } from 'pino';
import { afterAll, describe, expect, it } from 'vitest';
import { readMigrations } from '../src/db/migrator.js';
import { loadModels } from '../src/ml/index.js';
import { ModelService } from '../src/models/model-service.js';
import { ProductImporter } from '../src/catalog/product-importer.js';
import { MediaStore } from '../src/storage/media-store.js';
import { testBackends, type OpenedBackend } from './support/databases.js';
import { productImage } from './support/images.js';

const MODEL_VERSIONS = '20261130000000_model_versions';
const migrationsDir = path.resolve('prisma/migrations');
const logger = pino({ level: 'silent' });

/** A model service on `modelsDir` that re-embeds in small batches without pausing. */
const serviceOptions = (modelsDir: string) => ({
  modelsDir,
  load: (dir: string) => loadModels({ modelsDir: dir, providers: ['cpu'], batchSize: 4, logger }),
  imageLimits: { maxPixels: 40_000_000, maxSide: 12_000, maxAspectRatio: 20 },
  reembed: { batchSize: 2, pauseMs: 0, pauseFactor: 0 },
  pollMs: 60_000,
  logger,
});

/** n products of one generated photo each, embedded with the service's active model. */
async function importProducts(t: OpenedBackend, models: ModelService, media: MediaStore, n: number) {
  const importer = new ProductImporter(t.db, models, media, {
    imageLimits: serviceOptions('').imageLimits,
    nearDuplicates: { action: 'link', maxHamming: 16, maxDistance: 0.12 },
  });
  for (let i = 1; i <= n; i++) {
    await importer.import({ source: 'test', externalId: `p${i}`, title: `P${i}` }, [{ bytes: await productImage(i, { width: 96, height: 96 }) }]);
  }
}

describe.each(testBackends())('upgrading to model versions on $name', ({ open }) => {
  const cleanups: Array<() => Promise<unknown>> = [];
  afterAll(async () => {
    while (cleanups.length) await cleanups.pop()!();
  });

  it('makes the existing model active and adopts it under its old key', { timeout: 120_000 }, async () => {
    // The migrations before model versions, then a catalog model stored the old way.
    const older = await mkdtemp(path.join(os.tmpdir(), 'vps-migrations-'));
    cleanups.push(() => rm(older, { recursive: true, force: true }));
    for (const m of await readMigrations(migrationsDir)) {
      if (m.name < MODEL_VERSIONS) await cp(path.join(migrationsDir, m.name), path.join(older, m.name), { recursive: true });
    }
    const t: OpenedBackend = await open({ migrate: false, migrationsDir: older });
    cleanups.push(() => t.cleanup());
    await t.db.migrate();
    const manifest = JSON.parse(await readFile(path.resolve('models/manifest.json'), 'utf8'));
    const legacy = `${manifest.name}@${manifest.version}`;
    await t.db.models.ensure({ key: 'older@0.1', dim: manifest.embedding.dim, metric: 'l2' });
    await t.db.models.ensure({ key: legacy, name: manifest.name, version: manifest.version, dim: manifest.embedding.dim, metric: 'l2' });
    await t.sql(`UPDATE vector_models SET created_at = created_at - interval '1 day' WHERE key = 'older@0.1'`);

    await cp(path.join(migrationsDir, MODEL_VERSIONS), path.join(older, MODEL_VERSIONS), { recursive: true });
    expect(await t.db.migrate()).toEqual([MODEL_VERSIONS]);
    expect(await t.db.modelVersions.active()).toMatchObject({ key: legacy, status: 'active', path: null });
    expect(await t.db.modelVersions.get('older@0.1')).toMatchObject({ status: 'ready' });
    // At most one active model: the database refuses a second.
    await expect(t.sql(`UPDATE vector_models SET status = 'active' WHERE key = 'older@0.1'`)).rejects.toThrow(/unique/i);

    const models = await ModelService.open(t.db, new MediaStore(t.dataDir), {
      modelsDir: path.resolve('models'),
      load: (modelsDir) => loadModels({ modelsDir, providers: ['cpu'], batchSize: 4, logger }),
      imageLimits: { maxPixels: 40_000_000, maxSide: 12_000, maxAspectRatio: 20 },
      reembed: { batchSize: 4, pauseMs: 0, pauseFactor: 0 },
      pollMs: 60_000,
      logger,
    });
    try {
      expect(models.current().vectorModel.key).toBe(legacy);
      expect(await t.db.modelVersions.active()).toMatchObject({
        key: legacy,
        path: path.resolve('models'),
        embedderSha256: manifest.files.embedder.sha256,
      });
      expect((await models.register('models')).key).toBe(legacy);
      expect((await models.list()).map((m) => m.key).sort()).toEqual([legacy, 'older@0.1'].sort());
    } finally {
      await models.close();
    }
  });

  it("keeps the active key and its embeddings when MODELS_DIR's new version has the same embedder (a scorer-only upgrade such as 2.5.0 → 2.6.0)", { timeout: 120_000 }, async () => {
    const t = await open();
    cleanups.push(() => t.cleanup());
    const dir = await mkdtemp(path.join(os.tmpdir(), 'vps-models-'));
    cleanups.push(() => rm(dir, { recursive: true, force: true }));
    await cp(path.resolve('models'), dir, { recursive: true });
    const media = new MediaStore(t.dataDir);
    const options = serviceOptions(dir);
    let models = await ModelService.open(t.db, media, options);
    const key = models.current().vectorModel.key;
    await importProducts(t, models, media, 2);
    const stamps = () => t.sql(`SELECT image_id, created_at FROM image_embeddings WHERE model_key = $1 ORDER BY image_id`, [key]);
    const before = await stamps();
    await models.close();
    // The project's next version, written over the folder: a new version number (and scorer), the same embedder file.
    const manifestPath = path.join(dir, 'manifest.json');
    const manifest = JSON.parse(await readFile(manifestPath, 'utf8'));
    await writeFile(manifestPath, JSON.stringify({ ...manifest, version: `${manifest.version}-next` }));

    models = await ModelService.open(t.db, media, options);
    try {
      expect(models.current().vectorModel.key).toBe(key);
      expect(models.current().models.info.version).toBe(`${manifest.version}-next`);
      expect(await stamps()).toEqual(before); // nothing re-embedded
      expect((await models.list()).map((m) => [m.key, m.status])).toEqual([[key, 'active']]);
    } finally {
      await models.close();
    }
  });

  it("re-embeds the catalog into MODELS_DIR's model when it replaced the active model's files, then serves only it", { timeout: 180_000 }, async () => {
    const t = await open();
    cleanups.push(() => t.cleanup());
    const media = new MediaStore(t.dataDir);
    const options = serviceOptions(path.resolve('models'));
    let models = await ModelService.open(t.db, media, options);
    const shipped = models.current().vectorModel.key;
    await importProducts(t, models, media, 3);
    await models.close();
    // Before the upgrade: another model (stored before model versions, no folder) served this catalog,
    // and MODELS_DIR's model was not there yet.
    const old = 'siamese-cc0@0.9.0';
    await t.sql(`INSERT INTO vector_models (key, name, version, dim, metric, status) VALUES ($1, 'siamese-cc0', '0.9.0', 128, 'l2', 'ready')`, [old]);
    await t.sql(`INSERT INTO image_embeddings (image_id, model_key, embedding, features) SELECT image_id, $1, embedding, features FROM image_embeddings WHERE model_key = $2`, [old, shipped]);
    await t.sql(`DELETE FROM image_embeddings WHERE model_key = $1`, [shipped]);
    await t.sql(`UPDATE vector_models SET status = 'retired', path = NULL WHERE key = $1`, [shipped]);
    await t.sql(`UPDATE vector_models SET status = 'active', activated_at = now() WHERE key = $1`, [old]);

    models = await ModelService.open(t.db, media, options);
    try {
      expect(models.current().vectorModel.key).toBe(shipped);
      expect(await t.db.vectors.count(shipped)).toBe(3);
      expect(await t.db.modelVersions.get(old)).toMatchObject({ status: 'retired' });
      expect(await t.db.vectors.count(old)).toBe(0);
    } finally {
      await models.close();
    }
  });
});
