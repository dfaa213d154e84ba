// Model versions: a model's status (indexing → ready → active → retired), the folder it loads
// from, the images it still lacks, and the lease of the process re-embedding the catalog into it.
// Status changes run under the same advisory lock as registration (vector-models.ts), so that
// activation, retirement and index DDL never interleave.
import type { Prisma } from '../../generated/prisma/client.js';
import type { Queryable, Scope } from './scope.js';
import type { VectorModel } from './types.js';
import { indexDdl, indexName, validateModel, VECTOR_MODEL_LOCK_KEY, VECTOR_STORAGES, VectorModelError, type VectorStorage } from './vector-models.js';

export type ModelStatus = 'indexing' | 'ready' | 'active' | 'retired';

export interface ModelRow {
  key: string;
  name: string;
  version: string;
  dim: number;
  metric: VectorModel['metric'];
  status: ModelStatus;
  path: string | null;
  embedderSha256: string | null;
  training: Record<string, unknown> | null;
  createdAt: Date;
  activatedAt: Date | null;
  reembedOwner: string | null;
  reembedHeartbeatAt: Date | null;
}

export interface NewModel extends Required<VectorModel> {
  status: 'indexing' | 'active';
  path: string;
  embedderSha256: string;
  training: Record<string, unknown> | null;
}

/** Why activation was refused: the model's status, and how many catalog images it still lacks. */
export type ActivateOutcome = { ok: true } | { ok: false; status: ModelStatus; missing: number };

export interface ModelVersionRepository {
  /** Every model, oldest first, with how many embeddings each holds. */
  list(): Promise<(ModelRow & { imagesEmbedded: number })[]>;
  /** Every model, oldest first, without counting (cheap enough to poll). */
  rows(): Promise<ModelRow[]>;
  get(key: string): Promise<ModelRow | null>;
  /** The active model's row (null on a fresh database). */
  active(): Promise<ModelRow | null>;
  /** Records a new model, or puts a retired one back to indexing, and creates its HNSW index. */
  add(model: NewModel): Promise<ModelRow>;
  /**
   * Gives every model that is not retired its index for this storage and drops its index for the
   * other one (VECTOR_STORAGE changed since it was built); the index names created and dropped.
   */
  syncIndexes(): Promise<{ created: string[]; dropped: string[] }>;
  /** Fills in the folder of a model registered before model versions (its row has no path). */
  adopt(key: string, fields: { path: string; embedderSha256: string; training: Record<string, unknown> | null }): Promise<void>;
  /**
   * Makes a ready model the active one (the active one becomes ready) in one transaction; a ready
   * model that lacks images (added meanwhile by a process that did not know it) goes back to indexing.
   */
  activate(key: string): Promise<ActivateOutcome>;
  /** Deletes a model's embeddings and its index and marks it retired; false if it is active. */
  retire(key: string): Promise<boolean>;
  /** Catalog images without an embedding under the model, by id after `afterId`. */
  missing(key: string, limit: number, afterId: string | null): Promise<{ id: string; mediaPath: string }[]>;
  countMissing(key: string): Promise<number>;
  /** Takes the re-embedding lease if it is held by `expectedOwner` (null: free); true if taken. */
  claimReembed(key: string, owner: string, expectedOwner: string | null): Promise<boolean>;
  /** Renews the lease; false when this owner no longer holds it (or the model was retired). */
  heartbeat(key: string, owner: string): Promise<boolean>;
  /** Gives the lease back; `ready: true` also moves an indexing model to ready. */
  releaseReembed(key: string, owner: string, ready: boolean): Promise<void>;
}

const COLUMNS = `key, name, version, dim, metric, status, path, embedder_sha256 AS "embedderSha256", training,
  created_at AS "createdAt", activated_at AS "activatedAt", reembed_owner AS "reembedOwner", reembed_heartbeat_at AS "reembedHeartbeatAt"`;

const LOCKED = { maxWait: 60_000, timeout: 30 * 60_000 };

