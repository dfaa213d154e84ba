-- Initial schema, as `prisma migrate diff --from-empty --to-schema prisma/schema.prisma` writes it,
-- plus the pgvector extension. The HNSW indexes are per vector model and created at run time by
-- ensureVectorModel (src/db/vectors.ts): one partial expression index per model_key.

-- CreateExtension
CREATE EXTENSION IF NOT EXISTS "vector";

-- CreateTable
CREATE TABLE "products" (
    "id" UUID NOT NULL,
    "source" TEXT NOT NULL DEFAULT 'manual',
    "external_id" TEXT NOT NULL,
    "title" TEXT NOT NULL,
    "description" TEXT,
    "brand" TEXT,
    "category" TEXT,
    "colour" TEXT,
    "price" DECIMAL(12,2),
    "currency" CHAR(3),
    "attributes" JSONB NOT NULL DEFAULT '{}',
    "created_at" TIMESTAMPTZ(3) NOT NULL DEFAULT CURRENT_TIMESTAMP,
    "updated_at" TIMESTAMPTZ(3) NOT NULL DEFAULT CURRENT_TIMESTAMP,

    CONSTRAINT "products_pkey" PRIMARY KEY ("id")
);

-- CreateTable
CREATE TABLE "product_images" (
    "id" UUID NOT NULL,
    "product_id" UUID NOT NULL,
    "sha256" CHAR(64) NOT NULL,
    "phash" CHAR(16) NOT NULL,
    "width" INTEGER NOT NULL,
    "height" INTEGER NOT NULL,
    "media_path" TEXT NOT NULL,
    "position" INTEGER NOT NULL DEFAULT 0,
    "source_url" TEXT,
    "created_at" TIMESTAMPTZ(3) NOT NULL DEFAULT CURRENT_TIMESTAMP,

    CONSTRAINT "product_images_pkey" PRIMARY KEY ("id")
);

-- CreateTable
CREATE TABLE "vector_models" (
    "key" TEXT NOT NULL,
    "name" TEXT NOT NULL,
    "version" TEXT NOT NULL,
    "dim" INTEGER NOT NULL,
    "metric" TEXT NOT NULL,
    "created_at" TIMESTAMPTZ(3) NOT NULL DEFAULT CURRENT_TIMESTAMP,

    CONSTRAINT "vector_models_pkey" PRIMARY KEY ("key")
);

-- CreateTable
CREATE TABLE "image_embeddings" (
    "image_id" UUID NOT NULL,
    "model_key" TEXT NOT NULL,
    "embedding" vector NOT NULL,
    "features" BYTEA NOT NULL,
    "created_at" TIMESTAMPTZ(3) NOT NULL DEFAULT CURRENT_TIMESTAMP,

    CONSTRAINT "image_embeddings_pkey" PRIMARY KEY ("image_id","model_key")
);

-- CreateTable
CREATE TABLE "searches" (
    "id" UUID NOT NULL,
    "created_at" TIMESTAMPTZ(3) NOT NULL DEFAULT CURRENT_TIMESTAMP,
    "expires_at" TIMESTAMPTZ(3) NOT NULL,
    "query_image_hash" CHAR(64),
    "model_key" TEXT NOT NULL,
    "query_embedding" BYTEA NOT NULL,
    "query_features" BYTEA NOT NULL,
    "params" JSONB NOT NULL,
    "results" JSONB NOT NULL,
    "reranked" JSONB,

    CONSTRAINT "searches_pkey" PRIMARY KEY ("id")
);

-- CreateIndex
CREATE INDEX "products_category_idx" ON "products"("category");

-- CreateIndex
CREATE INDEX "products_colour_idx" ON "products"("colour");

-- CreateIndex
CREATE INDEX "products_brand_idx" ON "products"("brand");

-- CreateIndex
CREATE UNIQUE INDEX "products_source_external_id_key" ON "products"("source", "external_id");

-- CreateIndex
CREATE UNIQUE INDEX "product_images_sha256_key" ON "product_images"("sha256");

-- CreateIndex
CREATE INDEX "product_images_product_id_idx" ON "product_images"("product_id");

-- CreateIndex
CREATE INDEX "product_images_phash_idx" ON "product_images"("phash");

-- CreateIndex
CREATE INDEX "image_embeddings_model_key_idx" ON "image_embeddings"("model_key");

-- CreateIndex
CREATE INDEX "searches_expires_at_idx" ON "searches"("expires_at");

-- AddForeignKey
ALTER TABLE "product_images" ADD CONSTRAINT "product_images_product_id_fkey" FOREIGN KEY ("product_id") REFERENCES "products"("id") ON DELETE CASCADE ON UPDATE CASCADE;

-- AddForeignKey
ALTER TABLE "image_embeddings" ADD CONSTRAINT "image_embeddings_image_id_fkey" FOREIGN KEY ("image_id") REFERENCES "product_images"("id") ON DELETE CASCADE ON UPDATE CASCADE;

-- AddForeignKey
ALTER TABLE "image_embeddings" ADD CONSTRAINT "image_embeddings_model_key_fkey" FOREIGN KEY ("model_key") REFERENCES "vector_models"("key") ON DELETE CASCADE ON UPDATE CASCADE;
