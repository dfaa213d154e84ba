// A command-line tool of src/cli run as a real child process, its output collected.
import { spawn, type ChildProcess } from 'node:child_process';

export interface Child {
  process: ChildProcess;
  stdout: string;
  stderr: string;
  exited: Promise<number | null>;
}

/** Runs `src/cli/<script>` with node itself (not npx), so that a SIGKILL reaches the process doing the work. */
export function runCli(script: string, args: string[], env: Record<string, string>): Child {
  const child = spawn(process.execPath, ['--import', 'tsx', `src/cli/${script}`, ...args], {
    env: { ...process.env, ...env },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  const result: Child = { process: child, stdout: '', stderr: '', exited: new Promise((resolve) => child.once('exit', resolve)) };
  child.stdout!.on('data', (d) => (result.stdout += d));
  child.stderr!.on('data', (d) => (result.stderr += d));
  return result;
}
