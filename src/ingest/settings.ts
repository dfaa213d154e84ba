// How an ingest runs: defaults from config, overridden per run (CLI flags, startIngest arguments).
import type { Config } from '../config.js';

export interface IngestSettings {
  concurrency: number;
  ratePerSecond: number;
  timeoutMs: number;
  retries: number;
  userAgent: string;
  batchSize: number;
  maxImageBytes: number;
  nearDuplicates: 'link' | 'skip';
}

export function ingestSettings(config: Config): IngestSettings {
  return {
    concurrency: config.INGEST_CONCURRENCY,
    ratePerSecond: config.INGEST_RATE_PER_SECOND,
    timeoutMs: config.INGEST_TIMEOUT_MS,
    retries: config.INGEST_RETRIES,
    userAgent: config.INGEST_USER_AGENT,
    batchSize: config.INGEST_BATCH_SIZE,
    maxImageBytes: config.INGEST_MAX_IMAGE_BYTES,
    nearDuplicates: config.NEAR_DUP_ACTION,
  };
}

/** The defaults with the settings a run gives (undefined: not given). */
export function withOverrides(defaults: IngestSettings, o: Partial<IngestSettings>): IngestSettings {
  const { concurrency, ratePerSecond, timeoutMs, retries, userAgent, batchSize, maxImageBytes, nearDuplicates } = o;
  const given = { concurrency, ratePerSecond, timeoutMs, retries, userAgent, batchSize, maxImageBytes, nearDuplicates };
  return { ...defaults, ...Object.fromEntries(Object.entries(given).filter(([, v]) => v !== undefined)) };
}
