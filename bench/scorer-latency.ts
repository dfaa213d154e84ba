// Re-ranking's own cost: the pairwise scorer of one or more models folders over a shortlist, through
// the service's onnxruntime sessions, the models interleaved round by round so that they share the
// machine's moments (these machines are noisy: only a side-by-side run compares).
//
//   npx tsx bench/scorer-latency.ts --models <2.5.0>,models --candidates 50 --out bench/results/scorer-latency.md
import { writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { Command } from 'commander';
import pino from 'pino';
import { percentile } from '../src/eval/percentile.js';
import { seededRandom } from '../src/eval/random.js';
import { loadModels, type LoadedModels } from '../src/ml/index.js';
import type { ImageEmbedding } from '../src/ml/types.js';

const list = (v: string) => v.split(',').map((s) => s.trim()).filter(Boolean);
const opts = new Command()
  .requiredOption('--models <dirs>', 'models folders, comma-separated', list)
  .option('--candidates <n>', 'shortlist size (the service re-ranks 50 by default)', Number, 50)
  .option('--rounds <n>', 'timed calls per model', Number, 100)
  .option('--out <md>', 'Markdown report')
  .parse()
  .opts();

const logger = pino({ level: 'warn' });
const loaded: { dir: string; models: LoadedModels; times: number[] }[] = [];
for (const dir of opts.models as string[]) {
  loaded.push({ dir, models: await loadModels({ modelsDir: path.resolve(dir), providers: ['cpu'], batchSize: 32, logger, verify: false }), times: [] });
}

/** Feature maps like the embedder's (non-negative: they come out of a ReLU), seeded. */
function fakeEmbedding(m: LoadedModels, seed: number): ImageEmbedding {
  const next = seededRandom(seed);
  const [C, H, W] = m.info.featureShape;
  const vector = new Float32Array(m.info.dim).map(() => next() - 0.5);
  const norm = Math.hypot(...vector);
  return { vector: vector.map((x) => x / norm), features: new Float32Array(C * H * W).map(() => Math.max(0, next() - 0.3)) };
}

const inputs = loaded.map(({ models }) => ({
  query: fakeEmbedding(models, 1),
  shortlist: Array.from({ length: opts.candidates }, (_, i) => fakeEmbedding(models, i + 2)),
}));
for (const [k, { models }] of loaded.entries()) for (let i = 0; i < 5; i++) await models.score(inputs[k]!.query, inputs[k]!.shortlist);
for (let r = 0; r < opts.rounds; r++) {
  for (const [k, entry] of loaded.entries()) {
    const started = performance.now();
    await entry.models.score(inputs[k]!.query, inputs[k]!.shortlist);
    entry.times.push(performance.now() - started);
  }
}

const load = os.loadavg().map((v) => v.toFixed(2)).join(' / ');
const rows = loaded.map(({ dir, models, times }) => `| ${dir} | ${models.info.key} | ${percentile(times, 50).toFixed(1)} | ${percentile(times, 95).toFixed(1)} |`);
const report = [
  '# Scorer latency: one query against a shortlist',
  '',
  '```sh',
  `npx tsx bench/scorer-latency.ts ${process.argv.slice(2).join(' ')}`,
  '```',
  '',
  `${new Date().toISOString().slice(0, 16)}Z · ${os.cpus()[0]?.model.trim()} (${os.cpus().length} cores), Node ${process.version} · load average at the end ${load} · ${opts.candidates} candidates, ${opts.rounds} calls per model, interleaved`,
  '',
  '| models | key | p50 ms | p95 ms |',
  '|---|---|---|---|',
  ...rows,
  '',
].join('\n');
console.log(report);
if (opts.out) await writeFile(opts.out, report);
for (const { models } of loaded) await models.close();
