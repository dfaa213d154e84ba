import GraphQLUpload from 'graphql-upload/GraphQLUpload.mjs';
import type { FileUpload } from 'graphql-upload/processRequest.mjs';
import { Arg, Ctx, ID, Int, Mutation, Query, Resolver } from 'type-graphql';
import { ProductFilterInput, RegionInput } from '../schema/inputs.js';
import { SearchResult } from '../schema/search.js';
import { querySource } from '../search/query-source.js';
import { DEFAULT_RERANK_CANDIDATES, defaultRerank } from '../search/search-service.js';
import type { ApiContext } from './context.js';
import { readUpload } from './uploads.js';

@Resolver()
export class SearchResolver {
  @Query(() => SearchResult, {
    description: 'Products that look most like a photo (upload or URL) or like a catalog product. Give exactly one source.',
  })
  async similarProducts(
    @Ctx() ctx: ApiContext,
    @Arg('image', () => GraphQLUpload, { nullable: true }) image?: Promise<FileUpload>,
    @Arg('imageUrl', () => String, { nullable: true }) imageUrl?: string,
    @Arg('productId', () => ID, { nullable: true, description: '"More like this".' }) productId?: string,
    @Arg('region', () => RegionInput, { nullable: true }) region?: RegionInput,
    @Arg('topK', () => Int, { defaultValue: 10 }) topK = 10,
    @Arg('filter', () => ProductFilterInput, { nullable: true }) filter?: ProductFilterInput,
    @Arg('rerank', () => Boolean, { defaultValue: false, description: 'Re-rank the top 50 with the pairwise scorer.' })
    rerank = false,
    @Arg('autoRegion', () => Boolean, {
      nullable: true,
      description: 'With no region: search the part of the photo that holds the product (default: the server’s AUTO_REGION).',
    })
    autoRegion?: boolean,
  ): Promise<SearchResult> {
    const source = await querySource(
      { readImage: image ? () => ctx.timer.time('upload', () => readUpload(image)) : undefined, imageUrl, productId },
      (url) => ctx.timer.time('upload', () => ctx.fetchImageUrl(url)),
    );
    return ctx.search.similarProducts({
      source,
      region,
      topK,
      filter: filter ?? undefined,
      rerank: rerank ? defaultRerank(topK) : undefined,
      autoRegion: autoRegion ?? undefined,
    }, ctx.timer);
  }

  @Mutation(() => SearchResult, {
    description: 'Re-ranks an earlier search’s top candidates with the pairwise (full Siamese) scorer.',
  })
  async rerankSearch(
    @Ctx() ctx: ApiContext,
    @Arg('searchId', () => ID) searchId: string,
    @Arg('candidates', () => Int, { defaultValue: DEFAULT_RERANK_CANDIDATES }) candidates = DEFAULT_RERANK_CANDIDATES,
    @Arg('topK', () => Int, { defaultValue: 10 }) topK = 10,
  ): Promise<SearchResult> {
    return ctx.search.rerankSearch(searchId, candidates, topK, ctx.timer);
  }
}
