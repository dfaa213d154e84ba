// onnxruntime-node sessions on the first execution provider that works: each configured
// provider ('webgpu', 'cuda', 'cpu') is tried in order. One this machine cannot load (no CUDA
// provider library or driver, no Vulkan loader) is skipped before onnxruntime is asked, because
// onnxruntime's own failed attempt prints a red error line to stderr that reads as a crash; one
// that onnxruntime still refuses (no GPU adapter) is skipped with a logged warning.
import { existsSync } from 'node:fs';
import { createRequire } from 'node:module';
import os from 'node:os';
import path from 'node:path';
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
  skipped: SkippedProvider[];
}

export interface SkippedProvider {
  provider: ExecutionProvider;
  reason: string;
  /** True when the machine lacks what the provider needs (onnxruntime was not asked). */
  detected: boolean;
}

/** onnxruntime-node's native folder: its binding, libonnxruntime and any provider libraries beside it. */
function bindingDir(): string {
  const entry = createRequire(import.meta.url).resolve('onnxruntime-node');
  return path.resolve(path.dirname(entry), '..', 'bin', 'napi-v6', process.platform, process.arch);
}

/**
 * Null when the dynamic loader finds `library` and its dependencies; otherwise the loader's
 * reason. process.dlopen loads it and, since it is not a Node addon, closes it again with
 * "did not self-register": that answer means it loaded.
 */
function loadError(library: string): string | null {
  try {
    process.dlopen({ exports: {} }, library);
    return null;
  } catch (err) {
    const message = firstLine(err);
    return /did not self-register/.test(message) ? null : message;
  }
}

const unavailable = new Map<ExecutionProvider, string | null>();

/**
 * Why this machine cannot run `provider`, found without onnxruntime; null when it may (onnxruntime
 * can still refuse it, e.g. WebGPU with no adapter). CUDA needs onnxruntime's provider libraries,
 * which its install script downloads (skipped in this project), and the NVIDIA driver; WebGPU on
 * Linux needs the Vulkan loader.
 */
export function providerUnavailable(provider: ExecutionProvider): string | null {
  if (!unavailable.has(provider)) unavailable.set(provider, detectUnavailable(provider));
  return unavailable.get(provider)!;
}

function detectUnavailable(provider: ExecutionProvider): string | null {
  const linux = process.platform === 'linux';
  if (provider === 'cuda') {
    if (!linux && process.platform !== 'win32') return `onnxruntime has no CUDA build for ${process.platform}`;
    const lib = (name: string) => (linux ? `lib${name}.so` : `${name}.dll`);
    const dir = bindingDir();
    const missing = ['onnxruntime_providers_shared', 'onnxruntime_providers_cuda']
      .map(lib)
      .filter((file) => !existsSync(path.join(dir, file)));
    if (missing.length) return `${missing.join(' and ')} not installed beside onnxruntime-node's binding (${dir})`;
    const driver = loadError(linux ? 'libcuda.so.1' : 'nvcuda.dll');
    return driver && `no NVIDIA driver: ${driver}`;
  }
  if (provider === 'webgpu' && linux) {
    const vulkan = loadError('libvulkan.so.1');
    return vulkan && `no Vulkan loader: ${vulkan}`;
  }
  return null;
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
    // Idle intra-op threads sleep instead of spinning: a search service shares its cores with the
    // event loop, the database and other requests (bench/results/search-speed-shedding.md: 32 clients
    // 63.6 → 73.2 searches/s on 2 cores, p99 31.9 → 28.1 ms).
    extra: { session: { intra_op: { allow_spinning: '0' } } },
    // Warnings from onnxruntime's own logger (e.g. nodes placed on CPU) go to stderr; keep errors only.
    logSeverityLevel: 3,
  };
}

/** Creates a session from an .onnx file on the first provider that accepts it. */
export async function openSession(modelPath: string, opts: SessionOptions): Promise<OpenedSession> {
  if (opts.providers.length === 0) throw new ModelError('No execution provider configured (ML_PROVIDERS is empty).');
  const threads = opts.threads ?? defaultThreads();
  const label = opts.label ?? modelPath;
  const skipped: SkippedProvider[] = [];
  for (const provider of opts.providers) {
    const missing = providerUnavailable(provider);
    if (missing) {
      skipped.push({ provider, reason: missing, detected: true });
      continue;
    }
    try {
      const session = await ort.InferenceSession.create(modelPath, sessionOptions(provider, threads));
      opts.logger.debug({ model: label, provider, threads }, 'onnxruntime session created');
      return { session, provider, skipped };
    } catch (err) {
      const reason = firstLine(err);
      skipped.push({ provider, reason, detected: false });
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
