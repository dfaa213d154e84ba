// GraphQL multipart uploads (graphql-upload's processRequest), with every malformed form answered
// at once with a coded 400: graphql-upload's own Express middleware never answers a form without
// a boundary (it waits for a body nobody reads) and lets busboy's parse errors become 500s.
import type { RequestHandler } from 'express';
import processRequest from 'graphql-upload/processRequest.mjs';
import Upload from 'graphql-upload/Upload.mjs';

export interface UploadLimits {
  maxFileSize: number;
  maxFiles: number;
}

// RFC 2046: 1-70 characters; busboy refuses the form without one.
const BOUNDARY = /;\s*boundary=(?:"[^"]{1,70}"|[^\s;"]{1,70})\s*(?:;|$)/i;

export function graphqlUploads(limits: UploadLimits): RequestHandler {
  return (req, res, next) => {
    if (!req.is('multipart/form-data')) return next();
    if (!BOUNDARY.test(req.headers['content-type'] ?? '')) {
      return next(malformed('multipart/form-data needs a boundary parameter of 1 to 70 characters.'));
    }
    // Answer only once the whole body has arrived (as graphql-upload does): a response sent
    // mid-upload makes browsers report a network error instead of the answer.
    const send = res.send.bind(res);
    res.send = (body) => {
      if (req.closed) send(body);
      else req.once('close', () => send(body));
      return res;
    };
    processRequest(req, res, limits).then(
      (body) => {
        codeUploadErrors(body);
        req.body = body;
        next();
      },
      (error: { status?: number; message?: string }) => {
        // The rest of the body is not wanted: answer now and close the connection.
        res.send = send;
        res.set('connection', 'close');
        next(error.status ? error : malformed(`The multipart request is malformed: ${error.message ?? 'unreadable'}.`));
      },
    );
  };
}

/**
 * A form that breaks off after the operation was read (truncated, a malformed part header, a NUL
 * in a file name) rejects the uploads still to come with busboy's bare error, which would reach
 * the client as an internal error: give those rejections a 400 status, as the errors before.
 */
function codeUploadErrors(value: unknown, depth = 0): void {
  if (!value || typeof value !== 'object' || depth > 8) return;
  if (value instanceof Upload) {
    value.promise = value.promise.catch((error: { status?: number; message?: string }) => {
      throw error.status ? error : malformed(`The multipart request is malformed: ${error.message ?? 'unreadable'}.`);
    });
    value.promise.catch(() => undefined); // as graphql-upload does: an upload nobody reads must not crash the process
    return;
  }
  for (const child of Object.values(value)) codeUploadErrors(child, depth + 1);
}

/** An error as express and graphql-upload make them (http-errors): client-errors.ts keeps its message as BAD_USER_INPUT. */
const malformed = (message: string) => Object.assign(new Error(message), { status: 400, expose: true });
