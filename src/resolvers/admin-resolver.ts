import GraphQLUpload from 'graphql-upload/GraphQLUpload.mjs';
import type { FileUpload } from 'graphql-upload/processRequest.mjs';
import { Arg, Ctx, ID, Int, Mutation, Query, Resolver, UseMiddleware } from 'type-graphql';
import type { IngestJobView } from '../ingest/ingest-service.js';
import type { ProductWriteView } from '../catalog/product-editor.js';
import type { ProductView } from '../catalog/views.js';
import { IngestJob, IngestSourceInput, ProductInput, ProductUpdateInput, ProductWriteResult } from '../schema/admin.js';
import { Product } from '../schema/product.js';
import { AdminOnly } from './admin-guard.js';
import type { ApiContext } from './context.js';
import { readUpload } from './uploads.js';

const readAll = (uploads: Promise<FileUpload>[] | null | undefined) => Promise.all((uploads ?? []).map((u) => readUpload(u)));

@Resolver()
@UseMiddleware(AdminOnly)
export class AdminResolver {
  @Mutation(() => ProductWriteResult, { description: 'Admin: adds a product with its photos; searchable at once.' })
  async createProduct(
    @Ctx() ctx: ApiContext,
    @Arg('input', () => ProductInput) input: ProductInput,
    @Arg('images', () => [GraphQLUpload], { nullable: true }) images?: Promise<FileUpload>[] | null,
  ): Promise<ProductWriteView> {
    return ctx.admin.createProduct(input, await readAll(images));
  }

  @Mutation(() => Product, { description: 'Admin: changes a product’s fields.' })
  updateProduct(
    @Ctx() ctx: ApiContext,
    @Arg('id', () => ID) id: string,
    @Arg('input', () => ProductUpdateInput) input: ProductUpdateInput,
  ): Promise<ProductView> {
    return ctx.admin.updateProduct(id, input);
  }

  @Mutation(() => Boolean, { description: 'Admin: deletes a product, its images and their media; gone from search at once.' })
  deleteProduct(@Ctx() ctx: ApiContext, @Arg('id', () => ID) id: string): Promise<boolean> {
    return ctx.admin.deleteProduct(id);
  }

  @Mutation(() => ProductWriteResult, { description: 'Admin: adds photos to a product.' })
  async addProductImages(
    @Ctx() ctx: ApiContext,
    @Arg('productId', () => ID) productId: string,
    @Arg('images', () => [GraphQLUpload]) images: Promise<FileUpload>[],
  ): Promise<ProductWriteView> {
    return ctx.admin.addProductImages(productId, await readAll(images));
  }

  @Mutation(() => Product, { description: 'Admin: removes one photo of a product.' })
  removeProductImage(@Ctx() ctx: ApiContext, @Arg('imageId', () => ID) imageId: string): Promise<ProductView> {
    return ctx.admin.removeProductImage(imageId);
  }

  @Mutation(() => IngestJob, { description: 'Admin: starts (or resumes) an ingest in the background; poll ingestJob(id).' })
  startIngest(@Ctx() ctx: ApiContext, @Arg('source', () => IngestSourceInput) source: IngestSourceInput): Promise<IngestJobView> {
    return ctx.admin.startIngest(source);
  }

  @Query(() => IngestJob, { nullable: true, description: 'Admin: an ingest run and its progress.' })
  ingestJob(@Ctx() ctx: ApiContext, @Arg('id', () => ID) id: string): Promise<IngestJobView | null> {
    return ctx.admin.ingestJob(id);
  }

  @Query(() => [IngestJob], { description: 'Admin: the latest ingest runs, newest first.' })
  ingestJobs(@Ctx() ctx: ApiContext, @Arg('first', () => Int, { defaultValue: 20 }) first = 20): Promise<IngestJobView[]> {
    return ctx.admin.ingestJobs(first);
  }
}