export function modelVersionRepository(scope: Scope, storage: VectorStorage): ModelVersionRepository {
  const q = () => scope.q;
  const select = async (where: string, ...params: unknown[]) =>
    q().$queryRawUnsafe<ModelRow[]>(`SELECT ${COLUMNS} FROM vector_models ${where}`, ...params);
  const lock = (tx: Prisma.TransactionClient) => tx.$executeRaw`SELECT pg_advisory_xact_lock(${VECTOR_MODEL_LOCK_KEY}::bigint)`;
  const countMissing = async (tx: Queryable, key: string) => {
    const [row] = await tx.$queryRaw<{ n: number }[]>`
      SELECT count(*)::int AS n FROM product_images i
      WHERE NOT EXISTS (SELECT 1 FROM image_embeddings e WHERE e.image_id = i.id AND e.model_key = ${key})`;
    return row!.n;
  };

  return {
    async list() {
      return q().$queryRawUnsafe<(ModelRow & { imagesEmbedded: number })[]>(
        `SELECT ${COLUMNS}, (SELECT count(*)::int FROM image_embeddings e WHERE e.model_key = m.key) AS "imagesEmbedded"
         FROM vector_models m ORDER BY created_at, key`,
      );
    },

    rows: () => select('ORDER BY created_at, key'),
    get: async (key) => (await select('WHERE key = $1', key))[0] ?? null,
    active: async () => (await select(`WHERE status = 'active'`))[0] ?? null,

    async add(model) {
      validateModel(model, storage);
      await scope.atomic(async (tx) => {
        await lock(tx);
        const [row] = await tx.$queryRaw<{ dim: number; metric: string; status: string }[]>`
          SELECT dim, metric, status FROM vector_models WHERE key = ${model.key}`;
        if (row && (row.dim !== model.dim || row.metric !== model.metric)) {
          throw new VectorModelError(`vector model ${model.key} is registered with dim ${row.dim} and metric ${row.metric}`);
        }
        if (!row) {
          await tx.$executeRaw`
            INSERT INTO vector_models (key, name, version, dim, metric, status, path, embedder_sha256, training, activated_at)
            VALUES (${model.key}, ${model.name}, ${model.version}, ${model.dim}, ${model.metric}, ${model.status}, ${model.path},
                    ${model.embedderSha256}, ${JSON.stringify(model.training)}::jsonb,
                    ${model.status === 'active' ? new Date() : null})`;
        } else if (row.status === 'retired') {
          await tx.$executeRaw`UPDATE vector_models SET status = 'indexing', path = ${model.path} WHERE key = ${model.key}`;
        }
        await tx.$executeRawUnsafe(indexDdl(model, storage));
      }, LOCKED);
      return (await select('WHERE key = $1', model.key))[0]!;
    },

    async syncIndexes() {
      // What to change, read without the lock: a start-up with nothing to change must not wait on
      // another process's registration (its CREATE INDEX holds the lock for minutes at scale).
      const changes = async (tx: Queryable) => {
        const live = await tx.$queryRaw<VectorModel[]>`SELECT key, dim, metric FROM vector_models WHERE status <> 'retired' ORDER BY key`;
        const names = await tx.$queryRaw<{ name: string }[]>`SELECT indexname AS name FROM pg_indexes WHERE tablename = 'image_embeddings'`;
        const present = new Set(names.map((r) => r.name));
        return {
          create: live.filter((m) => !present.has(indexName(m.key, storage))),
          drop: live.flatMap((m) => VECTOR_STORAGES.filter((s) => s !== storage).map((s) => indexName(m.key, s))).filter((n) => present.has(n)),
        };
      };
      if (Object.values(await changes(q())).every((list) => list.length === 0)) return { created: [], dropped: [] };
      return scope.atomic(async (tx) => {
        await lock(tx);
        const { create, drop } = await changes(tx);
        for (const model of create) {
          validateModel(model, storage);
          await tx.$executeRawUnsafe(indexDdl(model, storage));
        }
        for (const name of drop) await tx.$executeRawUnsafe(`DROP INDEX ${name}`);
        return { created: create.map((m) => indexName(m.key, storage)), dropped: drop };
      }, LOCKED);
    },

    async adopt(key, fields) {
      await q().$executeRaw`
        UPDATE vector_models SET path = ${fields.path}, embedder_sha256 = ${fields.embedderSha256},
          training = ${JSON.stringify(fields.training)}::jsonb
        WHERE key = ${key} AND path IS NULL`;
    },

    activate: (key) =>
      scope.atomic(async (tx): Promise<ActivateOutcome> => {
        await lock(tx);
        const [row] = await tx.$queryRaw<{ status: ModelStatus }[]>`SELECT status FROM vector_models WHERE key = ${key} FOR UPDATE`;
        if (!row) throw new VectorModelError(`no vector model ${key}`);
        if (row.status === 'active') return { ok: true };
        const missing = row.status === 'retired' ? 0 : await countMissing(tx, key);
        if (row.status !== 'ready' || missing > 0) {
          if (row.status === 'ready') await tx.$executeRaw`UPDATE vector_models SET status = 'indexing' WHERE key = ${key}`;
          return { ok: false, status: row.status === 'ready' ? 'indexing' : row.status, missing };
        }
        await tx.$executeRaw`UPDATE vector_models SET status = 'ready' WHERE status = 'active'`;
        await tx.$executeRaw`UPDATE vector_models SET status = 'active', activated_at = CURRENT_TIMESTAMP WHERE key = ${key}`;
        return { ok: true };
      }, LOCKED),

    retire: (key) =>
      scope.atomic(async (tx) => {
        await lock(tx);
        const [row] = await tx.$queryRaw<{ status: ModelStatus }[]>`SELECT status FROM vector_models WHERE key = ${key} FOR UPDATE`;
        if (!row) throw new VectorModelError(`no vector model ${key}`);
        if (row.status === 'active') return false;
        await tx.$executeRaw`DELETE FROM image_embeddings WHERE model_key = ${key}`;
        for (const s of VECTOR_STORAGES) await tx.$executeRawUnsafe(`DROP INDEX IF EXISTS ${indexName(key, s)}`);
        await tx.$executeRaw`
          UPDATE vector_models SET status = 'retired', reembed_owner = NULL, reembed_heartbeat_at = NULL WHERE key = ${key}`;
        return true;
      }, LOCKED),

    missing: (key, limit, afterId) =>
      q().$queryRaw<{ id: string; mediaPath: string }[]>`
        SELECT i.id::text AS id, i.media_path AS "mediaPath" FROM product_images i
        WHERE (${afterId}::uuid IS NULL OR i.id > ${afterId}::uuid)
          AND NOT EXISTS (SELECT 1 FROM image_embeddings e WHERE e.image_id = i.id AND e.model_key = ${key})
        ORDER BY i.id LIMIT ${limit}`,

    countMissing: (key) => countMissing(q(), key),

    async claimReembed(key, owner, expectedOwner) {
      const n = await q().$executeRaw`
        UPDATE vector_models SET reembed_owner = ${owner}, reembed_heartbeat_at = CURRENT_TIMESTAMP
        WHERE key = ${key} AND status IN ('indexing', 'active') AND reembed_owner IS NOT DISTINCT FROM ${expectedOwner}`;
      return n === 1;
    },

    async heartbeat(key, owner) {
      const n = await q().$executeRaw`
        UPDATE vector_models SET reembed_heartbeat_at = CURRENT_TIMESTAMP
        WHERE key = ${key} AND reembed_owner = ${owner} AND status <> 'retired'`;
      return n === 1;
    },

    async releaseReembed(key, owner, ready) {
      await q().$executeRaw`
        UPDATE vector_models SET reembed_owner = NULL, reembed_heartbeat_at = NULL,
          status = CASE WHEN ${ready} AND status = 'indexing' THEN 'ready' ELSE status END
        WHERE key = ${key} AND reembed_owner = ${owner}`;
    },
  };
}
