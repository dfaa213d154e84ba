import { existsSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { expressMiddleware } from '@as-integrations/express5';
import compression from 'compression';
import type { ApolloServer } from '@apollo/server';
import express, { type ErrorRequestHandler } from 'express';
import type { Logger } from 'pino';
import type { ErrorCode } from '../errors.js';
import type { ApiContext, Services } from '../resolvers/context.js';
import { MEDIA_PREFIX } from '../storage/media-store.js';
import { isAdminRequest } from './admin-auth.js';
import { HTTP_STATUS, retryAfterSeconds, toClientError, toRestError } from './client-errors.js';
import { healthRoutes, type HealthOptions } from './health.js';
import { METRICS_PATH, type Metrics } from './metrics.js';
import { StageTimer } from '../search/stage-timer.js';
import { searchRateLimit } from './rate-limit.js';
import { REST_PREFIX, restApi } from './rest-api.js';
import { rootPage } from './root-page.js';
import { graphqlUploads, UploadMemory } from './uploads.js';

export interface AppOptions {
  apollo: ApolloServer<ApiContext>;
  services: Services;
  mediaRoot: string;
  adminApiKey?: string;
  uploadMaxBytes: number;
  uploadMaxFiles: number;
  /** Bytes of GraphQL uploads held in memory at once, over all requests (UPLOAD_MEMORY_MB). */
  uploadMemoryBytes: number;
  /** Requests per client IP per minute on the search endpoints (/graphql, /api); 0: no limit. */
  rateLimitPerMinute: number;
  /** Express's 'trust proxy': hops or proxy addresses whose X-Forwarded-For names the client (TRUST_PROXY). */
  trustProxy: false | number | string;
  /** Throws OVERLOADED when the search queue is full (the load shedder's early refusal). */
  refuseIfOverloaded: () => void;
  health: HealthOptions;
  metrics: Metrics;
  logger: Logger;
  /** The built web page and GraphiQL (web/dist); default: found next to the code; null: none. */
  webRoot?: string | null;
}

/** web/dist, looked up from src/http (tsx) or dist/src/http (built); undefined when not built. */
export function findWebRoot(): string | undefined {
  const here = path.dirname(fileURLToPath(import.meta.url));
  return ['../..', '../../..']
    .map((up) => path.resolve(here, up, 'web/dist'))
    .find((dir) => existsSync(path.join(dir, 'index.html')));
}

export function createApp(options: AppOptions): express.Express {
  const app = express();
  app.disable('x-powered-by');
  app.set('trust proxy', options.trustProxy);

  // Before the rate limit and the load shedder: an overloaded service is when it is needed most.
  app.get(METRICS_PATH, options.metrics.handler());
  // Every API request carries a StageTimer; its time (and a search's stages) go to /metrics once answered.
  app.use(['/graphql', REST_PREFIX], (req, res, next) => {
    const timer = new StageTimer();
    res.locals.timer = timer;
    const endpoint = req.baseUrl === REST_PREFIX ? 'rest' : 'graphql';
    res.once('finish', () => options.metrics.observe(endpoint, res.statusCode, timer));
    next();
  });
  if (options.rateLimitPerMinute > 0) app.use(['/graphql', REST_PREFIX], searchRateLimit(options.rateLimitPerMinute));
  // Under overload an upload is refused before its body is read: reading and parsing it would
  // take the time the admitted searches need. (Other requests meet the search queue itself.)
  app.use(['/graphql', REST_PREFIX], (req, _res, next) => {
    if (!req.is(['multipart/form-data', 'image/*'])) return next();
    try {
      options.refuseIfOverloaded();
    } catch (error) {
      return next(error);
    }
    next();
  });
  app.use(
    '/graphql',
    express.json({ limit: '1mb' }),
    graphqlUploads({ maxFileSize: options.uploadMaxBytes, maxFiles: options.uploadMaxFiles, memory: new UploadMemory(options.uploadMemoryBytes) }),
    expressMiddleware(options.apollo, {
      context: async ({ req, res }) => ({
        ...options.services,
        isAdmin: isAdminRequest(req.headers.authorization, options.adminApiKey),
        timer: res.locals.timer as StageTimer,
      }),
    }),
  );

  // The one-request REST search (POST /api/match) and its OpenAPI document.
  app.use(REST_PREFIX, restApi({ services: options.services, uploadMaxBytes: options.uploadMaxBytes, logger: options.logger }));

  // Media names are content hashes, so a file never changes: cache it for a year. Some are the
  // bytes a store sent (small bare photos): a browser takes them for the image type they are named.
  const nosniff = (res: express.Response) => void res.setHeader('X-Content-Type-Options', 'nosniff');
  app.use(
    MEDIA_PREFIX,
    express.static(options.mediaRoot, { dotfiles: 'deny', index: false, redirect: false, immutable: true, maxAge: '365d', setHeaders: nosniff }),
    (_req, res) => void res.status(404).type('text/plain').send('Not found'),
  );

  healthRoutes(app, options.health);
  // The web page (search, catalog, product pages: one index.html) and GraphiQL, built by Vite
  // into web/dist (`npm run build`). Without a build, / explains the API in one page.
  const webRoot = options.webRoot === undefined ? findWebRoot() : (options.webRoot ?? undefined);
  if (webRoot) {
    // Vite names assets by content hash: cache them for a year, and gzip them (GraphiQL's editor
    // is 2.8 MB as it is, 0.7 MB gzipped).
    const gzip = compression();
    app.use(
      '/assets',
      gzip,
      express.static(path.join(webRoot, 'assets'), { index: false, redirect: false, immutable: true, maxAge: '365d' }),
      (_req, res) => void res.status(404).type('text/plain').send('Not found'),
    );
    const page = (file: string): express.RequestHandler => (_req, res) =>
      void res.sendFile(path.join(webRoot, file), { headers: { 'cache-control': 'no-cache' } });
    app.get(['/', '/catalog', '/product/:id'], gzip, page('index.html'));
    app.get(['/graphiql', '/graphiql/'], gzip, page('graphiql/index.html'));
  } else {
    app.get('/', (_req, res) => void res.type('html').send(rootPage()));
    app.get('/graphiql', (_req, res) => void res.status(404).type('text/plain').send('GraphiQL is not built: run `npm run build`.'));
  }

  // Errors raised before Apollo or the REST handlers run (rate limit, body parsers, uploads), in
  // the shape of the API the request was for.
  const onError: ErrorRequestHandler = (error, req, res, _next) => {
    const { error: client, expected } = toClientError(error);
    if (!expected) options.logger.error({ err: error, url: req.url }, 'request failed');
    const code = client.extensions.code as ErrorCode;
    const seconds = retryAfterSeconds(code);
    if (seconds !== undefined && !res.get('retry-after')) res.set('retry-after', String(seconds));
    if (req.originalUrl.startsWith(`${REST_PREFIX}/`)) {
      const rest = toRestError(error);
      return void res.status(rest.status).json(rest.body);
    }
    const status = (error as { status?: number }).status ?? HTTP_STATUS[code];
    res.status(expected ? status : 500).json({ errors: [{ message: client.message, extensions: client.extensions }] });
  };
  app.use(onError);
  return app;
}
