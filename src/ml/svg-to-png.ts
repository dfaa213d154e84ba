import sharp from 'sharp';

/** Rasterises an SVG the project generated itself (a report chart) at its own aspect ratio. */
export async function svgToPng(svg: string, scale = 2): Promise<Buffer> {
  return sharp(Buffer.from(svg), { density: 72 * scale }).flatten({ background: '#ffffff' }).png().toBuffer();
}
