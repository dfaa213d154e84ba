// npm run ingest -- api <url> | folder <dir> | manifest <file> [options]: loads a catalog source
// into the database (DATABASE_URL, or the embedded one under DATA_DIR) with a progress bar and a
// final summary. A run killed or stopped part-way continues when started again with the same
// arguments. With the embedded database, stop the service first (one process at a time).
import { Command, InvalidArgumentError, Option } from 'commander';
import cliProgress from 'cli-progress';
import { pino } from 'pino';
import { ConfigError, loadConfig } from '../config.js';
import { AppError } from '../errors.js';
import type { IngestProgress, IngestRunOptions } from '../ingest/ingest-service.js';
import type { IngestSpecInput } from '../ingest/spec.js';
import { formatSummary } from '../ingest/summary.js';
import { openCore } from '../service.js';

const int = (value: string) => {
  const n = Number(value);
  if (!Number.isInteger(n) || n < 0) throw new InvalidArgumentError('expected a whole number');
  return n;
};
const num = (value: string) => {
  const n = Number(value);
  if (!Number.isFinite(n) || n < 0) throw new InvalidArgumentError('expected a number');
  return n;
};

interface CommonFlags {
  map?: string;
  source?: string;
  items?: string;
  pageSize?: number;
  prune?: boolean;
  nearDuplicates?: 'link' | 'skip';
  concurrency?: number;
  rate?: number;
  timeout?: number;
  retries?: number;
  userAgent?: string;
  batchSize?: number;
  json?: boolean;
  progress: boolean;
}

const program = new Command('ingest').description('Load a catalog source: scrape an API, a folder of images, or a manifest.');

function withCommonOptions(command: Command): Command {
  return command
    .option('--map <mapping>', 'record field per product field: id=…,title=…,image=…,category=…,colour=…,brand=…,price=…,currency=…,description=…,attr.<name>=…')
    .option('--source <name>', 'product source name (default: the host, folder or file name)')
    .option('--items <path>', 'path to the records in a JSON document, e.g. data.results.products')
    .option('--page-size <n>', 'records per page', int)
    .option('--prune', 'delete products of this source that it no longer lists')
    .addOption(new Option('--near-duplicates <action>', 'link near-duplicates to the image they resemble, or skip them').choices(['link', 'skip']))
    .option('--concurrency <n>', 'downloads and reads at once (INGEST_CONCURRENCY)', int)
    .option('--rate <n>', 'requests per second, 0 for no limit (INGEST_RATE_PER_SECOND)', num)
    .option('--timeout <ms>', 'per request (INGEST_TIMEOUT_MS)', int)
    .option('--retries <n>', 'on network errors, 5xx and 429 (INGEST_RETRIES)', int)
    .option('--user-agent <ua>', 'User-Agent header (INGEST_USER_AGENT)')
    .option('--batch-size <n>', 'items per transaction (INGEST_BATCH_SIZE)', int)
    .option('--json', 'print the summary as JSON')
    .option('--no-progress', 'no progress bar');
}

withCommonOptions(program.command('api <url>').description('a paginated JSON API: <url>?<page-param>=N&<size-param>=M'))
  .option('--page-param <name>', 'page number parameter', 'p')
  .option('--size-param <name>', 'page size parameter', 'rows')
  .option('--start-page <n>', 'first page number', int, 1)
  .option('--max-pages <n>', 'stop after this many pages', int)
  .action((url: string, o: CommonFlags & { pageParam: string; sizeParam: string; startPage: number; maxPages?: number }) =>
    ingest({ kind: 'api', url, pageParam: o.pageParam, sizeParam: o.sizeParam, startPage: o.startPage, maxPages: o.maxPages, ...specFlags(o) }, o),
  );

withCommonOptions(program.command('folder <dir>').description('images found recursively, with an optional CSV / JSON(L) sidecar'))
  .option('--meta <file>', 'product data, one row per product (e.g. styles.csv)')
  .action((dir: string, o: CommonFlags & { meta?: string }) => ingest({ kind: 'folder', dir, meta: o.meta, ...specFlags(o) }, o));

withCommonOptions(program.command('manifest <file>').description('CSV or JSON(L) rows with an image path or URL and product fields'))
  .action((file: string, o: CommonFlags) => ingest({ kind: 'manifest', file, ...specFlags(o) }, o));

function specFlags(o: CommonFlags) {
  return { map: o.map, source: o.source, itemsPath: o.items, pageSize: o.pageSize };
}

async function ingest(spec: IngestSpecInput, flags: CommonFlags): Promise<void> {
  const config = loadConfig({ LOG_LEVEL: 'warn', ...process.env });
  const logger = pino({ level: config.LOG_LEVEL }, pino.destination(2));
  const core = await openCore(config, logger);
  const stop = new AbortController();
  const onSignal = (signal: string) => {
    if (stop.signal.aborted) process.exit(130);
    process.stderr.write(`\n${signal}: stopping after the current batch (again to quit at once); the run resumes with the same command.\n`);
    stop.abort(new Error(`stopped by ${signal}`));
  };
  process.on('SIGINT', onSignal);
  process.on('SIGTERM', onSignal);
  const bar = flags.progress ? progressBar() : null;
  const options: IngestRunOptions = {
    prune: flags.prune,
    nearDuplicates: flags.nearDuplicates,
    concurrency: flags.concurrency,
    ratePerSecond: flags.rate,
    timeoutMs: flags.timeout,
    retries: flags.retries,
    userAgent: flags.userAgent,
    batchSize: flags.batchSize,
    signal: stop.signal,
    onProgress: bar?.update,
  };
  try {
    const report = await core.ingest.run(spec, options);
    bar?.stop();
    process.stdout.write(`${flags.json ? JSON.stringify(report, null, 2) : formatSummary(report)}\n`);
  } catch (error) {
    bar?.stop();
    process.exitCode = stop.signal.aborted ? 130 : 1;
    process.stderr.write(`ingest ${stop.signal.aborted ? 'stopped' : 'failed'}: ${(error as Error).message}\n`);
  } finally {
    await core.close();
  }
}

/** Items, rate and ETA on stderr (a line every few seconds when stderr is not a terminal). */
function progressBar() {
  let bar: cliProgress.SingleBar | undefined;
  let first: { at: number; items: number } | undefined;
  return {
    update(p: IngestProgress) {
      first ??= { at: Date.now(), items: p.itemsDone };
      const seconds = (Date.now() - first.at) / 1000;
      const payload = { rate: seconds > 0 ? ((p.itemsDone - first.items) / seconds).toFixed(1) : '0.0', page: p.pagesDone };
      if (!bar) {
        const known = p.itemsTotal !== null;
        bar = new cliProgress.SingleBar(
          {
            format: known
              ? ' {bar} {percentage}% | {value}/{total} items | {rate} items/s | ETA {eta_formatted} | pages {page}'
              : ' {value} items | {rate} items/s | pages {page} | {duration_formatted}',
            etaBuffer: 50,
            noTTYOutput: true,
            notTTYSchedule: 5000,
            stream: process.stderr,
          },
          cliProgress.Presets.shades_classic,
        );
        bar.start(p.itemsTotal ?? 0, p.itemsDone, payload);
      }
      bar.update(p.itemsDone, payload);
    },
    stop: () => bar?.stop(),
  };
}

try {
  await program.parseAsync();
} catch (error) {
  const known = error instanceof AppError || error instanceof ConfigError;
  process.stderr.write(`ingest: ${known ? (error as Error).message : ((error as Error).stack ?? String(error))}\n`);
  process.exitCode = 1;
}
