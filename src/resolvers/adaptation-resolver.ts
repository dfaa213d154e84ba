import { Arg, Ctx, ID, Int, Mutation, Query, Resolver, UseMiddleware } from 'type-graphql';
import type { AdaptationJobView } from '../adapt/adaptation-service.js';
import { AdaptationJob } from '../schema/adaptation.js';
import { AdminOnly } from './admin-guard.js';
import type { ApiContext } from './context.js';

@Resolver()
@UseMiddleware(AdminOnly)
export class AdaptationResolver {
  @Mutation(() => AdaptationJob, {
    description:
      'Admin: fine-tunes the active model on the catalog’s photos within `minutes` of training, in the background (one at a time; a second gets ADAPTATION_RUNNING); poll adaptationJob(id). Resumes an interrupted one with the same budget.',
  })
  startAdaptation(@Ctx() ctx: ApiContext, @Arg('minutes', () => Int) minutes: number): Promise<AdaptationJobView> {
    return ctx.adaptation.start(minutes, `GraphQL startAdaptation(minutes: ${minutes})`);
  }

  @Query(() => AdaptationJob, { nullable: true, description: 'Admin: an adaptation job and its progress.' })
  adaptationJob(@Ctx() ctx: ApiContext, @Arg('id', () => ID) id: string): Promise<AdaptationJobView | null> {
    return ctx.adaptation.job(id);
  }

  @Query(() => [AdaptationJob], { description: 'Admin: the latest adaptation jobs, newest first.' })
  adaptationJobs(@Ctx() ctx: ApiContext, @Arg('first', () => Int, { defaultValue: 20 }) first = 20): Promise<AdaptationJobView[]> {
    return ctx.adaptation.jobs(first);
  }
}
