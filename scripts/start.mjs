// `npm start`: build when the sources changed since the last build (or never built), then serve.
import { spawnSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import { existsSync, readFileSync, readdirSync, statSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { pathToFileURL } from 'node:url';

const INPUTS = ['src', 'web/src', 'web/graphiql', 'web/index.html', 'web/vite.config.ts', 'codegen.ts', 'client', 'prisma/schema.prisma', 'package-lock.json', 'tsconfig.json', 'tsconfig.build.json'];
const STAMP = 'dist/.build-stamp';

function* files(p) {
  if (!existsSync(p)) return;
  if (statSync(p).isFile()) return yield p;
  for (const entry of readdirSync(p).sort()) yield* files(path.join(p, entry));
}

const hash = createHash('sha256');
for (const input of INPUTS) for (const file of files(input)) hash.update(file).update(readFileSync(file));
const digest = hash.digest('hex');

const built = existsSync('dist/src/main.js') && existsSync('web/dist/index.html') && existsSync(STAMP) && readFileSync(STAMP, 'utf8') === digest;
if (!built) {
  console.log('Building (first start, or the sources changed)…');
  const build = spawnSync('npm', ['run', '-s', 'build'], { stdio: 'inherit' });
  if (build.status !== 0) process.exit(build.status ?? 1);
  writeFileSync(STAMP, digest);
}
// Same process: the server's own signal handling applies.
await import(pathToFileURL(path.resolve('dist/src/main.js')).href);
