import type { GraphQLFormattedError } from 'graphql';
import { AppError, type ErrorCode } from '../errors.js';
import { ImageError } from '../images/index.js';

/** What a client sees of an error: the message and the stable code, nothing else. */
export type ClientError = Required<Pick<GraphQLFormattedError, 'message' | 'extensions'>>;

const coded = (code: ErrorCode, message: string): ClientError => ({ message, extensions: { code } });

/**
 * The HTTP status of each code where the status carries the outcome: the REST routes (/api), and
 * the GraphQL responses that must tell a client to retry later. A new code must choose one here.
 */
export const HTTP_STATUS: Record<ErrorCode, number> = {
  BAD_USER_INPUT: 400,
  BAD_IMAGE: 422,
  UNSUPPORTED_IMAGE_TYPE: 415,
  IMAGE_TOO_LARGE: 413,
  IMAGE_FETCH_FAILED: 422,
  TOO_MANY_FILES: 413,
  REQUEST_TOO_LARGE: 413,
  QUERY_TOO_COMPLEX: 400,
  RATE_LIMITED: 429,
  OVERLOADED: 503,
  DATABASE_UNAVAILABLE: 503,
  NOT_FOUND: 404,
  SEARCH_EXPIRED: 410,
  UNAUTHENTICATED: 401,
  ADMIN_DISABLED: 403,
  ADAPTATION_RUNNING: 409,
  CONFLICT: 409,
  MODEL_NOT_FOUND: 404,
  MODEL_INVALID: 400,
  MODEL_NOT_READY: 409,
  INTERNAL_SERVER_ERROR: 500,
};

/** How long a client should wait before retrying, for the codes that mean "not now" (Retry-After). */
const RETRY_AFTER_SECONDS: Partial<Record<ErrorCode, number>> = { OVERLOADED: 1, DATABASE_UNAVAILABLE: 5 };

export function retryAfterSeconds(code: ErrorCode | undefined): number | undefined {
  return code ? RETRY_AFTER_SECONDS[code] : undefined;
}

/** The REST face's error: the same code and message as GraphQL's, its HTTP status, as `{ error: { code, message } }`. */
export function toRestError(error: unknown): {
  status: number;
  body: { error: { code: ErrorCode; message: string } };
  expected: boolean;
} {
  const { error: client, expected } = toClientError(error);
  const code = client.extensions.code as ErrorCode;
  return { status: HTTP_STATUS[code], body: { error: { code, message: client.message } }, expected };
}

/**
 * Turns anything thrown below the API into a client-safe GraphQL error: known errors keep their
 * code and message; anything else becomes INTERNAL_SERVER_ERROR with no detail (it is logged).
 */
export function toClientError(error: unknown): { error: ClientError; expected: boolean } {
  if (error instanceof AppError || error instanceof ImageError) {
    return { error: coded(error.code, error.message), expected: true };
  }
  // graphql-upload's and express's own errors (http-errors) carry an HTTP status.
  const httpError = error as { status?: number; expose?: boolean; message?: string; type?: string };
  // express.json's body limit: the request itself, not an image, is too large.
  if (httpError?.type === 'entity.too.large') {
    return { error: coded('REQUEST_TOO_LARGE', 'The request body is larger than the server accepts.'), expected: true };
  }
  if (httpError?.status === 413) {
    const tooMany = /max file uploads/i.test(httpError.message ?? '');
    return {
      error: coded(
        tooMany ? 'TOO_MANY_FILES' : 'IMAGE_TOO_LARGE',
        tooMany ? 'Too many files in one request.' : 'The uploaded file is larger than the upload limit.',
      ),
      expected: true,
    };
  }
  if (httpError?.status && httpError.status < 500 && httpError.expose) {
    return { error: coded('BAD_USER_INPUT', httpError.message ?? 'Bad request.'), expected: true };
  }
  return { error: coded('INTERNAL_SERVER_ERROR', 'Something went wrong on the server.'), expected: false };
}
