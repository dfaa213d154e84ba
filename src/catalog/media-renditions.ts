// The media step: display and thumbnail renditions of the images that will be stored, saved
// under their content hash.
import pLimit from 'p-limit';
import { renderMedia, type ValidatedImage } from '../images/index.js';
import type { MediaStore } from '../storage/media-store.js';

/** Media renditions rendered at once (sharp runs them on libuv's pool of 4 threads). */
const RENDER_CONCURRENCY = 4;

export class MediaRenditions {
  private readonly limit = pLimit(RENDER_CONCURRENCY);

  constructor(private readonly media: MediaStore) {}

  /** Renders and saves each image; the media path by key. */
  async save(images: { key: string; image: ValidatedImage }[]): Promise<Map<string, string>> {
    return new Map(await Promise.all(images.map(async ({ key, image }) => [key, await this.limit(() => this.saveOne(image))] as const)));
  }

  private async saveOne(image: ValidatedImage): Promise<string> {
    const { display, thumbnail, extension } = await renderMedia(image);
    return this.media.save(image.sha256, { display, thumbnail, extension });
  }
}
