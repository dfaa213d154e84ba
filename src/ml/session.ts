// onnxruntime-node sessions on the first execution provider that works: each configured
// provider ('webgpu', 'cuda', 'cpu') is tried in order; one that throws (no GPU adapter, CUDA
// libraries absent) is skipped with a logged reason.
import os from 'node:os';
import * as ort from 'onnxruntime-node';
import type { Logger } from 'pino';
import { firstLine } from '../images/index.js';
import { ModelError } from './types.js';

export type ExecutionProvider = 'webgpu' | 'cuda' | 'cpu';

export interface SessionOptions {
  /** Providers to try, in order (config ML_PROVIDERS). */
  providers: readonly ExecutionProvider[];
  logger: Logger;
  /** Intra-op threads (default: the machine's available parallelism, at most 8). */
  threads?: number;
  /** A name for the logs, e.g. 'embedder'. */
  label?: string;
}

export interface OpenedSession {
  session: ort.InferenceSession;
  /** The provider the session runs on. */
  provider: ExecutionProvider;
  /** Providers tried before it, and why each failed. */
  skipped: { provider: ExecutionProvider; reason: string }[];
}

/** The default intra-op thread count: every available core, capped at 8. */
export function defaultThreads(): number {
  return Math.max(1, Math.min(8, os.availableParallelism()));
}

export function sessionOptions(provider: ExecutionProvider, threads: number): ort.InferenceSession.SessionOptions {
  return {
    executionProviders: [provider],
    graphOptimizationLevel: 'all',
    executionMode: 'sequential',
    intraOpNumThreads: threads,
    interOpNumThreads: 1,
    // Warnings from onnxruntime's own logger (e.g. nodes placed on CPU) go to stderr; keep errors only.
    logSeverityLevel: 3,
  };
}

/** Creates a session from an .onnx file on the first provider that accepts it. */
export async function openSession(modelPath: string, opts: SessionOptions): Promise<OpenedSession> {
  if (opts.providers.length === 0) throw new ModelError('No execution provider configured (ML_PROVIDERS is empty).');
  const threads = opts.threads ?? defaultThreads();
  const label = opts.label ?? modelPath;
  const skipped: OpenedSession['skipped'] = [];
  for (const provider of opts.providers) {
    try {
      const session = await ort.InferenceSession.create(modelPath, sessionOptions(provider, threads));
      opts.logger.debug({ model: label, provider, threads }, 'onnxruntime session created');
      return { session, provider, skipped };
    } catch (err) {
      const reason = firstLine(err);
      skipped.push({ provider, reason });
      const next = opts.providers[opts.providers.indexOf(provider) + 1];
      opts.logger.warn(
        { model: label, provider, reason, next: next ?? null },
        next
          ? `execution provider ${provider} unavailable for ${label}, falling back to ${next}`
          : `execution provider ${provider} unavailable for ${label}`,
      );
    }
  }
  throw new ModelError(
    `No execution provider could run ${label}: ${skipped.map((s) => `${s.provider}: ${s.reason}`).join('; ')}`,
  );
}

/** Throws ModelError unless the session has every input and output the manifest names. */
export function assertTensorNames(session: ort.InferenceSession, inputs: string[], outputs: string[], label: string): void {
  const missing = [
    ...inputs.filter((n) => !session.inputNames.includes(n)).map((n) => `input "${n}"`),
    ...outputs.filter((n) => !session.outputNames.includes(n)).map((n) => `output "${n}"`),
  ];
  if (missing.length) {
    throw new ModelError(
      `${label}.onnx lacks ${missing.join(', ')} named in the manifest (it has inputs ${session.inputNames.join(', ')}; outputs ${session.outputNames.join(', ')})`,
    );
  }
}
