// What image validation hands on: raw bytes known to be a supported, decodable image.
import type { DecodedPixels } from './pixels.js';

export type ImageFormat = 'jpeg' | 'png' | 'webp' | 'gif' | 'avif';

/** Raw bytes that passed validation: a supported type, decodable, within the pixel limit. */
export interface ValidatedImage {
  bytes: Buffer;
  format: ImageFormat;
  /** Width and height after EXIF orientation. */
  width: number;
  height: number;
  sha256: string;
  /**
   * A browser shows these bytes as they are: a JPEG or still WebP in sRGB with nothing but its
   * picture (no EXIF and so no rotation, no XMP, IPTC, ICC profile, comment or appended data; see
   * bare-bytes.ts).
   */
  webReady: boolean;
  /** Its pixels as decodePixels gives them, when already decoded (see withPixels). */
  pixels?: DecodedPixels;
}
