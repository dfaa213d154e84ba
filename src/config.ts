import { availableParallelism } from 'node:os';
import { z } from 'zod';
import { VECTOR_STORAGES } from './db/vector-models.js';

// Every setting the service reads, from the environment, validated once at start-up.
const bool = z
  .enum(['true', 'false', '1', '0', 'yes', 'no'])
  .transform((v) => v === 'true' || v === '1' || v === 'yes');

const schema = z.object({
  PORT: z.coerce.number().int().min(0).max(65535).default(4000),
  HOST: z.string().default('0.0.0.0'),
  PUBLIC_URL: z.url().optional(),
  DATABASE_URL: z.string().min(1).optional(),
  // Hot standbys of DATABASE_URL (comma-separated): searches and catalog reads go there.
  DATABASE_REPLICA_URLS: z
    .string()
    .default('')
    .transform((s) => s.split(',').map((u) => u.trim()).filter(Boolean))
    .pipe(z.array(z.string().regex(/^postgres(ql)?:\/\//, 'each must be a postgresql:// URL'))),
  DATA_DIR: z.string().default('./data'),
  MODELS_DIR: z.string().default('./models'),
  ML_PROVIDERS: z
    .string()
    .default('cuda,cpu')
    .transform((s) => s.split(',').map((p) => p.trim()).filter(Boolean))
    .pipe(z.array(z.enum(['webgpu', 'cuda', 'cpu'])).min(1)),
  ML_BATCH_SIZE: z.coerce.number().int().min(1).max(512).default(32),
  // onnxruntime intra-op threads per session (0: one per core, at most 8).
  ML_THREADS: z.coerce.number().int().min(0).max(64).default(0),
  // Worker threads that decode, preprocess and embed images, so that the event loop keeps serving
  // while a model runs (0: on the event loop). One per core but the event loop's own, at most 4.
  ML_WORKERS: z.coerce.number().int().min(0).max(32).default(Math.min(4, availableParallelism() - 1)),
  UPLOAD_MAX_BYTES: z.coerce.number().int().min(1024).default(10 * 1024 * 1024),
  UPLOAD_MAX_FILES: z.coerce.number().int().min(1).max(100).default(10),
  // Uploaded files are held in memory while their request runs: this many MB over all requests at
  // once; past it an upload is refused OVERLOADED (503) until others finish.
  UPLOAD_MEMORY_MB: z.coerce.number().min(1).max(100_000).default(256),
  IMAGE_MAX_PIXELS: z.coerce.number().int().min(1).default(40_000_000),
  // Width and height bound the work too: a 39,000,000 × 1 PNG is within the pixel limit.
  IMAGE_MAX_SIDE: z.coerce.number().int().min(64).default(12_000),
  IMAGE_MAX_ASPECT_RATIO: z.coerce.number().min(1).default(20),
  IMAGE_URL_TIMEOUT_MS: z.coerce.number().int().min(100).default(10_000),
  // Lets imageUrl reach loopback and private addresses; off by default (request forgery guard).
  IMAGE_URL_ALLOW_PRIVATE: bool.default(false),
  ADMIN_API_KEY: z.string().min(16).optional(),
  SEARCH_TTL_HOURS: z.coerce.number().min(0.01).default(24),
  SEARCH_PRUNE_INTERVAL_MINUTES: z.coerce.number().min(0.01).default(60),
  // Recent searches held in memory for rerankSearch (73 KB each with 2.5.0 and 2.6.0); older ones are read
  // from the database. A memory budget, not a count: a model with larger features holds fewer.
  SEARCH_MEMORY_MB: z.coerce.number().min(0.01).max(100_000).default(16),
  // Hardening (issue 13): bounded work per request, load shedding, rate limits, timeouts.
  QUERY_MAX_COST: z.coerce.number().int().min(1).default(5000),
  QUERY_MAX_SEARCHES: z.coerce.number().int().min(1).max(100).default(4),
  // Searches at once, and as many waiting (each for SEARCH_MAX_QUEUE_WAIT_MS at most): one per
  // core. A search's CPU work (decoding, preprocessing, the embedder's run) is on the event loop's
  // thread or fills the cores; more at once only wait behind each other and slow every admitted
  // search. Measured with 4x overload on Postgres: 8 per core,
  // admitted p99 7.8 s; 2 per core, 220 ms; 1 per core, 123 ms, at the same throughput (bench/results/attack.md).
  SEARCH_MAX_CONCURRENT: z.coerce.number().int().min(1).max(256).default(availableParallelism()),
  SEARCH_MAX_QUEUE: z.coerce.number().int().min(0).max(10_000).default(availableParallelism()),
  SEARCH_MAX_QUEUE_WAIT_MS: z.coerce.number().int().min(1).default(500),
  RATE_LIMIT_PER_MINUTE: z.coerce.number().int().min(0).default(300),
  // Behind a load balancer the connecting address is the balancer's: trust this many proxy hops (or
  // these proxy addresses/subnets) for the client address in X-Forwarded-For, so that rate limits
  // count shoppers. Never `true`: then any client could claim any address.
  TRUST_PROXY: z
    .string()
    .default('false')
    .refine((v) => v !== 'true', 'TRUST_PROXY=true would let any client choose its address: give a hop count or proxy addresses')
    .transform((v): false | number | string => (['false', '0', 'no'].includes(v) ? false : /^\d+$/.test(v) ? Number(v) : v)),
  REQUEST_TIMEOUT_MS: z.coerce.number().int().min(1000).default(30_000),
  SHUTDOWN_TIMEOUT_MS: z.coerce.number().int().min(0).default(10_000),
  // Search the product's region of a shopper photo when the request names none (measured: no gain
  // on the shopper-photo set with the shipped model, so off; bench/results/auto-region.md).
  AUTO_REGION: bool.default(false),
  HNSW_EF_SEARCH: z.coerce.number().int().min(1).max(1000).default(100),
  // halfvec: HNSW indexes of 2-byte floats, 68 % of the size at the same recall on 128-d
  // embeddings (bench/results/ann-scale.md); changing it rebuilds the indexes at start-up.
  VECTOR_STORAGE: z.enum(VECTOR_STORAGES).default('vector'),
  // Model versions (src/models): re-embedding a registered model's catalog in small batches with a
  // pause after each, so that searches keep their latency (bench/results/reembed-latency.md); how
  // often a process picks up another one's activation and resumes orphaned re-embeddings.
  REEMBED_BATCH_SIZE: z.coerce.number().int().min(1).max(512).default(16),
  REEMBED_PAUSE_MS: z.coerce.number().int().min(0).max(60_000).default(50),
  REEMBED_PAUSE_FACTOR: z.coerce.number().min(0).max(100).default(2),
  MODEL_POLL_MS: z.coerce.number().int().min(100).default(5000),
  // Which demo catalog an empty catalog gets: real photos (true, the default), the drawn tops
  // (drawn: the tests' catalog), or none (false).
  DEMO_CATALOG: z
    .enum(['photos', 'drawn', 'true', 'false', '1', '0', 'yes', 'no'])
    .default('photos')
    .transform((v) => (v === 'drawn' ? 'drawn' : ['false', '0', 'no'].includes(v) ? 'none' : 'photos')),
  // Catalog ingest (src/ingest): politeness towards a store's API, batching, near-duplicates.
  INGEST_CONCURRENCY: z.coerce.number().int().min(1).max(64).default(4),
  INGEST_RATE_PER_SECOND: z.coerce.number().min(0).default(10),
  INGEST_TIMEOUT_MS: z.coerce.number().int().min(100).default(15_000),
  INGEST_RETRIES: z.coerce.number().int().min(0).max(20).default(4),
  INGEST_USER_AGENT: z.string().min(1).default('visual-product-search-ingest/0.1'),
  INGEST_BATCH_SIZE: z.coerce.number().int().min(1).max(1000).default(32),
  INGEST_MAX_IMAGE_BYTES: z.coerce.number().int().min(1024).default(25 * 1024 * 1024),
  NEAR_DUP_ACTION: z.enum(['link', 'skip']).default('link'),
  NEAR_DUP_MAX_HAMMING: z.coerce.number().int().min(0).max(64).default(16),
  NEAR_DUP_MAX_DISTANCE: z.coerce.number().min(0).default(0.12),
  // Catalog adaptation (src/adapt): a cap on training steps per stage besides the time budget (0:
  // none; smoke runs), and how much lower the training process's CPU priority is than the service's.
  ADAPT_MAX_STEPS: z.coerce.number().int().min(0).default(0),
  ADAPT_NICE: z.coerce.number().int().min(0).max(19).default(10),
  LOG_LEVEL: z.enum(['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent']).default('info'),
});

export type Config = z.infer<typeof schema>;

/** Every environment variable the service reads; the README's settings table lists each (tests/docs.readme.test.ts). */
export const CONFIG_VARIABLES = Object.keys(schema.shape) as (keyof Config)[];

/** The limits an image must keep to be decoded (src/images validateImage). */
export function imageLimits(config: Config): { maxPixels: number; maxSide: number; maxAspectRatio: number } {
  return { maxPixels: config.IMAGE_MAX_PIXELS, maxSide: config.IMAGE_MAX_SIDE, maxAspectRatio: config.IMAGE_MAX_ASPECT_RATIO };
}

export class ConfigError extends Error {}

export function loadConfig(env: NodeJS.ProcessEnv = process.env): Config {
  const parsed = schema.safeParse(Object.fromEntries(Object.entries(env).filter(([, v]) => v !== '')));
  if (!parsed.success) {
    const lines = parsed.error.issues.map((i) => `  ${i.path.join('.')}: ${i.message}`);
    throw new ConfigError(`Invalid configuration:\n${lines.join('\n')}`);
  }
  return parsed.data;
}
