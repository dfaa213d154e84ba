// The errors services throw, with no dependency at all: services must not need the API library,
// and `npm run schema` copies this list into client/error-codes.ts for the browser bundle.

/**
 * Every code this service puts in a GraphQL error's `extensions.code`, with what it means. They
 * come with HTTP 200 (the code is in the body), so none has an HTTP status of its own;
 * src/http/client-errors.ts maps the few HTTP-level failures (an upload over its limits) onto
 * them. Apollo's own codes for malformed requests (GRAPHQL_PARSE_FAILED,
 * GRAPHQL_VALIDATION_FAILED, BAD_REQUEST) pass through as Apollo sets them.
 */
export const ERROR_CODES = {
  BAD_USER_INPUT: 'An argument is malformed or out of range; the message says which.',
  BAD_IMAGE: 'The image cannot be decoded (corrupt, truncated, or not what its bytes claim).',
  UNSUPPORTED_IMAGE_TYPE: 'The file is not JPEG, PNG, WebP, GIF or AVIF.',
  IMAGE_TOO_LARGE: 'The upload exceeds the byte limit, or the image the pixel limit.',
  IMAGE_FETCH_FAILED: 'The image at `imageUrl` could not be downloaded.',
  TOO_MANY_FILES: 'The request carries more files than the upload limit allows.',
  NOT_FOUND: 'The product or search does not exist.',
  SEARCH_EXPIRED: 'The search is older than SEARCH_TTL_HOURS and can no longer be re-ranked.',
  UNAUTHENTICATED: 'An admin operation without a valid admin API key.',
  ADMIN_DISABLED: 'Admin operations are off: the server has no ADMIN_API_KEY.',
  CONFLICT: 'The write clashes with existing state (the product exists, an ingest is running).',
  INTERNAL_SERVER_ERROR: 'Anything unexpected; the server logs it and tells the client nothing more.',
} as const;

export type ErrorCode = keyof typeof ERROR_CODES;

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
