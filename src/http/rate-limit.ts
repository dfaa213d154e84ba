// Per-client rate limits on the search endpoints (express-rate-limit, counted per IP address in
// this process's memory): past the limit, 429 RATE_LIMITED with Retry-After.
import type { Request, RequestHandler } from 'express';
import { rateLimit, type RateLimitInfo } from 'express-rate-limit';
import { AppError } from '../errors.js';

/** At most `perMinute` requests per client IP per minute. */
export function searchRateLimit(perMinute: number): RequestHandler {
  return rateLimit({
    windowMs: 60_000,
    limit: perMinute,
    standardHeaders: 'draft-8',
    legacyHeaders: false,
    // Browsers send a CORS preflight before an upload: it costs nothing, so it doesn't count.
    skip: (req) => req.method === 'OPTIONS',
    handler: (req, res, next) => {
      const reset =
        (req as Request & { rateLimit?: RateLimitInfo }).rateLimit?.resetTime?.getTime() ?? Date.now() + 60_000;
      res.set('retry-after', String(Math.max(1, Math.ceil((reset - Date.now()) / 1000))));
      next(new AppError('RATE_LIMITED', `Too many requests: the limit is ${perMinute} a minute per client.`));
    },
  });
}
