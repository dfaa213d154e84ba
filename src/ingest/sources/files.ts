// Local files for the folder and manifest sources: CSV / JSON / JSONL records, image files
// found recursively, and size-limited reads.
import { readdir, readFile, stat } from 'node:fs/promises';
import path from 'node:path';
import { parse } from 'csv-parse/sync';
import { AppError } from '../../errors.js';
import { valuesAt } from '../mapping.js';
import { FetchError, type HttpClient } from '../../fetch/http-client.js';
import { RecordError } from './types.js';

export const IMAGE_EXTENSIONS = new Set(['.jpg', '.jpeg', '.png', '.webp', '.gif', '.avif']);

/**
 * Records of a CSV (header row), JSON (an array, or the array at itemsPath) or JSONL file,
 * chosen by extension. A bad JSONL line becomes a RecordError in its place.
 */
export async function readRecords(file: string, itemsPath?: string): Promise<unknown[]> {
  const text = await readText(file);
  const ext = path.extname(file).toLowerCase();
  if (ext === '.csv' || ext === '.tsv') {
    try {
      return parse(text, { columns: true, bom: true, skip_empty_lines: true, trim: true, delimiter: ext === '.tsv' ? '\t' : ',' });
    } catch (error) {
      throw new AppError('BAD_USER_INPUT', `${file} is not valid CSV: ${(error as Error).message}`);
    }
  }
  if (ext === '.jsonl' || ext === '.ndjson') {
    return text
      .split('\n')
      .map((line, i) => [line.trim(), i + 1] as const)
      .filter(([line]) => line)
      .map(([line, n]) => {
        try {
          return JSON.parse(line) as unknown;
        } catch {
          return new RecordError(`line ${n} of ${path.basename(file)} is not JSON`);
        }
      });
  }
  if (ext === '.json') {
    let json: unknown;
    try {
      json = JSON.parse(text);
    } catch (error) {
      throw new AppError('BAD_USER_INPUT', `${file} is not valid JSON: ${(error as Error).message}`);
    }
    const [records] = valuesAt(json, itemsPath ?? '');
    if (!Array.isArray(records)) {
      throw new AppError('BAD_USER_INPUT', `${file}: no array at "${itemsPath ?? ''}" (use --items to name the path to the records).`);
    }
    return records;
  }
  throw new AppError('BAD_USER_INPUT', `${file}: use a .csv, .tsv, .json, .jsonl or .ndjson file.`);
}

async function readText(file: string): Promise<string> {
  try {
    return await readFile(file, 'utf8');
  } catch (error) {
    throw new AppError('BAD_USER_INPUT', `cannot read ${file}: ${(error as NodeJS.ErrnoException).code ?? (error as Error).message}`);
  }
}

/** Image files under dir (by extension), relative paths with '/' separators, sorted. */
export async function listImages(dir: string): Promise<string[]> {
  let entries;
  try {
    entries = await readdir(dir, { recursive: true, withFileTypes: true });
  } catch (error) {
    throw new AppError('BAD_USER_INPUT', `cannot read the folder ${dir}: ${(error as NodeJS.ErrnoException).code ?? (error as Error).message}`);
  }
  return entries
    .filter((e) => e.isFile() && IMAGE_EXTENSIONS.has(path.extname(e.name).toLowerCase()))
    .map((e) => path.relative(dir, path.join(e.parentPath, e.name)).split(path.sep).join('/'))
    .sort();
}

/** Reads an image file, refusing one over maxBytes before reading it. */
export async function readImageFile(file: string, maxBytes: number): Promise<Buffer> {
  let size: number;
  try {
    size = (await stat(file)).size;
  } catch (error) {
    const code = (error as NodeJS.ErrnoException).code;
    throw new FetchError(code === 'ENOENT' ? `file not found: ${file}` : `cannot read ${file} (${code})`);
  }
  if (size > maxBytes) throw new FetchError(`${file} is larger than ${maxBytes} bytes`);
  try {
    return await readFile(file);
  } catch (error) {
    throw new FetchError(`cannot read ${file} (${(error as NodeJS.ErrnoException).code ?? (error as Error).message})`);
  }
}

/** Loads an image from a URL (through the polite client) or a local path. */
export function loadImage(location: string, http: HttpClient, maxBytes: number): Promise<Buffer> {
  return /^https?:\/\//i.test(location) ? http.bytes(location) : readImageFile(location, maxBytes);
}

/** Splits records into pages of pageSize, from page `from` on. */
export function* pagesOf<T>(records: T[], pageSize: number, from: number): Generator<{ index: number; records: T[] }> {
  for (let index = from; index * pageSize < records.length; index++) {
    yield { index, records: records.slice(index * pageSize, (index + 1) * pageSize) };
  }
}
