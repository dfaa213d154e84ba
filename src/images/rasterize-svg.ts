// SVG → PNG for pictures the project draws itself: the demo catalog's products and the report
// charts. Uploads never take this path: validateImage refuses SVG.
import sharp from 'sharp';

/**
 * How big to draw: a number is the longest side in pixels (a product picture at a set size);
 * `{ scale }` keeps the SVG's own size and aspect, times scale (a chart, sharp on screens).
 */
export type SvgSize = number | { scale: number };

/** Renders an SVG document, flattened onto white, as PNG. */
export async function rasterizeSvg(svg: string | Buffer, size: SvgSize): Promise<Buffer> {
  const input = typeof svg === 'string' ? Buffer.from(svg) : svg;
  // 72 dpi is 1 SVG unit per pixel: rendering at the right density draws sharply at the target size.
  if (typeof size !== 'number') {
    return sharp(input, { density: 72 * size.scale })
      .flatten({ background: '#ffffff' })
      .png()
      .toBuffer();
  }
  const meta = await sharp(input).metadata();
  const longest = Math.max(meta.width ?? size, meta.height ?? size);
  const density = Math.min(10_000, Math.max(1, (72 * size) / longest));
  return sharp(input, { density })
    .resize(size, size, { fit: 'inside' })
    .flatten({ background: '#ffffff' })
    .png()
    .toBuffer();
}
