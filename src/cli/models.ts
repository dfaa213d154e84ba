// npm run models -- list | register DIR | activate KEY | retire KEY: the model versions of the
// database (DATABASE_URL, or the embedded one under DATA_DIR). `register` waits while the catalog
// is re-embedded into the new model (progress on stderr); killed, it resumes with the same command
// or in a running service. With the embedded database, stop the service first (one process at a time).
import { Command } from 'commander';
import { pino } from 'pino';
import { ConfigError, loadConfig } from '../config.js';
import { AppError } from '../errors.js';
import type { ModelService } from '../models/model-service.js';
import type { ModelView } from '../models/views.js';
import { openCore } from '../service.js';

const program = new Command('models').description('Model versions: register a models folder, switch searches to it, retire old ones.');
program.command('list').description('every model version with its status and re-embedding progress').action(() => run((m) => m.list()));
program
  .command('register <dir>')
  .description('validate a models folder, record it and re-embed the catalog into it (waits until done)')
  .action((dir: string) =>
    run(async (m) => {
      const { key } = await m.register(dir);
      const outcome = await m.whenIndexed(key);
      if (outcome && outcome !== 'done') process.exitCode = 1;
      return (await m.list()).find((v) => v.key === key)!;
    }),
  );
program.command('activate <key>').description('make a ready model the one searches use').action((key: string) => run((m) => m.activate(key)));
program.command('retire <key>').description("delete a model's embeddings and index").action((key: string) => run((m) => m.retire(key)));

async function run(work: (models: ModelService) => Promise<ModelView | ModelView[]>): Promise<void> {
  const config = loadConfig({ LOG_LEVEL: 'info', ...process.env, DEMO_CATALOG: 'false' });
  const logger = pino({ level: config.LOG_LEVEL }, pino.destination(2));
  const core = await openCore(config, logger);
  // Stopping mid-way keeps what is embedded: the lease is given back and the same command resumes.
  const stop = () => void core.close().finally(() => process.exit(130));
  process.once('SIGINT', stop);
  process.once('SIGTERM', stop);
  try {
    process.stdout.write(`${JSON.stringify(await work(core.models), null, 2)}\n`);
  } finally {
    await core.close();
  }
}

try {
  await program.parseAsync();
} catch (error) {
  const known = error instanceof AppError || error instanceof ConfigError;
  const code = error instanceof AppError ? `${error.code}: ` : '';
  process.stderr.write(`models: ${known ? `${code}${(error as Error).message}` : ((error as Error).stack ?? String(error))}\n`);
  process.exitCode = error instanceof AppError ? 2 : 1;
}
