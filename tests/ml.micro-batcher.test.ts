// The micro-batcher on its own: batches fill up to the size, items that arrive during a run wait
// for the next one, and a failed run fails exactly the callers in its batch.
import { describe, expect, it } from 'vitest';
import { MicroBatcher } from '../src/ml/micro-batcher.js';

/** A run that records each batch it gets and answers item × 10. */
function recordingRun() {
  const batches: number[][] = [];
  const run = async (items: number[]) => {
    batches.push(items);
    return items.map((x) => x * 10);
  };
  return { batches, run };
}

/** A promise the test resolves by hand. */
function gate() {
  let open!: () => void;
  const opened = new Promise<void>((resolve) => (open = resolve));
  return { opened, open };
}

describe('MicroBatcher', () => {
  it('fills batches up to the size, in arrival order, and gives each caller its own result', async () => {
    const { batches, run } = recordingRun();
    const batcher = new MicroBatcher(run, 3);
    const results = await Promise.all([1, 2, 3, 4, 5, 6, 7].map((x) => batcher.add(x)));
    expect(results).toEqual([10, 20, 30, 40, 50, 60, 70]);
    expect(batches).toEqual([[1, 2, 3], [4, 5, 6], [7]]);
    expect(batcher.stats()).toEqual({ runs: 3, items: 7, largestBatch: 3 });
  });

  it('waits one turn of the event loop before the first run, so that same-turn callers share it', async () => {
    const { batches, run } = recordingRun();
    const batcher = new MicroBatcher(run, 8);
    const first = batcher.add(1);
    // Added after a microtask, still in the same turn.
    await Promise.resolve();
    const second = batcher.add(2);
    expect(batches).toEqual([]);
    expect(await Promise.all([first, second])).toEqual([10, 20]);
    expect(batches).toEqual([[1, 2]]);
  });

  it('queues what arrives during a run for the next run', async () => {
    const batches: number[][] = [];
    const firstRun = gate();
    const firstRunStarted = gate();
    const batcher = new MicroBatcher(async (items: number[]) => {
      batches.push(items);
      if (batches.length === 1) {
        firstRunStarted.open();
        await firstRun.opened;
      }
      return items.map((x) => -x);
    }, 4);
    const a = batcher.add(1);
    await firstRunStarted.opened;
    const later = [2, 3, 4, 5, 6].map((x) => batcher.add(x));
    expect(batches).toEqual([[1]]);
    firstRun.open();
    expect(await Promise.all([a, ...later])).toEqual([-1, -2, -3, -4, -5, -6]);
    expect(batches).toEqual([[1], [2, 3, 4, 5], [6]]);
    expect(batcher.stats()).toEqual({ runs: 3, items: 6, largestBatch: 4 });
  });

  it('rejects every caller of a failed batch with its error, and only them', async () => {
    const failure = new Error('run failed');
    const batcher = new MicroBatcher(async (items: string[]) => {
      if (items.includes('bad')) throw failure;
      return items.map((s) => s.toUpperCase());
    }, 2);
    const settled = await Promise.allSettled(['a', 'bad', 'c', 'd', 'e'].map((s) => batcher.add(s)));
    expect(settled).toEqual([
      { status: 'rejected', reason: failure },
      { status: 'rejected', reason: failure },
      { status: 'fulfilled', value: 'C' },
      { status: 'fulfilled', value: 'D' },
      { status: 'fulfilled', value: 'E' },
    ]);
  });

  it('idle() resolves once everything queued has run', async () => {
    const { batches, run } = recordingRun();
    const batcher = new MicroBatcher(run, 2);
    await batcher.idle();
    const done: number[] = [];
    for (const x of [1, 2, 3]) void batcher.add(x).then((r) => done.push(r));
    await batcher.idle();
    expect(batches).toEqual([[1, 2], [3]]);
    // The results were handed out before idle() resolved.
    expect(done).toEqual([10, 20, 30]);
  });

  it('refuses a batch size that is not a positive integer', () => {
    const { run } = recordingRun();
    for (const size of [0, -1, 1.5, Number.NaN]) expect(() => new MicroBatcher(run, size)).toThrow(RangeError);
  });
});
