// What image validation hands on: raw bytes known to be a supported, decodable image.

export type ImageFormat = 'jpeg' | 'png' | 'webp' | 'gif' | 'avif';

/** Raw bytes that passed validation: a supported type, decodable, within the pixel limit. */
export interface ValidatedImage {
  bytes: Buffer;
  format: ImageFormat;
  /** Width and height after EXIF orientation. */
  width: number;
  height: number;
  sha256: string;
}
