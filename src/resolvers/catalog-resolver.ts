import { Arg, Ctx, ID, Int, Query, Resolver } from 'type-graphql';
import { CatalogStats } from '../schema/catalog.js';
import { ProductFilterInput } from '../schema/inputs.js';
import { Product, ProductConnection } from '../schema/product.js';
import type { ApiContext } from './context.js';

@Resolver()
export class CatalogResolver {
  @Query(() => Product, { nullable: true })
  product(@Ctx() ctx: ApiContext, @Arg('id', () => ID) id: string): Promise<Product | null> {
    return ctx.catalog.product(id);
  }

  @Query(() => ProductConnection, { description: 'Catalog products, oldest first, in pages.' })
  products(
    @Ctx() ctx: ApiContext,
    @Arg('first', () => Int, { defaultValue: 20 }) first = 20,
    @Arg('after', () => String, { nullable: true }) after?: string,
    @Arg('filter', () => ProductFilterInput, { nullable: true }) filter?: ProductFilterInput,
  ): Promise<ProductConnection> {
    return ctx.catalog.products(first, after, filter ?? undefined);
  }

  @Query(() => CatalogStats)
  catalogStats(@Ctx() ctx: ApiContext): Promise<CatalogStats> {
    return ctx.catalog.stats();
  }
}
