import { Arg, Ctx, Mutation, Query, Resolver, UseMiddleware } from 'type-graphql';
import type { ModelView } from '../models/views.js';
import { ModelVersion } from '../schema/model.js';
import { AdminOnly } from './admin-guard.js';
import type { ApiContext } from './context.js';

@Resolver()
export class ModelResolver {
  @Query(() => [ModelVersion], { description: 'The model versions, oldest first, with their re-embedding progress.' })
  models(@Ctx() ctx: ApiContext): Promise<ModelView[]> {
    return ctx.models.list();
  }

  @Mutation(() => ModelVersion, {
    description: 'Admin: registers the models folder at `path` (on the server) and re-embeds the catalog into it in the background; poll models.',
  })
  @UseMiddleware(AdminOnly)
  registerModel(@Ctx() ctx: ApiContext, @Arg('path', () => String) path: string): Promise<ModelView> {
    return ctx.models.register(path);
  }

  @Mutation(() => ModelVersion, { description: 'Admin: switches searches to a ready model (MODEL_NOT_READY before its re-embedding completes).' })
  @UseMiddleware(AdminOnly)
  activateModel(@Ctx() ctx: ApiContext, @Arg('key', () => String) key: string): Promise<ModelView> {
    return ctx.models.activate(key);
  }

  @Mutation(() => ModelVersion, { description: 'Admin: deletes a model’s embeddings and index (not the active model’s: CONFLICT).' })
  @UseMiddleware(AdminOnly)
  retireModel(@Ctx() ctx: ApiContext, @Arg('key', () => String) key: string): Promise<ModelView> {
    return ctx.models.retire(key);
  }
}
