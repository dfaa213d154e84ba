import 'reflect-metadata';
import { pino } from 'pino';
import { ConfigError, loadConfig } from './config.js';
import { startService } from './service.js';

const logger = pino({ level: process.env.LOG_LEVEL ?? 'info' });

try {
  const config = loadConfig();
  const service = await startService(config, logger);
  logger.info(`Ready: page ${service.url}/  ·  GraphiQL ${service.url}/graphiql  ·  API ${service.url}/graphql`);
  // Stop accepting, let requests in flight finish (SHUTDOWN_TIMEOUT_MS at most), close the
  // database and the model sessions, exit 0. A second signal during that exits at once.
  const stop = async (signal: string) => {
    logger.info({ signal }, 'shutting down');
    try {
      await service.close();
      logger.info('stopped');
      process.exit(0);
    } catch (error) {
      logger.error({ err: error }, 'shutdown failed');
      process.exit(1);
    }
  };
  process.once('SIGINT', stop);
  process.once('SIGTERM', stop);
} catch (error) {
  if (error instanceof ConfigError) logger.fatal(error.message);
  else logger.fatal({ err: error }, 'the service could not start');
  process.exit(1);
}
