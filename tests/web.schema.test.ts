// The committed schema.graphql, the client's error codes (client/error-codes.ts) and the generated
// client (client/generated) must match what the server defines: `npm run schema && npm run
// codegen` refreshes them.
import { execFile } from 'node:child_process';
import { readFile } from 'node:fs/promises';
import { promisify } from 'node:util';
import { describe, expect, it } from 'vitest';
import { API_ERROR_CODES } from '../client/index.js';
import { CLIENT_ERROR_CODES_FILE, SCHEMA_FILE, apiSchemaSdl, clientErrorCodesSource } from '../scripts/emit-schema.js';
import { ERROR_CODES } from '../src/errors.js';

const run = promisify(execFile);

describe('schema.graphql and the typed client', () => {
  it('schema.graphql is the schema the server builds (else: npm run schema)', async () => {
    const committed = await readFile(SCHEMA_FILE, 'utf8');
    expect(committed, 'schema.graphql is stale: run `npm run schema && npm run codegen` and commit both').toBe(await apiSchemaSdl());
  });

  it("the client knows exactly the server's error codes (else: npm run schema)", async () => {
    expect([...API_ERROR_CODES], 'client/error-codes.ts differs from src/errors.ts: run `npm run schema`').toEqual(
      Object.keys(ERROR_CODES),
    );
    const committed = await readFile(CLIENT_ERROR_CODES_FILE, 'utf8');
    expect(committed, 'client/error-codes.ts is stale: run `npm run schema`').toBe(clientErrorCodesSource());
  });

  it('client/generated is what graphql-codegen makes from it (else: npm run codegen)', async () => {
    const result = await run('npx', ['graphql-codegen', '--config', 'codegen.ts', '--check'], { encoding: 'utf8' }).then(
      (r) => ({ code: 0, out: r.stdout + r.stderr }),
      (e: { code?: number; stdout?: string; stderr?: string }) => ({ code: e.code ?? 1, out: `${e.stdout ?? ''}${e.stderr ?? ''}` }),
    );
    expect(result.code, `client/generated is stale: run \`npm run codegen\`\n${result.out.slice(-2000)}`).toBe(0);
  });
});
