import { GraphQLJSONObject } from 'graphql-scalars';
import { Field, Int, ObjectType, registerEnumType } from 'type-graphql';

export enum ModelStatus {
  INDEXING = 'indexing',
  READY = 'ready',
  ACTIVE = 'active',
  RETIRED = 'retired',
}
registerEnumType(ModelStatus, {
  name: 'ModelStatus',
  description: 'A model version’s life: its catalog re-embedded (indexing), complete (ready), searched with (active), removed (retired).',
  valuesConfig: {
    INDEXING: { description: 'Registered; the catalog is being re-embedded into it in the background.' },
    READY: { description: 'Every catalog image has its embedding: it can be activated.' },
    ACTIVE: { description: 'The model searches use (exactly one).' },
    RETIRED: { description: 'Its embeddings and index are deleted.' },
  },
});

@ObjectType({ description: 'A model version: an embedder (keyed by its content hash) with the catalog’s embeddings under it.' })
export class ModelVersion {
  @Field(() => String, { description: 'name@version+<first 12 hex of the embedder’s sha256>: what search results report as model.' })
  key!: string;
  @Field(() => String) name!: string;
  @Field(() => String) version!: string;
  @Field(() => ModelStatus) status!: ModelStatus;
  @Field(() => Int, { description: 'Catalog images with an embedding under this model.' }) imagesEmbedded!: number;
  @Field(() => Int, { description: 'Catalog images.' }) imagesTotal!: number;
  @Field(() => Date) createdAt!: Date;
  @Field(() => Date, { nullable: true }) activatedAt!: Date | null;
  @Field(() => GraphQLJSONObject, { nullable: true, description: 'The manifest’s training record (data, epochs, command, hardware).' })
  training!: Record<string, unknown> | null;
}
