import type { MiddlewareFn } from 'type-graphql';
import { AppError } from '../errors.js';
import type { ApiContext } from './context.js';

/** Admin operations need `Authorization: Bearer <ADMIN_API_KEY>`; with no key configured, they are off. */
export const AdminOnly: MiddlewareFn<ApiContext> = ({ context }, next) => {
  if (!context.admin.enabled) throw new AppError('ADMIN_DISABLED', 'Admin operations are disabled: the server has no ADMIN_API_KEY.');
  if (!context.isAdmin) throw new AppError('UNAUTHENTICATED', 'Send the admin key as "Authorization: Bearer <ADMIN_API_KEY>".');
  return next();
};
