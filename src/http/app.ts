import { expressMiddleware } from '@as-integrations/express5';
import type { ApolloServer } from '@apollo/server';
import express, { type ErrorRequestHandler } from 'express';
import graphqlUploadExpress from 'graphql-upload/graphqlUploadExpress.mjs';
import type { Logger } from 'pino';
import { toClientError } from '../errors.js';
import type { ApiContext, Services } from '../resolvers/context.js';
import { MEDIA_PREFIX } from '../storage/media-store.js';
import { isAdminRequest } from './admin-auth.js';
import { rootPage } from './root-page.js';

export interface AppOptions {
  apollo: ApolloServer<ApiContext>;
  services: Services;
  mediaRoot: string;
  adminApiKey?: string;
  uploadMaxBytes: number;
  uploadMaxFiles: number;
  health: () => Promise<Record<string, unknown>>;
  logger: Logger;
}

export function createApp(options: AppOptions): express.Express {
  const app = express();
  app.disable('x-powered-by');

  app.use(
    '/graphql',
    express.json({ limit: '1mb' }),
    graphqlUploadExpress({ maxFileSize: options.uploadMaxBytes, maxFiles: options.uploadMaxFiles }),
    expressMiddleware(options.apollo, {
      context: async ({ req }) => ({
        ...options.services,
        isAdmin: isAdminRequest(req.headers.authorization, options.adminApiKey),
      }),
    }),
  );

  // Media names are content hashes, so a file never changes: cache it for a year.
  app.use(
    MEDIA_PREFIX,
    express.static(options.mediaRoot, { dotfiles: 'deny', index: false, redirect: false, immutable: true, maxAge: '365d' }),
    (_req, res) => void res.status(404).type('text/plain').send('Not found'),
  );

  app.get('/healthz', async (_req, res) => {
    res.json({ ok: true, ...(await options.health()) });
  });
  app.get('/', (_req, res) => void res.type('html').send(rootPage()));

  const onError: ErrorRequestHandler = (error, req, res, _next) => {
    const { error: client, expected } = toClientError(error);
    if (!expected) options.logger.error({ err: error, url: req.url }, 'request failed');
    const status = (error as { status?: number }).status ?? 500;
    res.status(expected ? status : 500).json({ errors: [{ message: client.message, extensions: client.extensions }] });
  };
  app.use(onError);
  return app;
}
