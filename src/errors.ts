// The errors services throw, with no dependency at all: services must not need the API library,
// and `npm run schema` copies this list into client/error-codes.ts for the browser bundle.

/**
 * Every code this service puts in a GraphQL error's `extensions.code`, with what it means. Most
 * come with HTTP 200 (the code is in the body); src/http/client-errors.ts maps the HTTP-level
 * failures (a malformed or oversized request) onto them and gives the few that a client should
 * retry later their HTTP status (429, 503, with Retry-After). Apollo's own codes for malformed
 * requests (GRAPHQL_PARSE_FAILED, GRAPHQL_VALIDATION_FAILED, BAD_REQUEST) pass through as Apollo
 * sets them.
 */
export const ERROR_CODES = {
  BAD_USER_INPUT: 'An argument is malformed or out of range; the message says which.',
  BAD_IMAGE: 'The image cannot be decoded (corrupt, truncated, or not what its bytes claim).',
  UNSUPPORTED_IMAGE_TYPE: 'The file is not JPEG, PNG, WebP, GIF or AVIF.',
  IMAGE_TOO_LARGE: 'The upload exceeds the byte limit, or the image the pixel limit.',
  IMAGE_FETCH_FAILED: 'The image at `imageUrl` could not be downloaded.',
  TOO_MANY_FILES: 'The request carries more files than the upload limit allows.',
  REQUEST_TOO_LARGE: 'The request body (not an image) is larger than the server accepts.',
  QUERY_TOO_COMPLEX: 'The operation asks for too much work at once (cost, aliases, searches); split it.',
  RATE_LIMITED: 'This client sent more requests than RATE_LIMIT_PER_MINUTE allows; retry after Retry-After.',
  OVERLOADED: 'The server is at capacity and shed the request; retry after Retry-After.',
  DATABASE_UNAVAILABLE: 'The database cannot be reached right now; retry after Retry-After.',
  NOT_FOUND: 'The product or search does not exist.',
  SEARCH_EXPIRED: 'The search is older than SEARCH_TTL_HOURS, or was made with a model that is no longer active, and can no longer be re-ranked.',
  UNAUTHENTICATED: 'An admin operation without a valid admin API key.',
  ADMIN_DISABLED: 'Admin operations are off: the server has no ADMIN_API_KEY.',
  ADAPTATION_RUNNING: 'A catalog adaptation is already queued or running; one at a time (poll adaptationJob).',
  CONFLICT: 'The write clashes with existing state (the product exists, an ingest is running, the model to retire is active).',
  MODEL_NOT_FOUND: 'No model version with that key.',
  MODEL_INVALID: 'The models folder fails its checks (manifest, file hashes, tensor names); the message says which.',
  MODEL_NOT_READY: 'The model cannot be activated yet: its re-embedding of the catalog is incomplete (or it is retired).',
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
