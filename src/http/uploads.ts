// GraphQL multipart uploads (https://github.com/jaydenseric/graphql-multipart-request-spec) parsed
// with busboy into memory. graphql-upload's own parser streams every file through a temporary
// file (fs-capacitor: a random name, open, write, read, close, unlink), which took about 8 % of
// the event loop's busy time per photo search (bench/results/search-speed.md); a search's photo
// is tens of kilobytes. Files are held in memory instead, under a process-wide budget: a file
// that would take the service past it is refused OVERLOADED (503, Retry-After), like a full
// search queue. Every malformed form is answered at once with a coded 400 or 413, as before.
import { Readable } from 'node:stream';
import busboy from 'busboy';
import type { Request, RequestHandler, Response } from 'express';
import type { FileUpload } from 'graphql-upload/processRequest.mjs';
import Upload from 'graphql-upload/Upload.mjs';
import { AppError } from '../errors.js';

export interface UploadLimits {
  maxFileSize: number;
  maxFiles: number;
  /** Bytes of uploaded files held in memory at once, over all requests (UPLOAD_MEMORY_MB). */
  memory: UploadMemory;
}

/** The operations and map fields: JSON, small. */
const MAX_FIELD_SIZE = 1_000_000;
// RFC 2046: 1-70 characters; busboy refuses the form without one.
const BOUNDARY = /;\s*boundary=(?:"[^"]{1,70}"|[^\s;"]{1,70})\s*(?:;|$)/i;
const SPEC = 'see the GraphQL multipart request spec';

/** Bytes of uploads held in memory, over all requests. */
export class UploadMemory {
  private used = 0;
  constructor(readonly maxBytes: number) {}

  take(bytes: number): boolean {
    if (this.used + bytes > this.maxBytes) return false;
    this.used += bytes;
    return true;
  }

  give(bytes: number): void {
    this.used -= bytes;
  }
}

const tooManyFiles = () => new AppError('TOO_MANY_FILES', 'Too many files in one request.');

/** An error as express and http-errors make them: client-errors.ts keeps its message. */
const httpError = (status: number, message: string) => Object.assign(new Error(message), { status, expose: true });

export function graphqlUploads(limits: UploadLimits): RequestHandler {
  return (req, res, next) => {
    if (!req.is('multipart/form-data')) return next();
    if (!BOUNDARY.test(req.headers['content-type'] ?? '')) {
      return next(httpError(400, 'multipart/form-data needs a boundary parameter of 1 to 70 characters.'));
    }
    // Answer only once the whole body has arrived: a response sent mid-upload makes browsers
    // report a network error instead of the answer.
    const send = res.send.bind(res);
    res.send = (body) => {
      if (req.closed) send(body);
      else req.once('close', () => send(body));
      return res;
    };
    parseForm(req, res, limits).then(
      (operations) => {
        req.body = operations;
        next();
      },
      (error: Error & { status?: number }) => {
        // The rest of the body is not wanted: answer now and close the connection.
        res.send = send;
        res.set('connection', 'close');
        next(error instanceof AppError || error.status ? error : httpError(400, `The multipart request is malformed: ${error.message}.`));
      },
    );
  };
}

