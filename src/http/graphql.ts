import 'reflect-metadata';
import { ApolloServer } from '@apollo/server';
import { unwrapResolverError } from '@apollo/server/errors';
import { ApolloServerPluginLandingPageDisabled } from '@apollo/server/plugin/disabled';
import { InMemoryLRUCache } from '@apollo/utils.keyvaluecache';
import type { ApolloServerPlugin } from '@apollo/server';
import type { GraphQLFormattedError, GraphQLSchema } from 'graphql';
import type { ErrorCode } from '../errors.js';
import type { Logger } from 'pino';
import { buildSchema } from 'type-graphql';
import { AdaptationResolver } from '../resolvers/adaptation-resolver.js';
import { AdminResolver } from '../resolvers/admin-resolver.js';
import { CatalogResolver } from '../resolvers/catalog-resolver.js';
import { ModelResolver } from '../resolvers/model-resolver.js';
import type { ApiContext } from '../resolvers/context.js';
import { SearchResolver } from '../resolvers/search-resolver.js';
import { HTTP_STATUS, retryAfterSeconds, toClientError } from './client-errors.js';
import { queryLimitsPlugin, type QueryLimits } from './query-limits.js';

export function buildApiSchema(): Promise<GraphQLSchema> {
  return buildSchema({ resolvers: [SearchResolver, CatalogResolver, AdminResolver, ModelResolver, AdaptationResolver], validate: false });
}

/** Longest GraphQL document, in tokens: the web page's largest query is a few hundred. */
const MAX_TOKENS = 5000;
// Parsed and validated operations, by their text. Apollo's default holds 30 MB, which a stream of
// distinct hostile documents fills and keeps (measured: the heap stayed 50 MB up after 10,000
// hostile requests, bench/results/attack.md); the API's own operations need a small fraction.
const DOCUMENT_STORE_BYTES = 2 * 2 ** 20;

/**
 * Apollo with CSRF prevention on, no CDN landing page, no internals in error responses, and
 * bounded work per operation. The service owns shutdown (src/main.ts), so Apollo installs no
 * signal handlers of its own: they would re-send SIGTERM after ours and cut requests off.
 */
export async function createApollo(schema: GraphQLSchema, logger: Logger, limits: QueryLimits): Promise<ApolloServer<ApiContext>> {
  const server = new ApolloServer<ApiContext>({
    schema,
    csrfPrevention: true,
    introspection: true,
    includeStacktraceInErrorResponses: false,
    stopOnTerminationSignals: false,
    parseOptions: { maxTokens: MAX_TOKENS },
    documentStore: new InMemoryLRUCache({ maxSize: DOCUMENT_STORE_BYTES }),
    plugins: [ApolloServerPluginLandingPageDisabled(), queryLimitsPlugin(schema, limits), retryLaterStatus(), serverTiming()],
    formatError: (formatted: GraphQLFormattedError, error: unknown): GraphQLFormattedError => {
      // Errors Apollo and graphql-js raise themselves (parse, validation, variables) are already coded.
      const original = unwrapResolverError(error);
      if (original === error && formatted.extensions?.code && formatted.extensions.code !== 'INTERNAL_SERVER_ERROR') {
        return formatted;
      }
      // graphql-js refuses an argument while executing (an explicit null for an Int! with a
      // default) without a code: the request is at fault, not the server. (By name: the error may
      // come from another instance of the graphql module than this file's.)
      const plain = original as { name?: string; originalError?: unknown; message?: string };
      if (plain?.name === 'GraphQLError' && !plain.originalError && /^(Argument|Variable) "/.test(plain.message ?? '')) {
        return { ...formatted, extensions: { code: 'BAD_USER_INPUT' } };
      }
      const { error: client, expected } = toClientError(original);
      if (!expected) logger.error({ err: original, path: formatted.path }, 'unexpected error in a resolver');
      return { message: client.message, path: formatted.path, locations: formatted.locations, extensions: client.extensions };
    },
  });
  await server.start();
  return server;
}

/**
 * A response whose errors say "retry later" (OVERLOADED, DATABASE_UNAVAILABLE) gets their HTTP
 * status (503) and a Retry-After header, so that clients and proxies back off without reading
 * the body.
 */
function retryLaterStatus(): ApolloServerPlugin<ApiContext> {
  return {
    async requestDidStart() {
      return {
        async willSendResponse({ response }) {
          if (response.body.kind !== 'single') return;
          for (const error of response.body.singleResult.errors ?? []) {
            const seconds = retryAfterSeconds(error.extensions?.code as ErrorCode);
            if (seconds === undefined) continue;
            response.http.status = HTTP_STATUS[error.extensions!.code as ErrorCode];
            response.http.headers.set('retry-after', String(seconds));
            return;
          }
        },
      };
    },
  };
}

/** A search's stages as a Server-Timing header (browsers show it in their developer tools). */
function serverTiming(): ApolloServerPlugin<ApiContext> {
  return {
    async requestDidStart() {
      return {
        async willSendResponse({ response, contextValue }) {
          const timer = contextValue.timer;
          if (!timer?.stages().length) return;
          timer.addSinceLast('serialise');
          response.http.headers.set('server-timing', timer.serverTiming());
        },
      };
    },
  };
}
