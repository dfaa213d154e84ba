// npm run adapt -- [--minutes N] [--out DIR] [--activate] [--max-steps N]: fine-tunes the active
// model on the photos of the catalog in the database (DATABASE_URL, or the embedded one under
// DATA_DIR) in a child process and writes a complete models folder. Stopped or killed, it resumes
// when run again with the same budget on the same catalog. With the embedded database, stop the
// service first (one process at a time).
import { Command, InvalidArgumentError } from 'commander';
import { pino } from 'pino';
import { ConfigError, loadConfig } from '../config.js';
import { AppError } from '../errors.js';
import { openCore } from '../service.js';

const int = (value: string) => {
  const n = Number(value);
  if (!Number.isInteger(n) || n < 0) throw new InvalidArgumentError('expected a whole number');
  return n;
};
const PROGRESS_EVERY_MS = 10_000;

const program = new Command('adapt')
  .description('Fine-tune the active model on the catalog’s own photos and write a models folder.')
  .option('--minutes <n>', 'training time budget', int, 30)
  .option('--out <dir>', 'models folder to write (default: DATA_DIR/models/<name>-<version>)')
  .option('--activate', 'register the new model and switch to it once it is indexed')
  .option('--max-steps <n>', 'cap on training steps per stage besides the budget (ADAPT_MAX_STEPS)', int)
  .option('--verbose', 'print the training process’s own log lines')
  .action(adapt);

async function adapt(o: { minutes: number; out?: string; activate?: boolean; maxSteps?: number; verbose?: boolean }): Promise<void> {
  const config = loadConfig({ LOG_LEVEL: 'warn', ...process.env, ...(o.maxSteps !== undefined && { ADAPT_MAX_STEPS: String(o.maxSteps) }) });
  const logger = pino({ level: config.LOG_LEVEL }, pino.destination(2));
  const core = await openCore(config, logger);
  let stopping = false;
  const onSignal = (signal: string) => {
    if (stopping) process.exit(130);
    stopping = true;
    process.stderr.write(`\n${signal}: stopping (again to quit at once); the same command resumes from the last checkpoint.\n`);
    void core.adaptation.close();
  };
  process.on('SIGINT', onSignal);
  process.on('SIGTERM', onSignal);
  let last = 0;
  try {
    const job = await core.adaptation.run(o.minutes, {
      out: o.out,
      activate: o.activate,
      command: `npm run adapt -- ${process.argv.slice(2).join(' ')}`.trim(),
      onProgress: (p) => {
        if (Date.now() - last < PROGRESS_EVERY_MS) return;
        last = Date.now();
        process.stderr.write(`${(p.progress * 100).toFixed(0).padStart(3)} % ${p.stage} step ${p.step}, loss ${p.loss.toFixed(3)}, ${Math.round(p.elapsed)} s\n`);
      },
      onLine: o.verbose ? (line) => process.stderr.write(`  ${line}\n`) : undefined,
    });
    process.stdout.write(`${job.status}: ${job.message}\n`);
    process.exitCode = job.status === 'succeeded' ? 0 : job.status === 'interrupted' ? 130 : 1;
  } finally {
    await core.close();
  }
}

try {
  await program.parseAsync();
} catch (error) {
  const known = error instanceof AppError || error instanceof ConfigError;
  process.stderr.write(`adapt: ${known ? (error as Error).message : ((error as Error).stack ?? String(error))}\n`);
  process.exitCode = 1;
}
