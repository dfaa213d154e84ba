import { describe, expect, it } from 'vitest';
import {
  agreement,
  averagePrecisionAtK,
  mean,
  recallAtK,
  relevanceFlags,
  scoreQuery,
  type RankedId,
} from '../src/eval/metrics.js';
import { percentile } from '../src/eval/percentile.js';

/** Ranked ids with distinct keys 1, 2, 3, … */
const ranked = (...ids: string[]): RankedId[] => ids.map((id, i) => ({ id, key: i + 1 }));

describe('retrieval metrics (hand-computed)', () => {
  it('scores one expected id by its rank', () => {
    const flags = relevanceFlags(ranked('a', 'b', 'c', 'd'), new Set(['c']));
    expect(flags).toEqual([false, false, true, false]);
    expect([1, 2, 3, 4].map((k) => recallAtK(flags, k))).toEqual([0, 0, 1, 1]);
    expect(averagePrecisionAtK(flags, 1, 10)).toBeCloseTo(1 / 3, 12);
    expect(averagePrecisionAtK(flags, 1, 2)).toBe(0);
  });

  it('counts any of several acceptable ids for recall, all of them for AP', () => {
    // Relevant at ranks 2 and 4 of 5: AP = (1/2 + 2/4) / 2 = 0.5.
    const flags = relevanceFlags(ranked('x', 'p', 'y', 'q', 'z'), new Set(['p', 'q']));
    expect(flags).toEqual([false, true, false, true, false]);
    expect(recallAtK(flags, 1)).toBe(0);
    expect(recallAtK(flags, 2)).toBe(1);
    expect(averagePrecisionAtK(flags, 2, 10)).toBeCloseTo(0.5, 12);
    // Three acceptable, only two found, at ranks 1 and 3: (1/1 + 2/3) / 3 = 5/9.
    const partial = relevanceFlags(ranked('p', 'x', 'q'), new Set(['p', 'q', 'r']));
    expect(averagePrecisionAtK(partial, 3, 10)).toBeCloseTo(5 / 9, 12);
    // AP@2 with three acceptable divides by min(3, 2) = 2: (1/1) / 2.
    expect(averagePrecisionAtK(partial, 3, 2)).toBeCloseTo(0.5, 12);
  });

  it('breaks ties pessimistically: a relevant id tied with others ranks last in its group', () => {
    // Keys: a=1, then b, c, d tied at 2; c is relevant → it counts as rank 4, not 2.
    const list: RankedId[] = [
      { id: 'a', key: 1 },
      { id: 'b', key: 2 },
      { id: 'c', key: 2 },
      { id: 'd', key: 2 },
      { id: 'e', key: 3 },
    ];
    const flags = relevanceFlags(list, new Set(['c']));
    expect(flags).toEqual([false, false, false, true, false]);
    expect(recallAtK(flags, 2)).toBe(0);
    expect(recallAtK(flags, 3)).toBe(0);
    expect(recallAtK(flags, 4)).toBe(1);
    expect(averagePrecisionAtK(flags, 1, 10)).toBeCloseTo(1 / 4, 12);
    // Two relevant in a tie of three at ranks 1–3: they take ranks 2 and 3 → (1/2 + 2/3) / 2.
    const both = relevanceFlags(list.slice(1), new Set(['b', 'd']));
    expect(both).toEqual([false, true, true, false]);
    expect(averagePrecisionAtK(both, 2, 10)).toBeCloseTo((1 / 2 + 2 / 3) / 2, 12);
    // Everything tied: no credit unless the whole list is relevant.
    const flat: RankedId[] = ['p', 'q', 'r'].map((id) => ({ id, key: 0 }));
    expect(relevanceFlags(flat, new Set(['p']))).toEqual([false, false, true]);
    expect(relevanceFlags(flat, new Set(['p', 'q', 'r']))).toEqual([true, true, true]);
  });

  it('handles fewer results than k, empty results, and repeated ids', () => {
    const short = relevanceFlags(ranked('a', 'b'), new Set(['b']));
    expect(recallAtK(short, 10)).toBe(1);
    expect(averagePrecisionAtK(short, 1, 10)).toBeCloseTo(0.5, 12);
    const missing = relevanceFlags(ranked('a', 'b'), new Set(['z']));
    expect(recallAtK(missing, 10)).toBe(0);
    expect(averagePrecisionAtK(missing, 1, 10)).toBe(0);
    expect(relevanceFlags([], new Set(['a']))).toEqual([]);
    expect(recallAtK([], 5)).toBe(0);
    expect(averagePrecisionAtK([], 1, 10)).toBe(0);
    // The same id twice is found once: AP stays 1, not 2.
    const twice = relevanceFlags(ranked('a', 'a'), new Set(['a']));
    expect(twice).toEqual([true, false]);
    expect(averagePrecisionAtK(twice, 1, 10)).toBe(1);
    expect(() => averagePrecisionAtK([true], 0, 10)).toThrow(RangeError);
  });

  it('gives recall@1..k and AP for one query', () => {
    const { recall, averagePrecision } = scoreQuery(ranked('a', 'b', 'c'), new Set(['b']), 5, 10);
    expect(recall).toEqual([0, 1, 1, 1, 1]);
    expect(averagePrecision).toBeCloseTo(0.5, 12);
  });

  it('computes agreement shares, means and percentiles', () => {
    expect(agreement(['Shirts', 'Tshirts', 'Shirts', undefined], (v) => v === 'Shirts')).toBe(0.5);
    expect(agreement([], () => true)).toBeUndefined();
    expect(mean([1, 2, 3, 4])).toBe(2.5);
    expect(mean([])).toBeNaN();
    // Linear interpolation: positions (n−1)·p/100.
    expect(percentile([10, 20, 30, 40], 50)).toBe(25);
    expect(percentile([40, 10, 30, 20], 95)).toBeCloseTo(38.5, 12);
    expect(percentile([7], 95)).toBe(7);
    expect(percentile([1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11], 50)).toBe(6);
    expect(percentile([], 50)).toBeNaN();
  });
});
