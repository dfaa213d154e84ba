import type { AdaptationService } from '../adapt/adaptation-service.js';
import type { CatalogService } from '../catalog/catalog-service.js';
import type { AdminService } from '../ingest/admin-service.js';
import type { ModelService } from '../models/model-service.js';
import type { SearchService } from '../search/search-service.js';
import type { StageTimer } from '../search/stage-timer.js';

/** What every resolver gets: the services, built once by the composition root. */
export interface Services {
  search: SearchService;
  catalog: CatalogService;
  /** Product edits and ingest jobs; resolvers guard it with the admin key (admin-guard.ts). */
  admin: AdminService;
  /** Model versions: list for all; register, activate, retire for admins. */
  models: ModelService;
  /** Catalog adaptation jobs; admin-only like `admin`. */
  adaptation: AdaptationService;
  fetchImageUrl: (url: string) => Promise<Buffer>;
}

export interface ApiContext extends Services {
  /** The request carried the admin API key. */
  isAdmin: boolean;
  /** Where this request's time goes (Server-Timing, /metrics). */
  timer: StageTimer;
}
