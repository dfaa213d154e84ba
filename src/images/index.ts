// The image edge (sharp): validation of incoming bytes, catalog renditions, perceptual hashes,
// SVG rasterising and raw pixel access. Nothing here knows about models, databases or GraphQL.
export { firstLine, ImageError, type ImageErrorCode } from './errors.js';
export { proposeRegion, type ImageRegion, type ProposeRegionOptions } from './garment-region.js';
export { hammingDistance, perceptualHash } from './perceptual-hash.js';
export { decodePixels, withPixels, type DecodedPixels, type DecodePixelsOptions } from './pixels.js';
export { blurRgb, decodeRgb, encodeJpeg, type DecodeRgbOptions, type RgbPixels } from './raster.js';
export { rasterizeSvg, type SvgSize } from './rasterize-svg.js';
export { renderMedia, type RenderedMedia, type RenderMediaOptions } from './renditions.js';
export type { ImageFormat, ValidatedImage } from './types.js';
export { openImage, SUPPORTED_IMAGE_TYPES, validateImage, type ValidateImageOptions } from './validate.js';
