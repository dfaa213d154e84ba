// Embedder latency per image on CPU, batch 1 and batch 32: onnxruntime-node (model only, and
// embed() with sharp preprocessing of 224 px JPEGs) against the same model in PyTorch, one run.
//
//   npx tsx bench/embedder-latency.ts [--seconds 5] [--out bench/results/embedder-latency]
import { spawnSync } from 'node:child_process';
import { cpus } from 'node:os';
import { Command } from 'commander';
import { pino } from 'pino';
import sharp from 'sharp';
import { loadModels } from '../src/ml/index.js';
import { validateImage } from '../src/images/index.js';
import { writeBenchReport } from './chart.js';
import { productImage } from '../tests/support/images.js';

const opts = new Command()
  .option('--seconds <s>', 'time budget per measurement', '5')
  .option('--out <prefix>', 'report path prefix', 'bench/results/embedder-latency')
  .parse()
  .opts<{ seconds: string; out: string }>();
const budgetMs = Number(opts.seconds) * 1000;
const threads = cpus().length;

/** Mean milliseconds per image of fn(batch), run for the time budget after a warm-up. */
async function perImage(batch: number, fn: () => Promise<unknown>): Promise<number> {
  for (let i = 0; i < 3; i++) await fn();
  let runs = 0;
  const started = performance.now();
  while (performance.now() - started < budgetMs) {
    await fn();
    runs++;
  }
  return (performance.now() - started) / runs / batch;
}

const models = await loadModels({
  modelsDir: 'models',
  providers: ['cpu'],
  batchSize: 32,
  logger: pino({ level: 'warn' }),
  threads,
});
const S = models.info.inputSize;
const ort: Record<string, number> = {};
const pipeline: Record<string, number> = {};
const photos = await Promise.all(
  Array.from({ length: 32 }, async (_, i) =>
    validateImage(
      await sharp(await productImage(i + 1))
        .resize(224, 224)
        .jpeg({ quality: 85 })
        .toBuffer(),
      { maxPixels: 1e8 },
    ),
  ),
);
for (const batch of [1, 32]) {
  const input = Float32Array.from({ length: batch * 3 * S * S }, () => Math.random() * 2 - 1);
  ort[batch] = await perImage(batch, () => models.runEmbedder(input, batch));
  pipeline[batch] = await perImage(batch, () => models.embed(photos.slice(0, batch).map((image) => ({ image }))));
}
await models.close();

const py = spawnSync(
  process.execPath,
  ['scripts/python.mjs', 'bench/embedder_latency.py', '--threads', String(threads), '--seconds', opts.seconds],
  {
    encoding: 'utf8',
    // Spinning OpenMP workers on a shared 2-core machine cost PyTorch ~10× at batch 1; passive waits are fair.
    env: { ...process.env, OMP_WAIT_POLICY: 'PASSIVE' },
  },
);
if (py.status !== 0) throw new Error(`PyTorch side failed: ${py.stderr || py.stdout}`);
const torch = JSON.parse(py.stdout.trim().split('\n').at(-1)!) as {
  torch: string;
  weights: string;
  batch: Record<string, number>;
};

const command = `npx tsx bench/embedder-latency.ts --seconds ${opts.seconds}`;
const report = {
  command,
  date: new Date().toISOString(),
  cpu: cpus()[0]?.model,
  threads,
  model: models.info.key,
  inputSize: S,
  onnxruntime: ort,
  onnxruntimeWithPreprocessing: pipeline,
  pytorch: torch,
};
const rows = [
  ['onnxruntime-node (model only)', ort],
  ['onnxruntime-node + sharp preprocessing of 224 px JPEGs', pipeline],
  [`PyTorch ${torch.torch} (model only; weights: ${torch.weights})`, torch.batch],
] as const;
await writeBenchReport(
  opts.out,
  report,
  [
    `# Embedder latency per image, CPU (${threads} threads)`,
    '',
    `Command: \`${command}\` — ${report.date.slice(0, 10)}, ${report.cpu}. Model ${models.info.key}, ${S}×${S} input.`,
    '',
    '| runtime | batch 1 ms/image | batch 32 ms/image |',
    '|---|---|---|',
    ...rows.map(([name, r]) => `| ${name} | ${r[1]!.toFixed(2)} | ${r[32]!.toFixed(2)} |`),
    '',
    `onnxruntime-node vs PyTorch: ${(torch.batch[1]! / ort[1]!).toFixed(2)}× at batch 1, ${(torch.batch[32]! / ort[32]!).toFixed(2)}× at batch 32.`,
  ],
  {
    title: 'Embedder latency per image (ms, lower is better)',
    values: rows.flatMap(([name, r]) =>
      [1, 32].map((b) => ({ group: `batch ${b}`, series: name.split(' (')[0]!, value: r[b]! })),
    ),
    valueTitle: 'ms per image',
  },
);
