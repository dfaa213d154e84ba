-- Scorer feature maps (image_embeddings.features, searches.query_features: 128×12×12 float32,
-- 74 kB a row) were compressed with pglz, Postgres's default: ~2.5 ms of server CPU per row
-- written, on every ingested image and every search. lz4 compresses them as well (45 kB a row)
-- in a fifth of the time. A server built without lz4 (PGlite is) stores them uncompressed
-- instead: pglz cost PGlite ~2 ms per row on the service's own thread. Only new values change;
-- rows already stored are read as they are.
DO $$
BEGIN
  ALTER TABLE "image_embeddings" ALTER COLUMN "features" SET COMPRESSION lz4;
  ALTER TABLE "searches" ALTER COLUMN "query_features" SET COMPRESSION lz4;
EXCEPTION WHEN feature_not_supported THEN
  ALTER TABLE "image_embeddings" ALTER COLUMN "features" SET STORAGE EXTERNAL;
  ALTER TABLE "searches" ALTER COLUMN "query_features" SET STORAGE EXTERNAL;
END $$;
