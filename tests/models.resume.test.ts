// A re-embedding killed with SIGKILL (npm run models -- register in a child process) continues
// where it stopped when the command runs again: the images embedded before the kill are not
// embedded again, none is missing, and the model ends ready. Both databases.
import { cp, mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { pino } from 'pino';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { loadConfig } from '../src/config.js';
import { openDatabase } from '../src/db/index.js';
import { openCore } from '../src/service.js';
import { runCli } from './support/cli.js';
import { productImage } from './support/images.js';
import { createPostgresDatabase, serviceBackends } from './support/service.js';

const IMAGES = 16;

/** The pino lines of a child's stderr with this message. */
const logLines = (stderr: string, msg: string) =>
  stderr
    .split('\n')
    .filter((l) => l.startsWith('{'))
    .map((l) => JSON.parse(l) as { msg: string; embedded?: number; model?: string })
    .filter((l) => l.msg === msg);

async function waitFor(check: () => boolean, what: string, timeoutMs = 120_000): Promise<void> {
  const until = Date.now() + timeoutMs;
  while (!check()) {
    if (Date.now() > until) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 50));
  }
}

describe.each(await serviceBackends())('resuming a killed re-embedding ($name)', (backend) => {
  let dataDir: string;
  let copy: string;
  let database: Awaited<ReturnType<typeof createPostgresDatabase>> | null = null;
  let env: Record<string, string>;

  beforeAll(async () => {
    dataDir = await mkdtemp(path.join(tmpdir(), 'vps-models-resume-'));
    database = backend.name === 'postgres' ? await createPostgresDatabase() : null;
    copy = await mkdtemp(path.join(tmpdir(), 'vps-models-copy-'));
    await cp(path.resolve('models'), copy, { recursive: true });
    const manifest = JSON.parse(await readFile(path.join(copy, 'manifest.json'), 'utf8'));
    await writeFile(path.join(copy, 'manifest.json'), JSON.stringify({ ...manifest, name: 'siamese-resume' }));
    env = {
      DATA_DIR: dataDir,
      MODELS_DIR: path.resolve('models'),
      ML_PROVIDERS: 'cpu',
      LOG_LEVEL: 'debug',
      DEMO_CATALOG: 'false',
      // Two images a batch and a pause: the kill lands part-way.
      REEMBED_BATCH_SIZE: '2',
      REEMBED_PAUSE_MS: '400',
      ...(database ? { DATABASE_URL: database.url } : {}),
    };
    const core = await openCore(loadConfig({ ...env, LOG_LEVEL: 'warn' }), pino({ level: 'warn' }));
    try {
      for (let i = 0; i < IMAGES; i++) {
        await core.importer.import({ source: 'test', externalId: `p${i}`, title: `Product ${i}` }, [
          { bytes: await productImage(300 + i, { width: 160, height: 160 }) },
        ]);
      }
    } finally {
      await core.close();
    }
  }, 180_000);

  afterAll(async () => {
    await database?.drop();
    await rm(dataDir, { recursive: true, force: true });
    await rm(copy, { recursive: true, force: true });
  });

  it('continues after SIGKILL without embedding an image twice or missing one', { timeout: 300_000 }, async () => {
    const first = runCli('models.ts', ['register', copy], env);
    await waitFor(
      () => logLines(first.stderr, 're-embedding progress').some((l) => (l.embedded ?? 0) >= 4) || first.process.exitCode !== null,
      'four images re-embedded',
    );
    expect(first.process.exitCode, first.stderr).toBeNull();
    first.process.kill('SIGKILL');
    expect(await first.exited).toBeNull();
    const key = logLines(first.stderr, 're-embedding progress')[0]!.model!;

    const db = await openDatabase({ url: database?.url, dataDir, efSearch: 40, logger: pino({ level: 'silent' }) });
    let before: number;
    try {
      before = await db.vectors.count(key);
      expect(before).toBeGreaterThanOrEqual(4);
      expect(before).toBeLessThan(IMAGES);
      expect(await db.modelVersions.get(key)).toMatchObject({ status: 'indexing' });
    } finally {
      await db.close();
    }

    // The dead process's lease is known at once (same machine, its pid is gone).
    const second = runCli('models.ts', ['register', copy], env);
    expect(await second.exited, second.stderr).toBe(0);
    expect(JSON.parse(second.stdout)).toMatchObject({ key, status: 'ready', imagesEmbedded: IMAGES, imagesTotal: IMAGES });
    const [done] = logLines(second.stderr, 're-embedding complete');
    expect(done?.embedded).toBe(IMAGES - before);

    const after = await openDatabase({ url: database?.url, dataDir, efSearch: 40, logger: pino({ level: 'silent' }) });
    try {
      expect(await after.vectors.count(key)).toBe(IMAGES);
      expect(await after.modelVersions.countMissing(key)).toBe(0);
      expect(await after.modelVersions.get(key)).toMatchObject({ status: 'ready', reembedOwner: null });
    } finally {
      await after.close();
    }
  });
});
