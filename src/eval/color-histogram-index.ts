import { histogramDistance } from './color-histogram.js';
import type { RankedId } from './metrics.js';

/** The colorHistogram baseline's "index": every catalog histogram, searched by brute force. */
export class ColorHistogramIndex {
  private readonly ids: string[] = [];
  private readonly histograms: Float32Array[] = [];
  private readonly positions = new Map<string, number>();

  get size(): number {
    return this.ids.length;
  }

  add(id: string, histogram: Float32Array): void {
    this.positions.set(id, this.ids.length);
    this.ids.push(id);
    this.histograms.push(histogram);
  }

  histogramOf(id: string): Float32Array | undefined {
    const i = this.positions.get(id);
    return i === undefined ? undefined : this.histograms[i];
  }

  /** The k nearest ids by histogram distance (ties keep insertion order), leaving `exclude` out. */
  nearest(query: Float32Array, k: number, exclude?: string): RankedId[] {
    const top: RankedId[] = [];
    this.histograms.forEach((h, i) => {
      const id = this.ids[i]!;
      if (id === exclude) return;
      const key = histogramDistance(query, h);
      if (top.length === k && key >= top[k - 1]!.key) return;
      let at = top.length;
      while (at > 0 && top[at - 1]!.key > key) at--;
      top.splice(at, 0, { id, key });
      if (top.length > k) top.pop();
    });
    return top;
  }
}
