// Catalog adaptation end to end on each database: the real service with its drawn demo catalog,
// startAdaptation through GraphQL (admin key, one job at a time), the real training process
// (2 steps per stage) and a models folder that loadModels verifies and runs, whose embeddings
// differ from the base model's. Needs python3-torch: one [skip] line without it.
import { createHash } from 'node:crypto';
import { readdir, readFile } from 'node:fs/promises';
import path from 'node:path';
import pino from 'pino';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { preparePlan, type BaseModel } from '../src/adapt/adaptation-plan.js';
import { baseModelFrom } from '../src/adapt/base-model.js';
import { validateImage } from '../src/images/index.js';
import { loadModels } from '../src/ml/index.js';
import { loadManifest, modelKey } from '../src/ml/manifest.js';
import { graphql } from './support/graphql.js';
import { productImage } from './support/images.js';
import { torchAvailable } from './support/python.js';
import { serviceBackends, startTestService, type TestService } from './support/service.js';
import { needsSystem } from './support/system.js';

const KEY = 'adapt-test-admin-key-0123456789';
const admin = { authorization: `Bearer ${KEY}` };
const hasTorch = needsSystem('python3-torch', torchAvailable(), 'apt-get install python3-torch python3-pil python3-numpy');

const JOB_FIELDS = 'id status minutes progress message baseModel catalogFingerprint images outDir modelKey startedAt finishedAt';
const START = `mutation($m: Int!) { startAdaptation(minutes: $m) { ${JOB_FIELDS} } }`;
const JOB = `query($id: ID!) { adaptationJob(id: $id) { ${JOB_FIELDS} } }`;

describe('adaptation plan (no training)', () => {
  const base: BaseModel = { key: 'm@1', name: 'm', version: '1', dir: '/models', embedderSha256: 'a'.repeat(64), size: 128, dim: 128, channels: 128, colourWeight: 0.15 };
  const images = [
    { sha256: 'b'.repeat(64), mediaPath: 'bb/b.webp', productId: 'p1', category: 'Shirts', colour: 'Blue, navy' },
    { sha256: 'a'.repeat(64), mediaPath: 'aa/a.webp', productId: 'p2', category: null, colour: 'Red' },
  ];

  it('keys the work folder by base, catalog and budget, and finds it again to resume', async () => {
    const { mkdtemp } = await import('node:fs/promises');
    const dataDir = await mkdtemp(path.join((await import('node:os')).tmpdir(), 'adapt-plan-'));
    const first = await preparePlan(dataDir, '/media', base, images, { minutes: 5, maxSteps: 0, command: 'c' }, new Date('2026-01-02T03:04:05Z'));
    expect(first.resumed).toBe(false);
    expect(first.version).toBe('1-adapted.20260102030405');
    expect(first.out).toBe(path.join(dataDir, 'models', 'm-1-adapted.20260102030405'));
    // fingerprint: sha256 over the sorted image hashes, whatever the listing order
    const expected = createHash('sha256').update(`${'a'.repeat(64)}\n${'b'.repeat(64)}\n`).digest('hex');
    expect(first.catalogFingerprint).toBe(expected);
    const again = await preparePlan(dataDir, '/media', base, [...images].reverse(), { minutes: 5, maxSteps: 0, command: 'c' }, new Date('2026-02-01T00:00:00Z'));
    expect(again).toMatchObject({ resumed: true, out: first.out, version: first.version, workDir: first.workDir });
    const other = await preparePlan(dataDir, '/media', base, images, { minutes: 6, maxSteps: 0, command: 'c' });
    expect(other.resumed).toBe(false);
    expect(other.workDir).not.toBe(first.workDir);
    // the training list: product id as the label, category and colour as fields, CSV-quoted
    const csv = await readFile(path.join(first.workDir, 'catalog.csv'), 'utf8');
    expect(csv.split('\n').slice(0, 3)).toEqual(['path,label,category,colour', 'aa/a.webp,p2,,Red', 'bb/b.webp,p1,Shirts,"Blue, navy"']);
    expect(first.trainArgs).toEqual(expect.arrayContaining(['--init', path.join('/models', 'weights.pt'), '--resume', '--minutes', '5']));
    // the adapted model keeps the base's network dimension and colour share
    const arg = (name: string) => first.trainArgs[first.trainArgs.indexOf(name) + 1];
    expect([arg('--dim'), arg('--colour-weight')]).toEqual(['128', '0.15']);
  });
});

