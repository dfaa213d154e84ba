import { ProductEditor } from '../catalog/product-editor.js';
import type { CatalogService } from '../catalog/catalog-service.js';
import type { ProductImporter } from '../catalog/product-importer.js';
import type { Database } from '../db/index.js';
import { AppError } from '../errors.js';
import type { MediaStore } from '../storage/media-store.js';
import type { IngestJobView, IngestService } from './ingest-service.js';
import type { IngestSpecInput } from './spec.js';

const MAX_JOBS_LISTED = 100;

/** startIngest's argument: one flat record for every kind of source (null = not given). */
export interface IngestSourceFields {
  kind: 'api' | 'folder' | 'manifest';
  url?: string | null;
  path?: string | null;
  meta?: string | null;
  map?: string | null;
  itemsPath?: string | null;
  sourceName?: string | null;
  pageParam?: string | null;
  sizeParam?: string | null;
  pageSize?: number | null;
  startPage?: number | null;
  maxPages?: number | null;
  prune?: boolean | null;
  nearDuplicates?: 'link' | 'skip' | null;
}

type NonNullFields<T> = { [K in keyof T]: Exclude<T[K], null> };

/**
 * What the admin API offers: the product editor's edits (src/catalog) and ingest jobs. Callers
 * check the admin key; `enabled` says whether one is configured at all.
 */
export class AdminService extends ProductEditor {
  constructor(
    db: Database,
    importer: ProductImporter,
    media: MediaStore,
    catalog: CatalogService,
    private readonly ingest: IngestService,
    readonly options: { enabled: boolean },
  ) {
    super(db, importer, media, catalog);
  }

  get enabled(): boolean {
    return this.options.enabled;
  }

  startIngest(source: IngestSourceFields): Promise<IngestJobView> {
    const f = Object.fromEntries(Object.entries(source).map(([k, v]) => [k, v ?? undefined])) as NonNullFields<IngestSourceFields>;
    const common = { map: f.map, itemsPath: f.itemsPath, source: f.sourceName, pageSize: f.pageSize };
    const spec: IngestSpecInput =
      f.kind === 'api'
        ? { kind: 'api', url: f.url!, pageParam: f.pageParam, sizeParam: f.sizeParam, startPage: f.startPage, maxPages: f.maxPages, ...common }
        : f.kind === 'folder'
          ? { kind: 'folder', dir: f.path!, meta: f.meta, ...common }
          : { kind: 'manifest', file: f.path!, ...common };
    return this.ingest.start(spec, { prune: f.prune, nearDuplicates: f.nearDuplicates });
  }

  ingestJob(id: string): Promise<IngestJobView | null> {
    return this.ingest.job(id);
  }

  ingestJobs(first: number): Promise<IngestJobView[]> {
    if (!Number.isInteger(first) || first < 1 || first > MAX_JOBS_LISTED) {
      throw new AppError('BAD_USER_INPUT', `first must be between 1 and ${MAX_JOBS_LISTED}.`);
    }
    return this.ingest.jobs(first);
  }
}
