import { createClient } from '../../client/index.js';

/** The page's API client: same origin, /graphql. */
export const api = createClient();
