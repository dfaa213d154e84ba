import { Field, Float, ID, Int, ObjectType } from 'type-graphql';
import { GraphQLJSONObject } from 'graphql-scalars';

@ObjectType({ description: 'A stored photo of a product, served in two renditions.' })
export class ProductImage {
  @Field(() => ID) id!: string;
  @Field(() => String, { description: 'Display rendition (long side at most 800 px).' }) url!: string;
  @Field(() => String, { description: 'Thumbnail rendition (long side at most 256 px).' }) thumbnailUrl!: string;
  @Field(() => Int, { description: 'Width of the original, after EXIF orientation.' }) width!: number;
  @Field(() => Int) height!: number;
  @Field(() => Int, { description: 'Order among the product’s images, 0 first.' }) position!: number;
  @Field(() => String, { description: 'sha256 of the original bytes.' }) sha256!: string;
}

@ObjectType({ description: 'A catalog product.' })
export class Product {
  @Field(() => ID) id!: string;
  @Field(() => String, { description: 'The store’s own id (SKU), unique within its source.' }) externalId!: string;
  @Field(() => String, { description: 'Where the product came from (an ingest source name, or "manual").' })
  source!: string;
  @Field(() => String) title!: string;
  @Field(() => String, { nullable: true }) description!: string | null;
  @Field(() => String, { nullable: true }) brand!: string | null;
  @Field(() => String, { nullable: true }) category!: string | null;
  @Field(() => String, { nullable: true }) colour!: string | null;
  @Field(() => Float, { nullable: true }) price!: number | null;
  @Field(() => String, { nullable: true, description: 'ISO 4217 code.' }) currency!: string | null;
  @Field(() => GraphQLJSONObject) attributes!: Record<string, unknown>;
  @Field(() => [ProductImage]) images!: ProductImage[];
  @Field(() => Date) createdAt!: Date;
  @Field(() => Date) updatedAt!: Date;
}

@ObjectType()
export class ProductEdge {
  @Field(() => String) cursor!: string;
  @Field(() => Product) node!: Product;
}

@ObjectType()
export class PageInfo {
  @Field(() => Boolean) hasNextPage!: boolean;
  @Field(() => String, { nullable: true }) endCursor!: string | null;
}

@ObjectType()
export class ProductConnection {
  @Field(() => [ProductEdge]) edges!: ProductEdge[];
  @Field(() => PageInfo) pageInfo!: PageInfo;
  @Field(() => Int, { description: 'Products matching the filter, across all pages.' }) totalCount!: number;
}
