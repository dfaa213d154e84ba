// The page pipeline: a source's pages, one ahead of the writer, each mapped to products and its
// images loaded and validated concurrently. Items done earlier in the run (resume) or repeated by
// the source are left out; unreadable records and items without images become failed items.
import pLimit from 'p-limit';
import type { PreparedImage } from '../catalog/import-types.js';
import type { ProductImporter } from '../catalog/product-importer.js';
import type { FailureRecord, ProductRecord } from '../db/index.js';
import { FetchError } from '../fetch/http-client.js';
import { ImageError } from '../images/index.js';
import { mapRecord, type FieldMap } from './mapping.js';
import { RecordError, type Source, type SourcePage } from './sources/types.js';
import type { StageClock } from './stage-clock.js';

export interface PreparedItem {
  key: string;
  product: ProductRecord | null;
  images: PreparedImage[];
  /** Images (or the whole item) that failed, with reasons. */
  failures: FailureRecord[];
}

export interface PreparedPage {
  index: number;
  items: PreparedItem[];
}

export function failedItem(key: string, code: string, reason: string): PreparedItem {
  return { key, product: null, images: [], failures: [{ itemKey: key, image: null, code, reason }] };
}

export class PagePipeline {
  private readonly limit: ReturnType<typeof pLimit>;

  constructor(
    private readonly source: Source,
    private readonly importer: ProductImporter,
    private readonly map: FieldMap,
    /** Item keys already handled; the pipeline adds the ones it hands out. */
    private readonly seen: Set<string>,
    concurrency: number,
    private readonly clock: StageClock,
  ) {
    this.limit = pLimit(concurrency);
  }

  /** Prepared pages from `fromPage` on; the next page is prepared while the caller writes this one. */
  async *pages(fromPage: number): AsyncGenerator<PreparedPage> {
    const pages = this.source.pages(fromPage)[Symbol.asyncIterator]();
    const prepareNext = async (): Promise<PreparedPage | null> => {
      const next = await pages.next();
      return next.done ? null : this.preparePage(next.value);
    };
    let upcoming = prepareNext();
    for (let page = await upcoming; page; page = await upcoming) {
      upcoming = prepareNext();
      upcoming.catch(() => undefined);
      yield page;
    }
  }

  /** Maps a page's records and loads and validates their images, concurrently. */
  private async preparePage(page: SourcePage): Promise<PreparedPage> {
    const items: Promise<PreparedItem>[] = [];
    page.records.forEach((record, i) => {
      const fallbackKey = `@p${page.index}#${i}`;
      if (record instanceof RecordError) {
        if (this.seen.has(fallbackKey)) return;
        this.seen.add(fallbackKey);
        items.push(Promise.resolve(failedItem(fallbackKey, 'BAD_RECORD', record.message)));
        return;
      }
      const mapped = mapRecord(record, this.map, this.source.name);
      const key = mapped.key ?? fallbackKey;
      // Done in an earlier attempt of this run (resume), or an id the source repeats.
      if (this.seen.has(key)) return;
      this.seen.add(key);
      if (!mapped.ok) return void items.push(Promise.resolve(failedItem(key, mapped.code, mapped.reason)));
      const locations = page.resolveImages(mapped);
      if (locations.length === 0) return void items.push(Promise.resolve(failedItem(key, 'NO_IMAGES', 'the item names no image')));
      items.push(
        (async () => {
          const loaded = await Promise.all(locations.map((location) => this.limit(() => this.loadImage(location))));
          return {
            key,
            product: mapped.product,
            images: loaded.flatMap((l) => ('image' in l ? [l.image] : [])),
            failures: loaded.flatMap((l) => ('failure' in l ? [{ ...l.failure, itemKey: key }] : [])),
          };
        })(),
      );
    });
    return { index: page.index, items: await Promise.all(items) };
  }

  private async loadImage(location: string): Promise<{ image: PreparedImage } | { failure: FailureRecord }> {
    try {
      const bytes = await this.clock.time('read', 1, () => this.source.load(location));
      return { image: await this.clock.time('validate', 1, () => this.importer.prepare(bytes, location)) };
    } catch (error) {
      if (error instanceof FetchError) return { failure: { itemKey: null, image: location, code: 'IMAGE_FETCH_FAILED', reason: error.message } };
      if (error instanceof ImageError) return { failure: { itemKey: null, image: location, code: error.code, reason: error.message } };
      throw error;
    }
  }
}
