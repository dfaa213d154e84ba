import 'reflect-metadata';
import { pino } from 'pino';
import { ConfigError, loadConfig } from './config.js';
import { startService } from './service.js';

const logger = pino({ level: process.env.LOG_LEVEL ?? 'info' });

try {
  const config = loadConfig();
  const service = await startService(config, logger);
  logger.info(`Ready: page ${service.url}/  ·  GraphiQL ${service.url}/graphiql  ·  API ${service.url}/graphql`);
  const stop = async (signal: string) => {
    logger.info({ signal }, 'shutting down');
    await service.close();
    process.exit(0);
  };
  process.once('SIGINT', stop);
  process.once('SIGTERM', stop);
} catch (error) {
  if (error instanceof ConfigError) logger.fatal(error.message);
  else logger.fatal({ err: error }, 'the service could not start');
  process.exit(1);
}
