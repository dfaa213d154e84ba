// The services' error type and the API edge that maps it: services throw AppError (no GraphQL
// import anywhere below the API), src/http/client-errors.ts turns whatever reaches the API into
// the message and code a client sees, and nothing else.
import { readFile } from 'node:fs/promises';
import { describe, expect, it } from 'vitest';
import { AppError } from '../src/errors.js';
import { toClientError } from '../src/http/client-errors.js';
import { ImageError } from '../src/images/index.js';

describe('src/errors.ts', () => {
  it('imports nothing, so services and the browser-bound code list need no API library', async () => {
    const source = await readFile(new URL('../src/errors.ts', import.meta.url), 'utf8');
    expect(source).not.toMatch(/^\s*import\b/m);
  });

  it('AppError keeps its code and message', () => {
    const error = new AppError('CONFLICT', 'An ingest of this source is already running.');
    expect(error).toBeInstanceOf(Error);
    expect([error.name, error.code, error.message]).toEqual(['AppError', 'CONFLICT', 'An ingest of this source is already running.']);
  });
});

/** The shape of graphql-upload's and express's errors (http-errors). */
const createHttpError = (status: number, message: string) => Object.assign(new Error(message), { status, expose: status < 500 });

describe('toClientError (the API edge)', () => {
  it('passes a service error through with its code and message', () => {
    expect(toClientError(new AppError('NOT_FOUND', 'No search with that id.'))).toEqual({
      error: { message: 'No search with that id.', extensions: { code: 'NOT_FOUND' } },
      expected: true,
    });
  });

  it('passes an image error through with its code and message', () => {
    expect(toClientError(new ImageError('UNSUPPORTED_IMAGE_TYPE', 'Unsupported image type.'))).toEqual({
      error: { message: 'Unsupported image type.', extensions: { code: 'UNSUPPORTED_IMAGE_TYPE' } },
      expected: true,
    });
  });

  it('names the upload limit that an HTTP 413 hit', () => {
    const tooMany = toClientError(createHttpError(413, '3 max file uploads exceeded.'));
    expect(tooMany.error).toEqual({ message: 'Too many files in one request.', extensions: { code: 'TOO_MANY_FILES' } });
    const tooLarge = toClientError(createHttpError(413, 'File truncated as it exceeds the 10 byte size limit.'));
    expect(tooLarge.error).toEqual({ message: 'The uploaded file is larger than the upload limit.', extensions: { code: 'IMAGE_TOO_LARGE' } });
  });

  it('keeps the message of an exposed client error, as BAD_USER_INPUT', () => {
    expect(toClientError(createHttpError(400, 'Invalid JSON in the operations field.')).error).toEqual({
      message: 'Invalid JSON in the operations field.',
      extensions: { code: 'BAD_USER_INPUT' },
    });
  });

  it('tells the client nothing about anything else, and marks it unexpected (to be logged)', () => {
    for (const error of [new Error('connection refused at 10.0.0.5'), createHttpError(500, 'disk full'), 'a string', null]) {
      expect(toClientError(error)).toEqual({
        error: { message: 'Something went wrong on the server.', extensions: { code: 'INTERNAL_SERVER_ERROR' } },
        expected: false,
      });
    }
  });
});
