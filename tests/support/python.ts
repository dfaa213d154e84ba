// Python from the tests: the interpreter scripts/python.mjs finds ($PYTHON, /usr/bin/python3,
// python3: the first with PyTorch), the same one `npm run train` uses.
import { spawn, spawnSync } from 'node:child_process';

/** True when scripts/python.mjs finds a Python with PyTorch, Pillow and NumPy. */
export function torchAvailable(): boolean {
  const r = spawnSync(process.execPath, ['scripts/python.mjs', '-c', 'import torch, PIL, numpy'], { stdio: 'ignore', timeout: 120_000 });
  return r.status === 0;
}

/** Runs `python <args>` from the repository root; stdout and stderr together, killed after timeoutMs. */
export function runPython(args: string[], timeoutMs: number): Promise<{ code: number | null; output: string }> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, ['scripts/python.mjs', ...args], { stdio: ['ignore', 'pipe', 'pipe'] });
    let output = '';
    child.stdout.on('data', (d) => (output += d));
    child.stderr.on('data', (d) => (output += d));
    const timer = setTimeout(() => child.kill('SIGTERM'), timeoutMs);
    child.on('error', reject);
    child.on('close', (code) => {
      clearTimeout(timer);
      resolve({ code, output });
    });
  });
}
