import { mkdir, readdir, readFile, rename, rm, stat, writeFile } from 'node:fs/promises';
import path from 'node:path';

/** URL prefix the HTTP app serves the media folder under. */
export const MEDIA_PREFIX = '/media/';

export interface Renditions {
  display: Buffer;
  thumbnail: Buffer;
  /** File extension of both renditions, e.g. 'webp'. */
  extension: string;
}

/**
 * Media files on local disk, named by content hash: <root>/<ab>/<sha256>.<ext> and
 * <sha256>.thumb.<ext>. Written atomically (temp file, then rename), so a crash leaves no half file.
 */
export class MediaStore {
  constructor(readonly root: string) {}

  async save(sha256: string, renditions: Renditions): Promise<string> {
    const mediaPath = `${sha256.slice(0, 2)}/${sha256}.${renditions.extension}`;
    await mkdir(path.join(this.root, sha256.slice(0, 2)), { recursive: true });
    await this.writeAtomic(mediaPath, renditions.display);
    await this.writeAtomic(thumbnailPath(mediaPath), renditions.thumbnail);
    return mediaPath;
  }

  /** The display rendition's bytes (re-embedding reads the catalog from here). */
  read(mediaPath: string): Promise<Buffer> {
    return readFile(path.join(this.root, mediaPath));
  }

  async remove(mediaPath: string): Promise<void> {
    await rm(path.join(this.root, mediaPath), { force: true });
    await rm(path.join(this.root, thumbnailPath(mediaPath)), { force: true });
  }

  /**
   * Deletes the temp files of writes that a crash interrupted. Only those older than `minAgeMs`:
   * another process (an ingest beside the server) may be writing one right now.
   */
  async removeStaleTempFiles(minAgeMs = 10 * 60_000): Promise<number> {
    const names = (await readdir(this.root, { recursive: true })).filter((name) => name.endsWith('.tmp'));
    let removed = 0;
    for (const name of names) {
      const file = path.join(this.root, name);
      const info = await stat(file).catch(() => undefined);
      if (!info || Date.now() - info.mtimeMs < minAgeMs) continue;
      await rm(file, { force: true });
      removed++;
    }
    return removed;
  }

  urls(mediaPath: string): { url: string; thumbnailUrl: string } {
    return { url: MEDIA_PREFIX + mediaPath, thumbnailUrl: MEDIA_PREFIX + thumbnailPath(mediaPath) };
  }

  private async writeAtomic(relative: string, bytes: Buffer): Promise<void> {
    const target = path.join(this.root, relative);
    const temp = `${target}.${process.pid}.${Date.now()}.tmp`;
    await writeFile(temp, bytes);
    await rename(temp, target);
  }
}

function thumbnailPath(mediaPath: string): string {
  const dot = mediaPath.lastIndexOf('.');
  return `${mediaPath.slice(0, dot)}.thumb${mediaPath.slice(dot)}`;
}
