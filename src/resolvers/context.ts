import type { AdaptationService } from '../adapt/adaptation-service.js';
import type { CatalogService } from '../catalog/catalog-service.js';
import type { AdminService } from '../ingest/admin-service.js';
import type { SearchService } from '../search/search-service.js';

/** What every resolver gets: the services, built once by the composition root. */
export interface Services {
  search: SearchService;
  catalog: CatalogService;
  /** Product edits and ingest jobs; resolvers guard it with the admin key (admin-guard.ts). */
  admin: AdminService;
  /** Catalog adaptation jobs; admin-only like `admin`. */
  adaptation: AdaptationService;
  fetchImageUrl: (url: string) => Promise<Buffer>;
}

export interface ApiContext extends Services {
  /** The request carried the admin API key. */
  isAdmin: boolean;
}
