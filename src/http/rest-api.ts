// The REST face: POST /api/match, a one-request search by photo over the same SearchService as
// GraphQL's similarProducts, and the OpenAPI document of it. Errors as `{ error: { code, message } }`
// with the code's HTTP status (client-errors.ts).
import express, { type ErrorRequestHandler } from 'express';
import multer from 'multer';
import type { Logger } from 'pino';
import { AppError } from '../errors.js';
import type { Services } from '../resolvers/context.js';
import { querySource } from '../search/query-source.js';
import { defaultRerank } from '../search/search-service.js';
import type { StageTimer } from '../search/stage-timer.js';
import { toRestError } from './client-errors.js';
import { MATCH_PATH, OPENAPI_PATH, matchBody, matchQuery, openApiDocument } from './match-api.js';

export const REST_PREFIX = '/api';

export interface RestApiOptions {
  services: Pick<Services, 'search' | 'fetchImageUrl'>;
  uploadMaxBytes: number;
  logger: Logger;
}

/** The /api router; mount it at REST_PREFIX. */
export function restApi(options: RestApiOptions): express.Router {
  const router = express.Router();
  // One file, in the field `image`, held in memory up to the upload limit; parameters go in the query.
  const upload = multer({ storage: multer.memoryStorage(), limits: { fileSize: options.uploadMaxBytes, files: 1, fields: 0 } });
  const readForm: express.RequestHandler = (req, res, next) =>
    upload.single('image')(req, res, (error?: unknown) => next(error ? uploadError(error) : undefined));
  // `curl --data-binary @shirt.jpg -H 'content-type: image/jpeg'` works too: the body is the image.
  const rawBody = express.raw({ type: 'image/*', limit: options.uploadMaxBytes });
  // Here the body is the image: over the limit it is IMAGE_TOO_LARGE, not REQUEST_TOO_LARGE.
  const rawImage: express.RequestHandler = (req, res, next) =>
    rawBody(req, res, (error?: unknown) =>
      next((error as { type?: string })?.type === 'entity.too.large' ? new AppError('IMAGE_TOO_LARGE', 'The uploaded file is larger than the upload limit.') : error),
    );
  const document = openApiDocument();

  router.post(route(MATCH_PATH), rawImage, readForm, async (req, res) => {
    const timer = res.locals.timer as StageTimer;
    // The body has been read by now (multer or express.raw).
    timer.add('upload', performance.now() - timer.startedAt);
    const query = parseQuery(req.query);
    const bytes = req.file?.buffer ?? (Buffer.isBuffer(req.body) ? req.body : undefined);
    const source = await querySource(
      { readImage: bytes ? async () => bytes : undefined, imageUrl: query.imageUrl, productId: query.productId },
      (url) => timer.time('upload', () => options.services.fetchImageUrl(url)),
    );
    const { category, colour, brand, minPrice, maxPrice, keyword } = query;
    const result = await options.services.search.similarProducts({
      source,
      region: query.region,
      topK: query.topK,
      filter: { category, colour, brand, minPrice, maxPrice, keyword },
      rerank: query.rerank ? defaultRerank(query.topK) : undefined,
      autoRegion: query.autoRegion,
    }, timer);
    const body = JSON.stringify(matchBody(result));
    timer.addSinceLast('serialise');
    res.set('server-timing', timer.serverTiming()).type('json').send(body);
  });
  router.get(route(OPENAPI_PATH), (_req, res) => void res.json(document));
  router.use((req) => {
    throw new AppError('NOT_FOUND', `No route ${req.method} ${REST_PREFIX}${req.path}; see ${OPENAPI_PATH}.`);
  });

  const onError: ErrorRequestHandler = (error, req, res, _next) => {
    const { status, body, expected } = toRestError(error);
    if (!expected) options.logger.error({ err: error, url: req.url }, 'request failed');
    res.status(status).json(body);
  };
  router.use(onError);
  return router;
}

/** A path of match-api.ts relative to the router's mount point. */
function route(fullPath: string): string {
  return fullPath.slice(REST_PREFIX.length);
}

function parseQuery(query: unknown) {
  const parsed = matchQuery.safeParse(query);
  if (parsed.success) return parsed.data;
  const issue = parsed.error.issues[0]!;
  const where = issue.path.length ? `${issue.path.join('.')}: ` : '';
  throw new AppError('BAD_USER_INPUT', `${where}${issue.message}`);
}

/** multer's limits and busboy's parse errors (a malformed form) as the codes a client sees. */
function uploadError(error: unknown): AppError {
  if (!(error instanceof multer.MulterError)) {
    return new AppError('BAD_USER_INPUT', `The upload could not be read: ${error instanceof Error ? error.message : String(error)}`);
  }
  switch (error.code) {
    case 'LIMIT_FILE_SIZE':
      return new AppError('IMAGE_TOO_LARGE', 'The uploaded file is larger than the upload limit.');
    case 'LIMIT_FILE_COUNT':
      return new AppError('TOO_MANY_FILES', 'Send one image per request.');
    case 'LIMIT_UNEXPECTED_FILE':
      return new AppError('BAD_USER_INPUT', `The image goes in the multipart field "image" (got "${error.field}").`);
    case 'LIMIT_FIELD_COUNT':
      return new AppError('BAD_USER_INPUT', 'The form holds only the image; give parameters in the query string (?topK=5).');
    default:
      return new AppError('BAD_USER_INPUT', `The upload could not be read: ${error.message}`);
  }
}
