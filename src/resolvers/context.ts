import type { CatalogService } from '../catalog/catalog-service.js';
import type { SearchService } from '../search/search-service.js';

/** What every resolver gets: the services, built once by the composition root. */
export interface Services {
  search: SearchService;
  catalog: CatalogService;
  fetchImageUrl: (url: string) => Promise<Buffer>;
}

export interface ApiContext extends Services {
  /** The request carried the admin API key. */
  isAdmin: boolean;
}