describe.runIf(hasTorch).each(await serviceBackends())('catalog adaptation ($name)', (backend) => {
  let t: TestService;
  beforeAll(async () => {
    t = await startTestService(backend, { ADMIN_API_KEY: KEY, ADAPT_MAX_STEPS: '2', ADAPT_NICE: '0', DEMO_CATALOG: 'false' });
    // A small catalog: 8 products, the first two with two photos each (positives of one another).
    for (let p = 0; p < 8; p++) {
      const photos = await Promise.all((p < 2 ? [p, 100 + p] : [p]).map((seed) => productImage(seed, { width: 200, height: 240 })));
      await t.service.services.admin.createProduct({ title: `Product ${p}`, category: p % 2 ? 'Shirts' : 'Shoes', colour: p % 3 ? 'Red' : 'Blue' }, photos);
    }
  }, 300_000);
  afterAll(() => t?.stop());

  it('needs the admin key and a sane budget', async () => {
    const attempts: Record<string, string>[] = [{}, { authorization: 'Bearer wrong-key-wrong-key-wrong' }];
    for (const headers of attempts) {
      const res = await graphql(`${t.url}/graphql`, START, { m: 1 }, { headers });
      expect(res.errors?.[0]?.extensions?.code).toBe('UNAUTHENTICATED');
    }
    const list = await graphql(`${t.url}/graphql`, '{ adaptationJobs { id } }');
    expect(list.errors?.[0]?.extensions?.code).toBe('UNAUTHENTICATED');
    for (const m of [0, -3, 100_000]) {
      const res = await graphql(`${t.url}/graphql`, START, { m }, { headers: admin });
      expect(res.errors?.[0]?.extensions?.code, `minutes ${m}`).toBe('BAD_USER_INPUT');
    }
    expect((await t.service.db.adaptationJobs.list(10)).length).toBe(0);
  });

  it('adapts the model to the catalog in a child process: stopped, resumed, one job at a time, a loadable model that differs', { timeout: 600_000 }, async () => {
    const base = await baseModelFrom('models');
    // Stopped at once (as a service shutdown stops it): interrupted, its work folder kept.
    const first = (await graphql(`${t.url}/graphql`, START, { m: 1 }, { headers: admin })).data.startAdaptation;
    expect(first).toMatchObject({ status: 'QUEUED', minutes: 1, progress: 0, baseModel: base.key });
    await t.service.services.adaptation.close();
    const stopped = (await graphql(`${t.url}/graphql`, JOB, { id: first.id }, { headers: admin })).data.adaptationJob;
    expect(stopped.status, stopped.message).toBe('INTERRUPTED');
    expect(stopped.outDir).toBeTruthy();

    // Started again with the same budget on the same catalog: the same plan, resumed.
    const started = await graphql(`${t.url}/graphql`, START, { m: 1 }, { headers: admin });
    expect(started.errors).toBeUndefined();
    const job = started.data.startAdaptation;
    expect(job.id).not.toBe(first.id);

    const second = await graphql(`${t.url}/graphql`, START, { m: 1 }, { headers: admin });
    expect(second.errors?.[0]?.extensions?.code).toBe('ADAPTATION_RUNNING');
    expect(second.errors?.[0]?.message).toContain(job.id);

    let seen = job;
    const deadline = Date.now() + 540_000;
    while (['QUEUED', 'RUNNING'].includes(seen.status) && Date.now() < deadline) {
      await new Promise((r) => setTimeout(r, 1000));
      seen = (await graphql(`${t.url}/graphql`, JOB, { id: job.id }, { headers: admin })).data.adaptationJob;
    }
    expect(seen.status, seen.message).toBe('SUCCEEDED');
    expect(seen.progress).toBe(1);
    expect(seen.finishedAt).toBeTruthy();

    // The catalog it trained on: every image of the database, fingerprinted by content.
    const images = await t.service.db.adaptationJobs.trainingImages();
    const fingerprint = createHash('sha256').update(images.map((i) => `${i.sha256}\n`).sort().join('')).digest('hex');
    expect(seen).toMatchObject({ images: images.length, catalogFingerprint: fingerprint, outDir: stopped.outDir });
    expect(path.dirname(seen.outDir)).toBe(path.join(t.dataDir, 'models'));
    // Done: no work folder (checkpoint, plan) left behind.
    expect((await readdir(path.dirname(seen.outDir))).filter((n) => n.startsWith('.'))).toEqual([]);

    const manifest = JSON.parse(await readFile(path.join(seen.outDir, 'manifest.json'), 'utf8'));
    expect(modelKey(manifest)).toBe(seen.modelKey);
    expect(seen.modelKey).not.toBe(base.key);
    expect(manifest.adaptation).toMatchObject({
      base: { key: base.key, embedderSha256: base.embedderSha256 },
      catalog: { fingerprint, images: images.length },
      command: 'GraphQL startAdaptation(minutes: 1)',
    });
    // Each stage stops at its step cap (2) or its share of the 1-minute budget, whichever comes first.
    expect(manifest.training).toMatchObject({ labels: true, minutes: 1, augment: 'mixed', initScorer: true, hardware: { device: expect.any(String) } });
    for (const steps of [manifest.training.steps, manifest.training.scorerSteps]) expect([1, 2]).toContain(steps);

    // loadModels verifies the folder (sha256 of every file) and runs it; its embedding of a
    // catalog photo is not the base model's.
    const logger = pino({ level: 'silent' });
    const [adapted, shipped] = await Promise.all(
      [seen.outDir, 'models'].map((dir) => loadModels({ modelsDir: dir, providers: ['cpu'], batchSize: 4, logger })),
    );
    try {
      const bytes = await readFile(path.join(t.dataDir, 'media', images[0]!.mediaPath));
      const image = await validateImage(bytes, { maxPixels: 40e6 });
      const [[a], [b]] = await Promise.all([adapted.embed([{ image }]), shipped.embed([{ image }])]);
      expect(a!.vector.length).toBe(b!.vector.length);
      const cosine = a!.vector.reduce((s, v, i) => s + v * b!.vector[i]!, 0);
      expect(cosine).toBeLessThan(0.99999);
      expect(adapted.info.key).toBe(seen.modelKey);
      expect((await loadManifest(seen.outDir)).manifest.adaptation).toMatchObject({ catalog: { fingerprint } });
    } finally {
      await Promise.all([adapted.close(), shipped.close()]);
    }

    // Registered as a model version: the catalog is re-embedded into it; once ready it can serve.
    const MODELS = `{ models { key status imagesEmbedded imagesTotal } }`;
    let registered = (await graphql(`${t.url}/graphql`, MODELS)).data.models.find((m: { key: string }) => m.key === seen.modelKey);
    expect(['INDEXING', 'READY']).toContain(registered?.status);
    for (const until = Date.now() + 120_000; registered.status !== 'READY' && Date.now() < until; ) {
      await new Promise((r) => setTimeout(r, 500));
      registered = (await graphql(`${t.url}/graphql`, MODELS)).data.models.find((m: { key: string }) => m.key === seen.modelKey);
    }
    expect(registered).toMatchObject({ status: 'READY', imagesEmbedded: images.length });
    const activated = await graphql(`${t.url}/graphql`, `mutation($k: String!) { activateModel(key: $k) { status } }`, { k: seen.modelKey }, { headers: admin });
    expect(activated.data?.activateModel, JSON.stringify(activated.errors)).toEqual({ status: 'ACTIVE' });

    const listed = await graphql(`${t.url}/graphql`, `{ adaptationJobs(first: 5) { id status } }`, {}, { headers: admin });
    expect(listed.data.adaptationJobs).toEqual([{ id: job.id, status: 'SUCCEEDED' }, { id: first.id, status: 'INTERRUPTED' }]);
  });

  it('marks a job whose process is gone as interrupted (what a restart does)', async () => {
    const jobs = t.service.db.adaptationJobs;
    const dead = (await jobs.create({ minutes: 3, maxSteps: 0, baseModel: 'x@1', owner: `${(await import('node:os')).hostname()}:2147483646:dead` }))!;
    await jobs.update(dead.id, { status: 'running', progress: 0.4 });
    const refused = await graphql(`${t.url}/graphql`, JOB, { id: dead.id }, { headers: admin });
    expect(refused.data.adaptationJob.status).toBe('RUNNING');
    expect(await t.service.services.adaptation.recover()).toBe(1);
    const after = (await graphql(`${t.url}/graphql`, JOB, { id: dead.id }, { headers: admin })).data.adaptationJob;
    expect(after).toMatchObject({ status: 'INTERRUPTED', progress: 0.4 });
    expect(after.message).toMatch(/resume/);
    expect((await graphql(`${t.url}/graphql`, JOB, { id: 'not-a-uuid' }, { headers: admin })).data.adaptationJob).toBeNull();
  });
});
