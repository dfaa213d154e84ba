import 'reflect-metadata';
import { ApolloServer } from '@apollo/server';
import { unwrapResolverError } from '@apollo/server/errors';
import { ApolloServerPluginLandingPageDisabled } from '@apollo/server/plugin/disabled';
import type { GraphQLFormattedError, GraphQLSchema } from 'graphql';
import type { Logger } from 'pino';
import { buildSchema } from 'type-graphql';
import { AdminResolver } from '../resolvers/admin-resolver.js';
import { CatalogResolver } from '../resolvers/catalog-resolver.js';
import type { ApiContext } from '../resolvers/context.js';
import { SearchResolver } from '../resolvers/search-resolver.js';
import { toClientError } from './client-errors.js';

export function buildApiSchema(): Promise<GraphQLSchema> {
  return buildSchema({ resolvers: [SearchResolver, CatalogResolver, AdminResolver], validate: false });
}

/** Apollo with CSRF prevention on, no CDN landing page, and no internals in error responses. */
export async function createApollo(schema: GraphQLSchema, logger: Logger): Promise<ApolloServer<ApiContext>> {
  const server = new ApolloServer<ApiContext>({
    schema,
    csrfPrevention: true,
    introspection: true,
    includeStacktraceInErrorResponses: false,
    plugins: [ApolloServerPluginLandingPageDisabled()],
    formatError: (formatted: GraphQLFormattedError, error: unknown): GraphQLFormattedError => {
      // Errors Apollo and graphql-js raise themselves (parse, validation, variables) are already coded.
      const original = unwrapResolverError(error);
      if (original === error && formatted.extensions?.code && formatted.extensions.code !== 'INTERNAL_SERVER_ERROR') {
        return formatted;
      }
      const { error: client, expected } = toClientError(original);
      if (!expected) logger.error({ err: original, path: formatted.path }, 'unexpected error in a resolver');
      return { message: client.message, path: formatted.path, locations: formatted.locations, extensions: client.extensions };
    },
  });
  await server.start();
  return server;
}
