import { AppError } from '../errors.js';
import type { QuerySource } from './search-service.js';

export interface QueryArguments {
  /** Reads the uploaded file, if one was sent. */
  readImage?: () => Promise<Buffer>;
  imageUrl?: string | null;
  productId?: string | null;
}

/** Exactly one of image / imageUrl / productId; fetches the bytes for the first two. */
export async function querySource(
  args: QueryArguments,
  fetchUrl: (url: string) => Promise<Buffer>,
): Promise<QuerySource> {
  const given = [args.readImage, args.imageUrl, args.productId].filter((v) => v != null);
  if (given.length !== 1) {
    throw new AppError('BAD_USER_INPUT', 'Give exactly one of image, imageUrl or productId.');
  }
  if (args.readImage) return { kind: 'upload', bytes: await args.readImage() };
  if (args.imageUrl != null) return { kind: 'url', url: args.imageUrl, bytes: await fetchUrl(args.imageUrl) };
  return { kind: 'product', productId: args.productId! };
}
