// The folder source (images found recursively, product data from an optional CSV / JSON(L)
// sidecar) and the manifest source (rows naming image paths or URLs plus product fields).
import path from 'node:path';
import type { HttpClient } from '../../fetch/http-client.js';
import type { IngestSpec } from '../spec.js';
import { listImages, loadImage, pagesOf, readRecords } from './files.js';
import type { Source, SourcePage } from './types.js';

type FolderSpec = Extract<IngestSpec, { kind: 'folder' }>;
type ManifestSpec = Extract<IngestSpec, { kind: 'manifest' }>;

/**
 * Without a sidecar every image file is a product (id: its path without extension). With one,
 * each row is a product; its images are the mapped paths (relative to the folder, several
 * separated by '|'), or else the files named after its id: `<id>.jpg`, `<id>_2.jpg`,
 * `<id>-back.png`, or any image in a folder named `<id>`.
 */
export async function folderSource(spec: FolderSpec, name: string, http: HttpClient, maxBytes: number): Promise<Source> {
  const files = await listImages(spec.dir);
  const records: unknown[] = spec.meta
    ? await readRecords(spec.meta, spec.itemsPath)
    : files.map((file) => ({ id: file.replace(/\.[^./]+$/, ''), title: titleFromFile(file), image: file }));
  const byId = spec.meta ? filesById(files) : new Map<string, string[]>();
  const inFolder = (ref: string) => path.resolve(spec.dir, ref);
  return localSource('folder', name, records, spec.pageSize!, {
    resolveImages: ({ key, imageRefs }) => (imageRefs.length ? imageRefs : (byId.get(key) ?? [])).map(inFolder),
    load: (location) => loadImage(location, http, maxBytes),
  });
}

/** Rows with image paths (relative to the manifest's folder) or URLs, plus product fields. */
export async function manifestSource(spec: ManifestSpec, name: string, http: HttpClient, maxBytes: number): Promise<Source> {
  const records = await readRecords(spec.file, spec.itemsPath);
  const base = path.dirname(spec.file);
  return localSource('manifest', name, records, spec.pageSize!, {
    resolveImages: ({ imageRefs }) => imageRefs.map((ref) => (/^https?:\/\//i.test(ref) ? ref : path.resolve(base, ref))),
    load: (location) => loadImage(location, http, maxBytes),
  });
}

function localSource(
  kind: 'folder' | 'manifest',
  name: string,
  records: unknown[],
  pageSize: number,
  io: Pick<SourcePage, 'resolveImages'> & Pick<Source, 'load'>,
): Source {
  return {
    kind,
    name,
    total: records.length,
    async *pages(fromPage: number) {
      for (const page of pagesOf(records, pageSize, fromPage)) yield { ...page, resolveImages: io.resolveImages };
    },
    load: io.load,
  };
}

/** Index of image files by the ids they may belong to (see folderSource). */
function filesById(files: string[]): Map<string, string[]> {
  const index = new Map<string, string[]>();
  const add = (id: string, file: string) => index.set(id, [...(index.get(id) ?? []), file]);
  for (const file of files) {
    const stem = path.posix.basename(file).replace(/\.[^.]+$/, '');
    const ids = new Set([stem, path.posix.basename(path.posix.dirname(file))]);
    for (let i = 0; i < stem.length; i++) if (stem[i] === '_' || stem[i] === '-') ids.add(stem.slice(0, i));
    for (const id of ids) if (id && id !== '.') add(id, file);
  }
  // The file named exactly <id> first, then the others by name.
  for (const [id, list] of index) {
    list.sort((a, b) => Number(stemOf(b) === id) - Number(stemOf(a) === id) || (a < b ? -1 : a > b ? 1 : 0));
  }
  return index;
}

const stemOf = (file: string) => path.posix.basename(file).replace(/\.[^.]+$/, '');

function titleFromFile(file: string): string {
  const words = stemOf(file).replace(/[_-]+/g, ' ').trim();
  return words ? words[0]!.toUpperCase() + words.slice(1) : file;
}
