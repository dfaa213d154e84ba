// Graceful shutdown of the real server process (src/main.ts through tsx): SIGTERM while a search
// is in flight stops new connections, lets the search finish, closes the database and the model
// sessions, and exits 0 (Apollo's own signal handlers would re-send the signal: exit 143).
import { spawn, type ChildProcess } from 'node:child_process';
import http from 'node:http';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { productImage } from './support/images.js';
import { testBackends, type OpenedBackend } from './support/databases.js';

const QUERY = 'query($i: Upload) { similarProducts(image: $i, topK: 3) { id items { rank } } }';

describe('SIGTERM (the real process, embedded database)', () => {
  let child: ChildProcess;
  let fresh: OpenedBackend;
  let url: string;
  let output = '';
  let exited: Promise<number | null>;

  beforeAll(async () => {
    fresh = await testBackends()[0]!.open({ migrate: false });
    await fresh.db.close();
    child = spawn(process.execPath, ['--import', 'tsx', 'src/main.ts'], {
      env: {
        ...process.env,
        PORT: '0',
        HOST: '127.0.0.1',
        DATA_DIR: fresh.dataDir,
        MODELS_DIR: path.resolve(process.env.MODELS_DIR ?? 'models'),
        ML_PROVIDERS: 'cpu',
        DEMO_CATALOG: 'false',
        RATE_LIMIT_PER_MINUTE: '0',
        LOG_LEVEL: 'info',
      },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    exited = new Promise((resolve) => child.once('exit', (code) => resolve(code)));
    url = await new Promise<string>((resolve, reject) => {
      const onData = (chunk: Buffer) => {
        output += chunk;
        const ready = /API (http:\/\/localhost:\d+)\/graphql/.exec(output);
        if (ready) resolve(ready[1]!.replace('localhost', '127.0.0.1'));
      };
      child.stdout!.on('data', onData);
      child.stderr!.on('data', (chunk) => (output += chunk));
      child.once('exit', (code) =>
        reject(new Error(`the server exited (${code}) before it was ready:\n${output.slice(-3000)}`)),
      );
    });
  }, 120_000);

  afterAll(async () => {
    if (child.exitCode === null) child.kill('SIGKILL');
    await fresh?.cleanup();
  });

  it('finishes the search in flight, refuses new connections, closes everything and exits 0', async () => {
    const image = await productImage(5, { width: 128, height: 128 });
    const boundary = 'shutdown-test-boundary';
    const head = Buffer.from(
      `--${boundary}\r\ncontent-disposition: form-data; name="operations"\r\n\r\n${JSON.stringify({ query: QUERY, variables: { i: null } })}\r\n` +
        `--${boundary}\r\ncontent-disposition: form-data; name="map"\r\n\r\n{"0":["variables.i"]}\r\n` +
        `--${boundary}\r\ncontent-disposition: form-data; name="0"; filename="q.png"\r\ncontent-type: image/png\r\n\r\n`,
    );
    const tail = Buffer.from(`\r\n--${boundary}--\r\n`);
    const half = Math.floor(image.length / 2);

    // The search starts (operation read, the resolver waiting for the rest of the file)…
    const request = http.request(`${url}/graphql`, {
      method: 'POST',
      agent: false,
      headers: {
        'apollo-require-preflight': 'true',
        'content-type': `multipart/form-data; boundary=${boundary}`,
        'content-length': String(head.length + image.length + tail.length),
      },
    });
    const response = new Promise<{ status: number; body: string }>((resolve, reject) => {
      request.on('response', (res) => {
        let body = '';
        res.on('data', (c) => (body += c));
        res.on('end', () => resolve({ status: res.statusCode!, body }));
      });
      request.on('error', reject);
    });
    request.write(Buffer.concat([head, image.subarray(0, half)]));
    await new Promise((r) => setTimeout(r, 500));

    // …SIGTERM arrives while it is in flight…
    child.kill('SIGTERM');
    await new Promise((r) => setTimeout(r, 500));
    const refused = await fetch(`${url}/healthz`).then(
      () => 'answered',
      () => 'refused',
    );
    expect(refused).toBe('refused');

    // …and the rest of the upload still gets its answer.
    request.end(Buffer.concat([image.subarray(half), tail]));
    const answer = await response;
    expect(answer.status).toBe(200);
    const body = JSON.parse(answer.body);
    expect(body.errors).toBeUndefined();
    expect(body.data.similarProducts.id).toMatch(/^[0-9a-f-]{36}$/);

    expect(await exited).toBe(0);
    expect(output).toMatch(/"msg":"shutting down"/);
    expect(output).toMatch(/"msg":"stopped"/);
  }, 60_000);
});
