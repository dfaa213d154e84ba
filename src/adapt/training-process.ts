// The training run as a child process: `training.train` through scripts/python.mjs (the one place
// that finds a Python with PyTorch), never inside the API process. Its JSON progress lines become
// callbacks; everything else it prints is kept (the tail) to explain a failure.
import { spawn, type ChildProcess } from 'node:child_process';
import { existsSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { createInterface } from 'node:readline';

/** The repository root (scripts/, training/), from src/adapt (tsx) or dist/src/adapt (built). */
const ROOT = ['../..', '../../..']
  .map((up) => path.resolve(path.dirname(fileURLToPath(import.meta.url)), up))
  .find((dir) => existsSync(path.join(dir, 'scripts', 'python.mjs')) && existsSync(path.join(dir, 'training', 'train.py')));
const TAIL_LINES = 20;

/** One `{"event": "progress", ...}` line of train.py --progress-json. */
export interface TrainingProgress {
  stage: 'embedder' | 'scorer';
  step: number;
  total: number;
  /** Seconds the stage has run. */
  elapsed: number;
  loss: number;
  /** The whole run's fraction done, 0..1. */
  progress: number;
}

export interface TrainingOutcome {
  ok: boolean;
  /** Exit code, or the signal that ended it. */
  exit: string;
  /** The last lines it printed (besides progress). */
  tail: string[];
}

export interface TrainingRun {
  done: Promise<TrainingOutcome>;
  /** Asks the run to stop (SIGTERM: it keeps its checkpoint for a resume). */
  stop(): void;
}

/** Starts `python -m training.train <args>` from the repository root. */
export function startTraining(args: string[], onProgress: (p: TrainingProgress) => void, onLine?: (line: string) => void): TrainingRun {
  if (!ROOT) {
    const exit = 'training/ and scripts/python.mjs are not installed beside the service';
    return { done: Promise.resolve({ ok: false, exit, tail: [] }), stop: () => undefined };
  }
  const child: ChildProcess = spawn(process.execPath, [path.join(ROOT, 'scripts/python.mjs'), '-m', 'training.train', ...args], {
    cwd: ROOT,
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  const tail: string[] = [];
  const keep = (line: string) => {
    onLine?.(line);
    tail.push(line);
    if (tail.length > TAIL_LINES) tail.shift();
  };
  createInterface({ input: child.stdout! }).on('line', (line) => {
    if (line.startsWith('{')) {
      try {
        const event = JSON.parse(line) as { event?: string } & TrainingProgress;
        if (event.event === 'progress') onProgress(event);
        return;
      } catch {
        // not one of ours: an ordinary line
      }
    }
    keep(line);
  });
  createInterface({ input: child.stderr! }).on('line', keep);
  const done = new Promise<TrainingOutcome>((resolve) => {
    child.on('error', (err) => resolve({ ok: false, exit: `could not start: ${err.message}`, tail }));
    child.on('close', (code, signal) => resolve({ ok: code === 0, exit: signal ?? `exit code ${code}`, tail }));
  });
  return { done, stop: () => child.kill('SIGTERM') };
}
