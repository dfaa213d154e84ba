// The committed schema.graphql and the generated client (client/generated) must match the
// schema the server builds: `npm run schema && npm run codegen` refreshes both.
import { execFile } from 'node:child_process';
import { readFile } from 'node:fs/promises';
import { promisify } from 'node:util';
import { describe, expect, it } from 'vitest';
import { SCHEMA_FILE, apiSchemaSdl } from '../scripts/emit-schema.js';

const run = promisify(execFile);

describe('schema.graphql and the typed client', () => {
  it('schema.graphql is the schema the server builds (else: npm run schema)', async () => {
    const committed = await readFile(SCHEMA_FILE, 'utf8');
    expect(committed, 'schema.graphql is stale: run `npm run schema && npm run codegen` and commit both').toBe(await apiSchemaSdl());
  });

  it('client/generated is what graphql-codegen makes from it (else: npm run codegen)', async () => {
    const result = await run('npx', ['graphql-codegen', '--config', 'codegen.ts', '--check'], { encoding: 'utf8' }).then(
      (r) => ({ code: 0, out: r.stdout + r.stderr }),
      (e: { code?: number; stdout?: string; stderr?: string }) => ({ code: e.code ?? 1, out: `${e.stdout ?? ''}${e.stderr ?? ''}` }),
    );
    expect(result.code, `client/generated is stale: run \`npm run codegen\`\n${result.out.slice(-2000)}`).toBe(0);
  });
});
