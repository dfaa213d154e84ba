import { Field, Float, ID, Int, ObjectType } from 'type-graphql';
import { Product, ProductImage } from './product.js';

@ObjectType({ description: 'One product in a search result, with the image of it that matched best.' })
export class SearchHit {
  @Field(() => Int, { description: '1 for the best match.' }) rank!: number;
  @Field(() => Float, { description: 'Embedding distance (L2 between unit vectors, 0 to 2).' }) distance!: number;
  @Field(() => Float, { description: 'Cosine similarity of the embeddings, 1 − distance²/2.' }) similarity!: number;
  @Field(() => Float, {
    nullable: true,
    description: 'Pairwise scorer’s match probability (0 to 1); null until the search is re-ranked.',
  })
  score!: number | null;
  @Field(() => Product) product!: Product;
  @Field(() => ProductImage) image!: ProductImage;
}

@ObjectType({ description: 'Part of the query photo, in fractions of its width and height.' })
export class SearchRegion {
  @Field(() => Float) x!: number;
  @Field(() => Float) y!: number;
  @Field(() => Float) width!: number;
  @Field(() => Float) height!: number;
}

@ObjectType()
export class SearchResult {
  @Field(() => ID, { description: 'Pass to rerankSearch to re-rank without uploading again.' }) id!: string;
  @Field(() => Float, { description: 'Server time spent on this call, in milliseconds.' }) tookMs!: number;
  @Field(() => String, { description: 'Model key (name@version) that produced the embeddings.' }) model!: string;
  @Field(() => Boolean, { description: 'Whether the items are ordered by the pairwise scorer.' }) reranked!: boolean;
  @Field(() => SearchRegion, { nullable: true, description: 'The part of the photo searched; null: the whole photo (or a catalog product).' })
  region!: SearchRegion | null;
  @Field(() => Boolean, { description: 'Whether the service chose that region itself (autoRegion), the request giving none.' })
  autoRegion!: boolean;
  @Field(() => [SearchHit]) items!: SearchHit[];
}
