import { Field, Int, ObjectType } from 'type-graphql';

@ObjectType()
export class ModelStats {
  @Field(() => String) key!: string;
  @Field(() => String) name!: string;
  @Field(() => String) version!: string;
  @Field(() => Int) dim!: number;
  @Field(() => String) metric!: string;
  @Field(() => Int) inputSize!: number;
  @Field(() => String, { description: 'Execution provider running the model (cpu, cuda, webgpu).' }) provider!: string;
}

@ObjectType()
export class IndexStats {
  @Field(() => String) name!: string;
  @Field(() => String) type!: string;
  @Field(() => Int) m!: number;
  @Field(() => Int) efConstruction!: number;
  @Field(() => Int) efSearch!: number;
}

@ObjectType()
export class CatalogStats {
  @Field(() => Int) products!: number;
  @Field(() => Int) images!: number;
  @Field(() => Int, { description: 'Images embedded with the current model.' }) embeddings!: number;
  @Field(() => String, { description: '"embedded" (PGlite) or "postgres".' }) database!: string;
  @Field(() => ModelStats) model!: ModelStats;
  @Field(() => IndexStats, { nullable: true }) index!: IndexStats | null;
}
