// Bounded work per GraphQL operation, checked after parsing and validation and before anything
// runs: an estimated cost (aliases count once each, lists by their size, searches by their
// shortlist) and a count of the fields that decode an image or run the models. One 24 KB request
// of 200 aliased re-ranked searches otherwise costs seconds and hundreds of megabytes.
import type { ApolloServerPlugin } from '@apollo/server';
import { GraphQLError, type GraphQLSchema } from 'graphql';
// The CommonJS build: it shares the `graphql` module instance with type-graphql's schema (the ESM
// build imports graphql/index.mjs, another instance, and refuses the schema's types).
import { getComplexity, type ComplexityEstimator } from 'graphql-query-complexity/cjs';
import { MAX_PAGE_SIZE } from '../catalog/catalog-service.js';
import { defaultRerank, MAX_RERANK_CANDIDATES, MAX_TOP_K } from '../search/search-service.js';

export interface QueryLimits {
  /** Largest estimated cost of one operation (QUERY_MAX_COST). */
  maxCost: number;
  /** Most searches, re-ranks and image uploads in one operation (QUERY_MAX_SEARCHES). */
  maxSearches: number;
}

/** Fields that decode images or run the models: each is a search's worth of work. */
const HEAVY_FIELDS = new Set(['similarProducts', 'rerankSearch', 'addProduct', 'addProductImages']);
/** A search's own cost: decoding, the embedder, the nearest-neighbour query. */
const SEARCH_COST = 20;
/** Any other top-level field is a database round trip at least. */
const ROOT_FIELD_COST = 10;

/**
 * The cost of a field: 1 (10 at the top level), plus its selection once per item for the lists
 * whose size an argument sets; a search adds its fixed cost and its re-rank shortlist (one scorer
 * pass per candidate).
 */
// Sizes past what the services accept are counted at the largest they accept: the service then
// refuses them with BAD_USER_INPUT, which says more than QUERY_TOO_COMPLEX would.
const LARGEST_LIST = Math.max(MAX_TOP_K, MAX_PAGE_SIZE);
const clamp = (value: unknown, max: number) => Math.min(max, Math.max(1, Number(value) || 1));

const cost: ComplexityEstimator = ({ type, field, args, childComplexity }) => {
  const items = clamp(args.topK ?? args.first, LARGEST_LIST);
  if (field.name === 'similarProducts') {
    return SEARCH_COST + (args.rerank ? defaultRerank(items).candidates : 0) + items * childComplexity;
  }
  if (field.name === 'rerankSearch') return SEARCH_COST + clamp(args.candidates, MAX_RERANK_CANDIDATES) + items * childComplexity;
  const own = type.name === 'Query' || type.name === 'Mutation' ? ROOT_FIELD_COST : 1;
  return own + items * childComplexity;
};

const heavy: ComplexityEstimator = ({ field, childComplexity }) =>
  (HEAVY_FIELDS.has(field.name) ? 1 : 0) + childComplexity;

const tooComplex = (message: string) =>
  new GraphQLError(message, { extensions: { code: 'QUERY_TOO_COMPLEX', http: { status: 400 } } });

export function queryLimitsPlugin(schema: GraphQLSchema, limits: QueryLimits): ApolloServerPlugin {
  return {
    async requestDidStart() {
      return {
        async didResolveOperation({ request, document }) {
          const measure = (estimator: ComplexityEstimator) => {
            try {
              return getComplexity({
                schema,
                query: document,
                variables: request.variables ?? {},
                operationName: request.operationName,
                estimators: [estimator],
              });
            } catch (error) {
              // Malformed variables: execution refuses them with its own coded error. (By name: the
              // error may come from another instance of the graphql module than this file's.)
              if ((error as Error).name === 'GraphQLError') return 0;
              throw error;
            }
          };
          const searches = measure(heavy);
          if (searches > limits.maxSearches) {
            throw tooComplex(
              `The operation asks for ${searches} searches or uploads; the limit is ${limits.maxSearches} per request.`,
            );
          }
          const total = measure(cost);
          if (total > limits.maxCost) {
            throw tooComplex(
              `The operation's estimated cost is ${total}; the limit is ${limits.maxCost}. Ask for fewer fields, aliases or items.`,
            );
          }
        },
      };
    },
  };
}
