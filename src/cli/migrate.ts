// npm run db:migrate: applies pending SQL migrations to DATABASE_URL (or the embedded database).
import pino from 'pino';
import { loadConfig } from '../config.js';
import { openDatabase } from '../db/index.js';

const config = loadConfig();
const logger = pino({ level: config.LOG_LEVEL });
const db = await openDatabase({ url: config.DATABASE_URL, dataDir: config.DATA_DIR, efSearch: config.HNSW_EF_SEARCH, logger });
try {
  const applied = await db.migrate();
  logger.info({ applied }, applied.length ? `applied ${applied.length} migration(s)` : 'database already up to date');
} finally {
  await db.close();
}
