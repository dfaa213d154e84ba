-- Model versions (issue 11): each model has a status, the folder it loads from, its embedder's
-- sha256 and the manifest's training record; a background re-embedding fills a new model's
-- embeddings (its lease: reembed_owner + reembed_heartbeat_at) before it can become active.

-- AlterTable
ALTER TABLE "vector_models" ADD COLUMN "status" TEXT NOT NULL DEFAULT 'ready',
ADD COLUMN "path" TEXT,
ADD COLUMN "embedder_sha256" CHAR(64),
ADD COLUMN "training" JSONB,
ADD COLUMN "activated_at" TIMESTAMPTZ(3),
ADD COLUMN "reembed_owner" TEXT,
ADD COLUMN "reembed_heartbeat_at" TIMESTAMPTZ(3);

-- An existing database's model (the newest, if it holds several) is the one it searches with.
UPDATE "vector_models" SET "status" = 'active', "activated_at" = CURRENT_TIMESTAMP
WHERE "key" = (SELECT "key" FROM "vector_models" ORDER BY "created_at" DESC, "key" LIMIT 1);

-- The statuses, and at most one active model: partial and check constraints, which Prisma's
-- schema cannot express; they live here only.
ALTER TABLE "vector_models" ADD CONSTRAINT "vector_models_status_check" CHECK ("status" IN ('indexing', 'ready', 'active', 'retired'));

-- CreateIndex
CREATE UNIQUE INDEX "vector_models_one_active_key" ON "vector_models"("status") WHERE "status" = 'active';
