// Upload arguments are read by the resolvers that take them; src/http only mounts graphql-upload.
import type { FileUpload } from 'graphql-upload/processRequest.mjs';
import { AppError } from '../errors.js';

/**
 * Reads one multipart upload into memory. graphql-upload enforces the byte limit while the file
 * streams; its 413 error becomes IMAGE_TOO_LARGE here.
 */
export async function readUpload(upload: Promise<FileUpload> | FileUpload): Promise<Buffer> {
  let file: FileUpload;
  try {
    file = await upload;
  } catch (error) {
    throw uploadError(error);
  }
  const chunks: Buffer[] = [];
  try {
    for await (const chunk of file.createReadStream()) chunks.push(chunk as Buffer);
  } catch (error) {
    throw uploadError(error);
  }
  return Buffer.concat(chunks);
}

function uploadError(error: unknown): AppError {
  if (error instanceof AppError) return error;
  const { status, message } = error as { status?: number; message?: string };
  if (status === 413) return new AppError('IMAGE_TOO_LARGE', 'The uploaded file is larger than the upload limit.');
  return new AppError('BAD_USER_INPUT', `The upload could not be read${message ? `: ${message}` : '.'}`);
}