/** Resolves with the operations (their upload variables set to Upload promises) once the map has been read. */
function parseForm(req: Request, res: Response, limits: UploadLimits): Promise<unknown> {
  return new Promise((resolve, reject) => {
    let operations: unknown;
    let uploads: Map<string, Upload> | undefined;
    let failed: Error | undefined;
    let held = 0;
    let answered = false;
    const parser = busboy({
      headers: req.headers,
      defParamCharset: 'utf8',
      limits: { fieldSize: MAX_FIELD_SIZE, fields: 2, fileSize: limits.maxFileSize, files: limits.maxFiles },
    });

    const fail = (error: Error) => {
      if (failed) return;
      failed = error;
      for (const upload of uploads?.values() ?? []) if (!upload.file) upload.reject(error);
      req.unpipe(parser);
      parser.destroy();
      // Drain what is still coming, so that the answer can be sent.
      setImmediate(() => req.resume());
      reject(error);
    };

    // Nothing a client sends may throw out of an event handler: that would end the process.
    const guarded =
      <A extends unknown[]>(handler: (...args: A) => void) =>
      (...args: A) => {
        try {
          handler(...args);
        } catch (error) {
          fail(httpError(400, `The multipart request is malformed: ${(error as Error).message}.`));
        }
      };

    parser.on('field', guarded((name: string, value: string, info: busboy.FieldInfo) => {
      // busboy may still emit the fields of a chunk it had parsed when the form failed.
      if (failed) return;
      if (info.valueTruncated) return fail(httpError(413, `The ‘${name}’ multipart field is over ${MAX_FIELD_SIZE} bytes.`));
      if (name === 'operations') {
        const parsed = parseJson(value);
        if (!parsed || typeof parsed !== 'object') return fail(httpError(400, `The ‘operations’ multipart field must be a JSON object or array (${SPEC}).`));
        operations = parsed;
        return;
      }
      if (name !== 'map') return;
      if (!operations) return fail(httpError(400, `The ‘map’ multipart field must follow ‘operations’ (${SPEC}).`));
      const map = parseJson(value);
      if (!map || typeof map !== 'object' || Array.isArray(map)) return fail(httpError(400, `The ‘map’ multipart field must be a JSON object (${SPEC}).`));
      const entries = Object.entries(map as Record<string, unknown>);
      if (entries.length > limits.maxFiles) return fail(tooManyFiles());
      uploads = new Map();
      for (const [field, paths] of entries) {
        if (!Array.isArray(paths) || !paths.every((p) => typeof p === 'string')) {
          return fail(httpError(400, `The ‘map’ entry ‘${field}’ must be an array of object paths (${SPEC}).`));
        }
        const upload = new Upload();
        uploads.set(field, upload);
        for (const path of paths as string[]) {
          if (!setPath(operations, path, upload)) return fail(httpError(400, `The ‘map’ entry ‘${field}’ names a path not in the operations: ‘${path}’.`));
        }
      }
      // The resolvers start now; each awaits its file.
      resolve(operations);
    }));

    parser.on('file', guarded((field: string, stream: Readable, info: busboy.FileInfo) => {
      if (failed) return void stream.resume();
      const upload = uploads?.get(field);
      if (!uploads) {
        stream.resume();
        return fail(httpError(400, `Files must follow the ‘map’ multipart field (${SPEC}).`));
      }
      if (!upload) return void stream.resume();
      const chunks: Buffer[] = [];
      let fileError: Error | undefined;
      const refuse = (error: Error) => {
        fileError ??= error;
        upload.reject(fileError);
        stream.resume();
      };
      stream.on('data', (chunk: Buffer) => {
        if (fileError || answered) return;
        if (!limits.memory.take(chunk.length)) return refuse(new AppError('OVERLOADED', 'The server holds too many uploads at once; try again shortly.'));
        held += chunk.length;
        chunks.push(chunk);
      });
      stream.on('limit', () => refuse(httpError(413, `The file is over the ${limits.maxFileSize}-byte upload limit.`)));
      stream.on('error', (error: Error) => refuse(httpError(400, `The multipart request is malformed: ${error.message}.`)));
      stream.on('end', () => {
        if (fileError || failed) return;
        const bytes = Buffer.concat(chunks);
        const file: FileUpload = {
          filename: info.filename,
          mimetype: info.mimeType,
          encoding: info.encoding,
          fieldName: field,
          createReadStream: () => Readable.from([bytes]),
        } as unknown as FileUpload;
        upload.resolve(file);
      });
    }));

    parser.once('filesLimit', () => fail(tooManyFiles()));
    parser.once('finish', () => {
      if (!operations) return fail(httpError(400, `The ‘operations’ multipart field is missing (${SPEC}).`));
      if (!uploads) return fail(httpError(400, `The ‘map’ multipart field is missing (${SPEC}).`));
      for (const upload of uploads.values()) if (!upload.file) upload.reject(httpError(400, 'A file named in the map is missing from the request.'));
    });
    parser.on('error', (error: Error) => fail(httpError(400, `The multipart request is malformed: ${error.message}.`)));
    req.once('close', () => {
      if (!req.readableEnded) fail(httpError(499, 'The request was closed while its files were being read.'));
    });
    // The request's files leave the budget when it has been answered.
    res.once('close', () => {
      answered = true;
      limits.memory.give(held);
    });
    req.pipe(parser);
  });
}

function parseJson(text: string): unknown {
  try {
    return JSON.parse(text);
  } catch {
    return undefined;
  }
}

const UNSAFE_KEYS = new Set(['__proto__', 'constructor', 'prototype']);

/**
 * Sets `root`'s dotted path (variables.image, 0.variables.files.1) to value, creating missing
 * containers on the way (an array before a numeric key) as clients expect; false for a path
 * through a non-object or one naming an unsafe key.
 */
function setPath(root: unknown, path: string, value: unknown): boolean {
  const keys = path.split('.');
  if (keys.some((k) => UNSAFE_KEYS.has(k))) return false;
  if (!root || typeof root !== 'object') return false;
  let node = root as Record<string, unknown>;
  for (let i = 0; i < keys.length - 1; i++) {
    const key = keys[i]!;
    if (!Object.hasOwn(node, key) || node[key] == null) node[key] = /^\d+$/.test(keys[i + 1]!) ? [] : {};
    const next = node[key];
    if (!next || typeof next !== 'object') return false;
    node = next as Record<string, unknown>;
  }
  node[keys.at(-1)!] = value;
  return true;
}
