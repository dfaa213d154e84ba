import { GraphQLError } from 'graphql';
import { ImageError } from './ml/types.js';

/** Stable codes a client can rely on (GraphQL `extensions.code`). */
export type ErrorCode =
  | 'BAD_USER_INPUT'
  | 'BAD_IMAGE'
  | 'UNSUPPORTED_IMAGE_TYPE'
  | 'IMAGE_TOO_LARGE'
  | 'IMAGE_FETCH_FAILED'
  | 'TOO_MANY_FILES'
  | 'NOT_FOUND'
  | 'SEARCH_EXPIRED'
  | 'UNAUTHENTICATED'
  | 'FORBIDDEN'
  | 'ADMIN_DISABLED'
  | 'CONFLICT'
  | 'INTERNAL_SERVER_ERROR';

/** An expected failure with a human message; services throw it, the API passes it through. */
export class AppError extends Error {
  constructor(
    readonly code: ErrorCode,
    message: string,
  ) {
    super(message);
    this.name = 'AppError';
  }
}

const codedMessage = (code: ErrorCode, message: string) =>
  new GraphQLError(message, { extensions: { code } });

/**
 * Turns anything thrown below the API into a client-safe GraphQL error: known errors keep their
 * code and message; anything else becomes INTERNAL_SERVER_ERROR with no detail (it is logged).
 */
export function toClientError(error: unknown): { error: GraphQLError; expected: boolean } {
  if (error instanceof AppError || error instanceof ImageError) {
    return { error: codedMessage(error.code, error.message), expected: true };
  }
  const httpError = error as { status?: number; expose?: boolean; message?: string };
  if (httpError?.status === 413) {
    const tooMany = /max file uploads/i.test(httpError.message ?? '');
    return {
      error: codedMessage(
        tooMany ? 'TOO_MANY_FILES' : 'IMAGE_TOO_LARGE',
        tooMany ? 'Too many files in one request.' : 'The uploaded file is larger than the upload limit.',
      ),
      expected: true,
    };
  }
  if (httpError?.status && httpError.status < 500 && httpError.expose) {
    return { error: codedMessage('BAD_USER_INPUT', httpError.message ?? 'Bad request.'), expected: true };
  }
  return { error: codedMessage('INTERNAL_SERVER_ERROR', 'Something went wrong on the server.'), expected: false };
}
