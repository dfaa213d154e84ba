import { AppError } from '../../errors.js';
import { FetchError, type HttpClient } from '../../fetch/http-client.js';
import { valuesAt } from '../mapping.js';
import type { IngestSpec } from '../spec.js';
import type { Source, SourcePage } from './types.js';

type ApiSpec = Extract<IngestSpec, { kind: 'api' }>;

/**
 * A store's paginated JSON API: `<url>?<pageParam>=<n>&<sizeParam>=<size>`, records at
 * itemsPath, image URLs resolved against the page URL. Ends at an empty page or maxPages.
 */
export function apiSource(spec: ApiSpec, name: string, http: HttpClient): Source {
  const pageUrl = (index: number) => {
    const url = new URL(spec.url);
    url.searchParams.set(spec.pageParam, String(spec.startPage + index));
    url.searchParams.set(spec.sizeParam, String(spec.pageSize));
    return url.href;
  };
  return {
    kind: 'api',
    name,
    total: null,
    async *pages(fromPage: number): AsyncGenerator<SourcePage> {
      for (let index = fromPage; spec.maxPages === undefined || index < spec.maxPages; index++) {
        const url = pageUrl(index);
        const [records] = valuesAt(await http.json(url), spec.itemsPath ?? '');
        if (!Array.isArray(records)) {
          throw new AppError('BAD_USER_INPUT', `${url}: no array at "${spec.itemsPath ?? ''}" (name the path to the products with --items).`);
        }
        if (records.length === 0) return;
        yield { index, records, resolveImages: ({ imageRefs }) => imageRefs.map((ref) => new URL(ref, url).href) };
      }
    },
    async load(location) {
      // An API names images by URL; a file: or data: reference in its data is not followed.
      if (!/^https?:\/\//i.test(location)) throw new FetchError(`not an http(s) URL: ${location}`);
      return http.bytes(location);
    },
  };
}
