// Models the catalog holds embeddings for: registration (a vector_models row and the model's
// partial HNSW index, DDL included) and what the index looks like. The embedding column is an
// untyped `vector`; each model's rows are indexed and searched through the same expression,
// (embedding::vector(DIM)) or, with halfvec storage, (embedding::halfvec(DIM)), restricted to
// model_key = '<key>', so the planner matches the index.
import { createHash } from 'node:crypto';
import type pino from 'pino';
import type { Queryable, Scope } from './scope.js';
import type { VectorModel } from './types.js';

export const METRICS = {
  l2: { operator: '<->', ops: 'l2_ops' },
  cosine: { operator: '<=>', ops: 'cosine_ops' },
  ip: { operator: '<#>', ops: 'ip_ops' },
} as const;

/**
 * How the HNSW indexes hold and compare embeddings (VECTOR_STORAGE): `vector` (4-byte floats) or
 * `halfvec` (2-byte floats: a smaller index, the same recall on 128-d embeddings,
 * bench/results/ann-scale.md). The column keeps the full vectors either way, so switching back
 * and forth only rebuilds indexes (syncIndexes).
 */
export const VECTOR_STORAGES = ['vector', 'halfvec'] as const;
export type VectorStorage = (typeof VECTOR_STORAGES)[number];

/** The type embeddings are cast to in the index expression and in every search. */
export const storedType = (storage: VectorStorage, dim: number) => `${storage}(${dim})`;

/** HNSW build parameters of every model index. */
export const HNSW_M = 16;
export const HNSW_EF_CONSTRUCTION = 64;
/** pgvector's HNSW dimension limits. */
export const MAX_INDEXED_DIM: Record<VectorStorage, number> = { vector: 2000, halfvec: 4000 };
/** pg_advisory_xact_lock key serialising model registration (and its CREATE INDEX). */
export const VECTOR_MODEL_LOCK_KEY = 1986065201;

// Keys reach the index predicate as an escaped literal; no control characters or backslashes.
// eslint-disable-next-line no-control-regex -- rejecting control characters is the point
const KEY_PATTERN = /^[^\x00-\x1f\x7f\\]{1,200}$/;

export class VectorModelError extends Error {}

export function validateModel(model: VectorModel, storage: VectorStorage): void {
  if (!KEY_PATTERN.test(model.key)) {
    throw new VectorModelError(
      `vector model key ${JSON.stringify(model.key)} must be 1-200 characters, without control characters or backslashes`,
    );
  }
  if (!Number.isInteger(model.dim) || model.dim < 1 || model.dim > MAX_INDEXED_DIM[storage]) {
    throw new VectorModelError(`vector model ${model.key}: dim must be an integer in 1..${MAX_INDEXED_DIM[storage]} (${storage}), got ${model.dim}`);
  }
  if (!(model.metric in METRICS)) {
    throw new VectorModelError(`vector model ${model.key}: metric must be l2, cosine or ip, got ${String(model.metric)}`);
  }
}

/** A stable, safe identifier for a model's index (keys may hold characters SQL names can't). */
export function indexName(key: string, storage: VectorStorage): string {
  const name = `image_embeddings_hnsw_${createHash('sha256').update(key).digest('hex').slice(0, 16)}`;
  return storage === 'vector' ? name : `${name}_${storage}`;
}

const sqlLiteral = (s: string) => `'${s.replace(/'/g, "''")}'`;

export function indexDdl(model: VectorModel, storage: VectorStorage): string {
  return (
    `CREATE INDEX IF NOT EXISTS ${indexName(model.key, storage)} ON image_embeddings ` +
    `USING hnsw ((embedding::${storedType(storage, model.dim)}) ${storage}_${METRICS[model.metric].ops}) ` +
    `WITH (m = ${HNSW_M}, ef_construction = ${HNSW_EF_CONSTRUCTION}) ` +
    `WHERE model_key = ${sqlLiteral(model.key)}`
  );
}

export interface IndexInfo {
  name: string;
  m: number;
  efConstruction: number;
  efSearch: number;
}

export interface RegisteredModel {
  key: string;
  name: string;
  version: string;
  dim: number;
  metric: string;
}

export interface VectorModelRepository {
  /** Registers a model and creates its HNSW index if missing. */
  ensure(model: VectorModel): Promise<void>;
  /** HNSW parameters of a model's index (for catalogStats); null when it has none. */
  indexInfo(model: VectorModel): Promise<IndexInfo | null>;
  /** Every registered model, by key. */
  list(): Promise<RegisteredModel[]>;
}

export function vectorModelRepository(scope: Scope, storage: VectorStorage, efSearch: number, logger: pino.Logger): VectorModelRepository {
  const check = async (q: Queryable, model: VectorModel) => {
    const [row] = await q.$queryRaw<{ dim: number; metric: string; indexed: boolean }[]>`
      SELECT dim, metric, to_regclass(${indexName(model.key, storage)}) IS NOT NULL AS indexed
      FROM vector_models WHERE key = ${model.key}`;
    if (row && (row.dim !== model.dim || row.metric !== model.metric)) {
      throw new VectorModelError(
        `vector model ${model.key} is registered with dim ${row.dim} and metric ${row.metric}, ` +
          `not dim ${model.dim} and metric ${model.metric}: give a changed model a new key`,
      );
    }
    return row;
  };

  return {
    async ensure(model) {
      validateModel(model, storage);
      if ((await check(scope.q, model))?.indexed) return;
      const started = Date.now();
      await scope.atomic(
        async (tx) => {
          await tx.$executeRaw`SELECT pg_advisory_xact_lock(${VECTOR_MODEL_LOCK_KEY}::bigint)`;
          const row = await check(tx, model);
          if (!row) {
            await tx.$executeRaw`
              INSERT INTO vector_models (key, name, version, dim, metric)
              VALUES (${model.key}, ${model.name ?? model.key}, ${model.version ?? ''}, ${model.dim}, ${model.metric})
              ON CONFLICT (key) DO NOTHING`;
          }
          await tx.$executeRawUnsafe(indexDdl(model, storage));
        },
        // Building the index over existing rows can take a while; the lock makes others wait.
        { maxWait: 60_000, timeout: 30 * 60_000 },
      );
      logger.info({ model: model.key, dim: model.dim, metric: model.metric, index: indexName(model.key, storage), ms: Date.now() - started }, 'vector model registered');
    },

    async indexInfo(model) {
      const name = indexName(model.key, storage);
      const [row] = await scope.q.$queryRaw<{ reloptions: string[] | null }[]>`
        SELECT c.reloptions FROM pg_class c WHERE c.oid = to_regclass(${name})`;
      if (!row) return null;
      const opts = new Map((row.reloptions ?? []).map((o) => o.split('=') as [string, string]));
      return {
        name,
        m: Number(opts.get('m') ?? 16),
        efConstruction: Number(opts.get('ef_construction') ?? 64),
        efSearch,
      };
    },

    list: () =>
      scope.q.vectorModel.findMany({ orderBy: { key: 'asc' }, select: { key: true, name: true, version: true, dim: true, metric: true } }),
  };
}
