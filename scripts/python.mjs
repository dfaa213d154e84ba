#!/usr/bin/env node
// Runs `<python> <args>` from the repository root with an interpreter that has PyTorch.
// Order tried: $PYTHON, /usr/bin/python3, python3. Forwards arguments, stdio and exit code.
//   node scripts/python.mjs -m training.train --images-dir DIR ...   (npm run train -- ...)
import { spawnSync, spawn } from 'node:child_process';
import { existsSync } from 'node:fs';
import { dirname, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';

const root = resolve(dirname(fileURLToPath(import.meta.url)), '..');
const candidates = [process.env.PYTHON, '/usr/bin/python3', 'python3'].filter(
  (c, i, all) => c && all.indexOf(c) === i,
);

function hasTorch(python) {
  if (python.includes('/') && !existsSync(python)) return false;
  const r = spawnSync(python, ['-c', 'import torch'], { cwd: root, stdio: 'ignore', timeout: 120_000 });
  return r.status === 0;
}

const python = candidates.find(hasTorch);
if (!python) {
  console.error(
    `python.mjs: no Python interpreter with PyTorch found (tried ${candidates.join(', ')}); ` +
      'install it (Debian: apt-get install python3-torch python3-pil python3-numpy python3-matplotlib) or set PYTHON=/path/to/python',
  );
  process.exit(127);
}

const child = spawn(python, process.argv.slice(2), { cwd: root, stdio: 'inherit' });
for (const sig of ['SIGINT', 'SIGTERM']) process.on(sig, () => child.kill(sig));
child.on('error', (err) => {
  console.error(`python.mjs: could not start ${python}: ${err.message}`);
  process.exit(127);
});
child.on('exit', (code, signal) => {
  if (signal) process.kill(process.pid, signal);
  else process.exit(code ?? 1);
});
