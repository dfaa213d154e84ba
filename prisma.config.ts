import { defineConfig } from 'prisma/config';

// Migrations are plain SQL applied by src/db (see prisma/migrations); this file lets the
// Prisma CLI (generate, and `migrate status` against a real server) find the schema.
export default defineConfig({
  schema: 'prisma/schema.prisma',
  migrations: { path: 'prisma/migrations' },
  datasource: { url: process.env.DATABASE_URL ?? 'postgresql://localhost:5432/postgres' },
});
