// SVG → PNG for generated pictures (the demo catalog). Uploads never take this path: validateImage
// refuses SVG.
import sharp from 'sharp';

/** Renders an SVG document sharply so that its longest side is `size` px, flattened onto white, as PNG. */
export async function rasterizeSvg(svg: string | Buffer, size: number): Promise<Buffer> {
  const input = typeof svg === 'string' ? Buffer.from(svg) : svg;
  const meta = await sharp(input).metadata();
  const longest = Math.max(meta.width ?? size, meta.height ?? size);
  // Render at the density that gives the target size directly (72 dpi is 1 SVG unit per pixel).
  const density = Math.min(10_000, Math.max(1, (72 * size) / longest));
  return sharp(input, { density })
    .resize(size, size, { fit: 'inside' })
    .flatten({ background: '#ffffff' })
    .png()
    .toBuffer();
}
