-- At most one running ingest per source listing (fingerprint): two processes starting the same
-- ingest at the same moment cannot both create a run. Partial, so Prisma's schema cannot
-- express it; it lives here only.

-- CreateIndex
CREATE UNIQUE INDEX "ingest_runs_one_running_key" ON "ingest_runs"("fingerprint") WHERE "status" = 'running';
