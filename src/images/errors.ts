// Bad image input, with a stable code the API maps at its edge.
import type { ErrorCode } from '../errors.js';

/** BAD_USER_INPUT: a crop region outside the image (RegionError, src/ml). */
export type ImageErrorCode = Extract<ErrorCode, 'BAD_IMAGE' | 'UNSUPPORTED_IMAGE_TYPE' | 'IMAGE_TOO_LARGE' | 'BAD_USER_INPUT'>;

/** Bad image input. `code` is stable and becomes GraphQL's extensions.code. */
export class ImageError extends Error {
  constructor(
    readonly code: ImageErrorCode,
    message: string,
  ) {
    super(message);
    this.name = 'ImageError';
  }
}

/** The first line of an error's message: native libraries (libvips, onnxruntime) append lines of internal detail. */
export function firstLine(err: unknown): string {
  return err instanceof Error ? err.message.split('\n')[0]!.trim() : String(err);
}
