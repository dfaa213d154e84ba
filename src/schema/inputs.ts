import { Field, Float, InputType } from 'type-graphql';

@InputType({ description: 'Part of the query image to search with, in fractions of its width and height.' })
export class RegionInput {
  @Field(() => Float) x!: number;
  @Field(() => Float) y!: number;
  @Field(() => Float) width!: number;
  @Field(() => Float) height!: number;
}

@InputType('ProductFilter', { description: 'Filters, combined with AND; a list matches any of its values.' })
export class ProductFilterInput {
  @Field(() => [String], { nullable: true }) category?: string[];
  @Field(() => [String], { nullable: true }) colour?: string[];
  @Field(() => [String], { nullable: true }) brand?: string[];
  @Field(() => Float, { nullable: true }) minPrice?: number;
  @Field(() => Float, { nullable: true }) maxPrice?: number;
  @Field(() => String, { nullable: true, description: 'Case-insensitive words that the title contains.' })
  keyword?: string;
}
