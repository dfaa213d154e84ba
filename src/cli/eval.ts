// npm run eval -- --catalog <styles.csv | folder> [--models DIR] [--queries q.csv] [--distort n --seed s]
//   [--attributes a,b] [--shopper labels.csv --label-map map.json] [--methods …] --out report.json [--md report.md]
// Evaluates search quality and speed on a catalog; see src/eval/run-evaluation.ts.
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import cliProgress from 'cli-progress';
import { Command, InvalidArgumentError, Option } from 'commander';
import { pino } from 'pino';
import { ConfigError } from '../config.js';
import { AppError } from '../errors.js';
import { METHODS, type MethodName } from '../eval/methods.js';
import { runEvaluation, type EvalPhase } from '../eval/run-evaluation.js';
import { writeReports } from '../eval/write-report.js';

const int = (v: string) => {
  if (!/^\d+$/.test(v)) throw new InvalidArgumentError('expected a whole number');
  return Number(v);
};
const fraction = (v: string) => {
  const n = Number(v);
  if (!(n >= 0 && n <= 1)) throw new InvalidArgumentError('expected a number from 0 to 1');
  return n;
};
const list = (v: string) => v.split(',').map((s) => s.trim()).filter(Boolean);
const methods = (v: string): MethodName[] => {
  const names = list(v);
  const bad = names.filter((n) => !(METHODS as readonly string[]).includes(n));
  if (bad.length || names.length === 0) throw new InvalidArgumentError(`methods are ${METHODS.join(', ')}`);
  return names as MethodName[];
};

const program = new Command('eval')
  .description('Measure search quality and speed on a catalog: every method side by side, in one run.')
  .requiredOption('--catalog <path>', 'catalog listing (CSV / JSON(L) with an image path per row) or a folder of images')
  .option('--models <dir>', 'the models folder to evaluate (default: MODELS_DIR): the shipped and an adapted model, side by side')
  .option('--map <mapping>', 'listing field per product field, as for npm run ingest: id=…,title=…,image=…,category=…,colour=…')
  .option('--queries <csv>', 'exact-product queries: query_path,expected_id (ids separated by |)')
  .option('--distort <n>', 'make n exact-product queries from catalog photos with photo-like distortions', int)
  .option('--seed <s>', 'seed for the sampled products and the distortions', int, 1)
  .option('--strength <x>', 'distortion strength, 0 (JPEG only) to 1 (photo-like)', fraction, 1)
  .option('--attributes <names>', 'similar products: share of neighbours with the same value of each attribute', list, [])
  .option('--attribute-sample <n>', 'catalog products judged for --attributes', int, 1000)
  .option('--shopper <labels.csv>', 'labelled shopper photos: path,label[,split]')
  .option('--label-map <map.json>', 'shopper label → accepted catalog attribute values (e.g. bench/clothing-cc0-label-map.json)')
  .option('--shopper-splits <names>', 'splits of --shopper to search', list, ['validation', 'test'])
  .option('--methods <names>', `methods to compare (${METHODS.join(', ')})`, methods, [...METHODS])
  .option('--candidates <n>', 'shortlist the pairwise scorer re-ranks (ann+rerank)', int, 50)
  .option('--data-dir <dir>', 'evaluation database folder, reused when it holds the same catalog and model (default: a temporary one)')
  .requiredOption('--out <report.json>', 'JSON report')
  .option('--md <report.md>', 'Markdown report, with a recall@k chart (PNG) beside it')
  .addOption(new Option('--no-progress', 'no progress bar'))
  .action(main);

interface Flags {
  catalog: string;
  models?: string;
  map?: string;
  queries?: string;
  distort?: number;
  seed: number;
  strength: number;
  attributes: string[];
  attributeSample: number;
  shopper?: string;
  labelMap?: string;
  shopperSplits: string[];
  methods: MethodName[];
  candidates: number;
  dataDir?: string;
  out: string;
  md?: string;
  progress: boolean;
}

async function main(o: Flags) {
  if (o.shopper && !o.labelMap) throw new InvalidArgumentError('--shopper needs --label-map');
  if (!o.queries && !o.distort && o.attributes.length === 0 && !o.shopper) {
    throw new InvalidArgumentError('nothing to measure: give --queries, --distort, --attributes or --shopper');
  }
  const logger = pino({ level: process.env.LOG_LEVEL ?? 'warn' }, pino.destination(2));
  const dataDir = o.dataDir ? path.resolve(o.dataDir) : await mkdtemp(path.join(tmpdir(), 'vps-eval-'));
  const bar = o.progress ? progressBar() : null;
  try {
    const report = await runEvaluation(
      {
        catalog: o.catalog,
        map: o.map,
        dataDir,
        queries: o.queries,
        distort: o.distort,
        seed: o.seed,
        strength: o.strength,
        attributes: o.attributes,
        attributeSample: o.attributeSample,
        shopper: o.shopper && o.labelMap ? { labels: o.shopper, labelMap: o.labelMap, splits: o.shopperSplits } : undefined,
        methods: o.methods,
        k: 10,
        candidates: o.candidates,
        command: ['npm run eval --', ...process.argv.slice(2).map(quote)].join(' '),
      },
      { env: o.models ? { ...process.env, MODELS_DIR: path.resolve(o.models) } : process.env, logger, onProgress: bar?.update },
    );
    bar?.stop();
    const files = await writeReports(report, { json: o.out, markdown: o.md });
    process.stdout.write(`${files.join('\n')}\n`);
  } finally {
    bar?.stop();
    if (!o.dataDir) await rm(dataDir, { recursive: true, force: true });
  }
}

const quote = (arg: string) => (/^[\w@%+=:,./-]+$/.test(arg) ? arg : `'${arg.replace(/'/g, `'\\''`)}'`);

/** One bar per phase on stderr (a line every few seconds when stderr is not a terminal). */
function progressBar() {
  let bar: cliProgress.SingleBar | undefined;
  let current: EvalPhase | undefined;
  return {
    update(phase: EvalPhase, done: number, total: number) {
      if (phase !== current) {
        bar?.stop();
        current = phase;
        bar = new cliProgress.SingleBar(
          { format: ` ${phase.padEnd(10)} {bar} {percentage}% | {value}/{total} | ETA {eta_formatted}`, noTTYOutput: true, notTTYSchedule: 10_000, stream: process.stderr },
          cliProgress.Presets.shades_classic,
        );
        bar.start(total, done);
      }
      bar!.setTotal(total);
      bar!.update(done);
    },
    stop() {
      bar?.stop();
      bar = undefined;
    },
  };
}

try {
  await program.parseAsync();
} catch (error) {
  const known = error instanceof AppError || error instanceof ConfigError || error instanceof InvalidArgumentError;
  process.stderr.write(`eval: ${known ? (error as Error).message : ((error as Error).stack ?? String(error))}\n`);
  process.exitCode = 1;
}
