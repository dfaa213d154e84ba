import { Field, Float, ID, Int, ObjectType, registerEnumType } from 'type-graphql';

export enum AdaptationStatus {
  QUEUED = 'queued',
  RUNNING = 'running',
  SUCCEEDED = 'succeeded',
  FAILED = 'failed',
  INTERRUPTED = 'interrupted',
}
registerEnumType(AdaptationStatus, {
  name: 'AdaptationStatus',
  description:
    'INTERRUPTED: the service stopped while it ran; starting an adaptation with the same budget on the same catalog resumes from its checkpoint.',
});

@ObjectType({ description: 'A catalog adaptation: the models fine-tuned on the catalog’s own photos, in a child process.' })
export class AdaptationJob {
  @Field(() => ID) id!: string;
  @Field(() => AdaptationStatus) status!: AdaptationStatus;
  @Field(() => Int, { description: 'Training time budget.' }) minutes!: number;
  @Field(() => Float, { description: '0..1.' }) progress!: number;
  @Field(() => String, { nullable: true, description: 'What it is doing, or why it failed.' }) message!: string | null;
  @Field(() => String, { description: 'Key of the model it starts from.' }) baseModel!: string;
  @Field(() => String, { nullable: true, description: 'sha256 over the sorted sha256s of the photos it trains on.' })
  catalogFingerprint!: string | null;
  @Field(() => Int, { nullable: true, description: 'Catalog photos it trains on.' }) images!: number | null;
  @Field(() => String, { nullable: true, description: 'The models folder it writes (complete once succeeded).' }) outDir!: string | null;
  @Field(() => String, { nullable: true, description: 'The adapted model’s key, once written.' }) modelKey!: string | null;
  @Field(() => Date) startedAt!: Date;
  @Field(() => Date) updatedAt!: Date;
  @Field(() => Date, { nullable: true }) finishedAt!: Date | null;
}
