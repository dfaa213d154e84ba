import sharp from 'sharp';

/** Rasterises an SVG the project generated itself (never user input) to PNG bytes. */
export async function rasterizeSvg(svg: string, size: number): Promise<Buffer> {
  return sharp(Buffer.from(svg), { density: 72 * 2 }).resize(size, size, { fit: 'fill' }).png().toBuffer();
}
