-- Catalog ingest: runs (progress and resume state), the items each run has finished, the
-- failures it recorded, and near-duplicate decisions. The foreign keys to product_images and
-- products exist only here (the Prisma models keep plain ids so the catalog models need no
-- back-relations).

-- CreateTable
CREATE TABLE "ingest_runs" (
    "id" UUID NOT NULL,
    "fingerprint" CHAR(64) NOT NULL,
    "kind" TEXT NOT NULL,
    "source" TEXT NOT NULL,
    "spec" JSONB NOT NULL,
    "status" TEXT NOT NULL,
    "pages_done" INTEGER NOT NULL DEFAULT 0,
    "items_done" INTEGER NOT NULL DEFAULT 0,
    "items_total" INTEGER,
    "counts" JSONB NOT NULL DEFAULT '{}',
    "error" TEXT,
    "owner" TEXT,
    "heartbeat_at" TIMESTAMPTZ(3),
    "started_at" TIMESTAMPTZ(3) NOT NULL DEFAULT CURRENT_TIMESTAMP,
    "updated_at" TIMESTAMPTZ(3) NOT NULL DEFAULT CURRENT_TIMESTAMP,
    "finished_at" TIMESTAMPTZ(3),

    CONSTRAINT "ingest_runs_pkey" PRIMARY KEY ("id")
);

-- CreateTable
CREATE TABLE "ingest_items" (
    "run_id" UUID NOT NULL,
    "item_key" TEXT NOT NULL,
    "page" INTEGER NOT NULL,
    "outcome" TEXT NOT NULL,
    "product_id" UUID,
    "images" JSONB NOT NULL DEFAULT '[]',
    "created_at" TIMESTAMPTZ(3) NOT NULL DEFAULT CURRENT_TIMESTAMP,

    CONSTRAINT "ingest_items_pkey" PRIMARY KEY ("run_id","item_key")
);

-- CreateTable
CREATE TABLE "ingest_failures" (
    "id" UUID NOT NULL,
    "run_id" UUID NOT NULL,
    "item_key" TEXT,
    "page" INTEGER,
    "image" TEXT,
    "code" TEXT NOT NULL,
    "reason" TEXT NOT NULL,
    "created_at" TIMESTAMPTZ(3) NOT NULL DEFAULT CURRENT_TIMESTAMP,

    CONSTRAINT "ingest_failures_pkey" PRIMARY KEY ("id")
);

-- CreateTable
CREATE TABLE "near_duplicates" (
    "sha256" CHAR(64) NOT NULL,
    "duplicate_of" UUID NOT NULL,
    "image_id" UUID,
    "product_id" UUID,
    "hamming" INTEGER NOT NULL,
    "distance" REAL NOT NULL,
    "action" TEXT NOT NULL,
    "run_id" UUID,
    "created_at" TIMESTAMPTZ(3) NOT NULL DEFAULT CURRENT_TIMESTAMP,

    CONSTRAINT "near_duplicates_pkey" PRIMARY KEY ("sha256")
);

-- CreateIndex
CREATE INDEX "ingest_runs_fingerprint_started_at_idx" ON "ingest_runs"("fingerprint", "started_at");

-- CreateIndex
CREATE INDEX "ingest_items_run_id_page_idx" ON "ingest_items"("run_id", "page");

-- CreateIndex
CREATE INDEX "ingest_failures_run_id_idx" ON "ingest_failures"("run_id");

-- CreateIndex
CREATE INDEX "near_duplicates_duplicate_of_idx" ON "near_duplicates"("duplicate_of");

-- CreateIndex
CREATE INDEX "near_duplicates_image_id_idx" ON "near_duplicates"("image_id");

-- CreateIndex
CREATE INDEX "near_duplicates_product_id_idx" ON "near_duplicates"("product_id");

-- AddForeignKey
ALTER TABLE "ingest_items" ADD CONSTRAINT "ingest_items_run_id_fkey" FOREIGN KEY ("run_id") REFERENCES "ingest_runs"("id") ON DELETE CASCADE ON UPDATE CASCADE;

-- AddForeignKey
ALTER TABLE "ingest_failures" ADD CONSTRAINT "ingest_failures_run_id_fkey" FOREIGN KEY ("run_id") REFERENCES "ingest_runs"("id") ON DELETE CASCADE ON UPDATE CASCADE;

-- AddForeignKey
ALTER TABLE "near_duplicates" ADD CONSTRAINT "near_duplicates_duplicate_of_fkey" FOREIGN KEY ("duplicate_of") REFERENCES "product_images"("id") ON DELETE CASCADE ON UPDATE CASCADE;

-- AddForeignKey
ALTER TABLE "near_duplicates" ADD CONSTRAINT "near_duplicates_image_id_fkey" FOREIGN KEY ("image_id") REFERENCES "product_images"("id") ON DELETE CASCADE ON UPDATE CASCADE;

-- AddForeignKey
ALTER TABLE "near_duplicates" ADD CONSTRAINT "near_duplicates_product_id_fkey" FOREIGN KEY ("product_id") REFERENCES "products"("id") ON DELETE CASCADE ON UPDATE CASCADE;

-- AddForeignKey
ALTER TABLE "near_duplicates" ADD CONSTRAINT "near_duplicates_run_id_fkey" FOREIGN KEY ("run_id") REFERENCES "ingest_runs"("id") ON DELETE SET NULL ON UPDATE CASCADE;
