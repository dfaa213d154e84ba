// Seeded randomness for the evaluation: the same --seed picks the same queries and distorts them
// the same way.

/** Uniform numbers in [0, 1) from a 32-bit seed (mulberry32). */
export function seededRandom(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

/** A seed for item `index` of a run seeded with `seed`: runs and items don't share streams. */
export function itemSeed(seed: number, index: number): number {
  return (Math.imul(seed ^ 0x9e3779b9, 0x85ebca6b) + Math.imul(index + 1, 0xc2b2ae35)) >>> 0;
}

/** `count` items drawn without replacement while they last (then a fresh shuffle), seeded. */
export function sample<T>(items: readonly T[], count: number, random: () => number): T[] {
  const out: T[] = [];
  while (out.length < count && items.length > 0) {
    const pool = [...items];
    for (let i = pool.length - 1; i > 0; i--) {
      const j = Math.floor(random() * (i + 1));
      [pool[i], pool[j]] = [pool[j]!, pool[i]!];
    }
    out.push(...pool.slice(0, count - out.length));
  }
  return out;
}
