// What the pipeline asks of a catalog source: pages of raw records, a way to turn an item's
// image references into loadable locations, and the bytes behind a location.

export interface SourcePage {
  /** 0-based page number within this source's listing (what progress counts). */
  index: number;
  /** Raw records (mapped to products by the pipeline), or RecordError for unreadable ones. */
  records: unknown[];
  /** Absolute URLs or paths of an item's images, from its mapped references (may be none). */
  resolveImages(item: { key: string; imageRefs: string[] }): string[];
}

export interface Source {
  kind: 'api' | 'folder' | 'manifest';
  /** products.source of what it yields. */
  name: string;
  /** Records in all, when known up front (local files). */
  total: number | null;
  /** Pages from `fromPage` on, in a stable order; ends after the last page. */
  pages(fromPage: number): AsyncIterable<SourcePage>;
  /** Bytes of one image (a URL or a path from resolveImages). */
  load(location: string): Promise<Buffer>;
}

/** A record that could not be read (a malformed JSONL line): one failed item, not a failed run. */
export class RecordError extends Error {}
