-- Catalog adaptation jobs (src/adapt): fine-tuning the models on the catalog's own photos in a
-- child process. Progress lives here so that a restarted service shows where a job stopped, and
-- at most one job is queued or running at a time (a partial unique index, in SQL only).

-- CreateTable
CREATE TABLE "adaptation_jobs" (
    "id" UUID NOT NULL,
    "status" TEXT NOT NULL,
    "minutes" INTEGER NOT NULL,
    "max_steps" INTEGER NOT NULL DEFAULT 0,
    "progress" DOUBLE PRECISION NOT NULL DEFAULT 0,
    "message" TEXT,
    "base_model" TEXT NOT NULL,
    "catalog_fingerprint" CHAR(64),
    "images" INTEGER,
    "out_dir" TEXT,
    "model_key" TEXT,
    "owner" TEXT,
    "heartbeat_at" TIMESTAMPTZ(3),
    "started_at" TIMESTAMPTZ(3) NOT NULL DEFAULT CURRENT_TIMESTAMP,
    "updated_at" TIMESTAMPTZ(3) NOT NULL DEFAULT CURRENT_TIMESTAMP,
    "finished_at" TIMESTAMPTZ(3),

    CONSTRAINT "adaptation_jobs_pkey" PRIMARY KEY ("id")
);

-- CreateIndex
CREATE INDEX "adaptation_jobs_started_at_idx" ON "adaptation_jobs"("started_at");

-- CreateIndex
CREATE UNIQUE INDEX "adaptation_jobs_one_active_key" ON "adaptation_jobs"((true)) WHERE "status" IN ('queued', 'running');
