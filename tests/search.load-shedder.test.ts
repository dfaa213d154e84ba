// The bounded queue in front of the searches (src/search/load-shedder.ts) and the database's
// outage classification (src/db/outages.ts): the two decisions behind 503 OVERLOADED and 503
// DATABASE_UNAVAILABLE, checked without a server.
import { availableParallelism } from 'node:os';
import { describe, expect, it } from 'vitest';
import { loadConfig } from '../src/config.js';
import { isOutage } from '../src/db/outages.js';
import { AppError } from '../src/errors.js';
import { LoadShedder, STANDING_QUEUE_MS } from '../src/search/load-shedder.js';

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

const codeOf = (p: Promise<unknown>) =>
  p.then(
    () => 'ok',
    (e: AppError) => e.code,
  );

describe('LoadShedder', () => {
  it('runs maxConcurrent at once, queues maxQueue, and refuses the next at once', async () => {
    const shedder = new LoadShedder({ maxConcurrent: 1, maxQueue: 1, maxQueueWaitMs: 10_000 });
    let release!: () => void;
    const first = shedder.run(() => new Promise<string>((r) => (release = () => r('first'))));
    const second = shedder.run(async () => 'second');
    expect(shedder.load).toEqual({ running: 1, queued: 1, shed: 0 });
    expect(shedder.saturated).toBe(true);
    expect(await codeOf(shedder.run(async () => 'third'))).toBe('OVERLOADED');
    expect(() => shedder.refuseIfSaturated()).toThrow(AppError);
    release();
    expect(await Promise.all([first, second])).toEqual(['first', 'second']);
    expect(shedder.load).toEqual({ running: 0, queued: 0, shed: 2 });
    expect(shedder.saturated).toBe(false);
  });

  it('refuses a request that waited maxQueueWaitMs, and frees its slot after a failure', async () => {
    const shedder = new LoadShedder({ maxConcurrent: 1, maxQueue: 5, maxQueueWaitMs: 50 });
    let release!: () => void;
    const slow = shedder.run(() => new Promise<void>((r) => (release = r)));
    expect(await codeOf(shedder.run(async () => 'late'))).toBe('OVERLOADED');
    release();
    await slow;
    expect(await codeOf(shedder.run(async () => Promise.reject(new AppError('BAD_IMAGE', 'x'))))).toBe('BAD_IMAGE');
    expect(await shedder.run(async () => 'next')).toBe('next');
    expect(shedder.load.running).toBe(0);
  });
});

describe('LoadShedder under sustained overload (a standing queue)', () => {
  it('queues a burst that drains, but refuses at once while no slot has been free for a while', async () => {
    const shedder = new LoadShedder({ maxConcurrent: 1, maxQueue: 2, maxQueueWaitMs: 10_000 });
    let release!: () => void;
    // Holds the slot until release(); resolves once the work has started.
    const busy = async () => {
      const done = shedder.run(() => new Promise<string>((r) => (release = () => r('done'))));
      await sleep(1);
      return { done };
    };

    // A burst: the slot frees soon, and the waiter gets it.
    const first = await busy();
    const burst = shedder.run(async () => 'queued');
    release();
    expect(await Promise.all([first.done, burst])).toEqual(['done', 'queued']);

    // Overload: the slot stays taken with someone waiting for longer than STANDING_QUEUE_MS.
    const holder = await busy();
    const waiter = codeOf(shedder.run(async () => 'waited'));
    await sleep(STANDING_QUEUE_MS + 20);
    expect(shedder.load.queued).toBe(1); // there is room in the queue ...
    expect(shedder.saturated).toBe(true); // ... but a newcomer is refused at once
    expect(await codeOf(shedder.run(async () => 'newcomer'))).toBe('OVERLOADED');
    release();
    await holder.done;
    // The one that waited through the standing queue is refused when its turn comes, not run late.
    expect(await waiter).toBe('OVERLOADED');
    expect(shedder.load).toEqual({ running: 0, queued: 0, shed: 2 });
    // A free slot ends it: the next request runs, and a burst may queue again.
    expect(shedder.saturated).toBe(false);
    expect(await shedder.run(async () => 'next')).toBe('next');
  });
});

describe('isOutage', () => {
  it('tells an unreachable database from a failed query', () => {
    const adapter = (cause: object) => ({ code: 'P2010', meta: { driverAdapterError: { cause } } });
    for (const error of [
      { code: 'P1001', meta: { driverAdapterError: { cause: { kind: 'DatabaseNotReachable' } } } },
      { code: 'P1017' },
      adapter({ kind: 'DatabaseNotReachable', host: '127.0.0.1', port: 5432 }),
      adapter({ kind: 'ConnectionClosed' }),
      adapter({ kind: 'postgres', code: '57P01' }),
      adapter({ kind: 'postgres', code: '08006' }),
      Object.assign(new Error('connect ECONNREFUSED 127.0.0.1:5432'), { code: 'ECONNREFUSED' }),
      new Error('Connection terminated unexpectedly'),
      new Error('timeout exceeded when trying to connect'),
    ]) {
      expect(isOutage(error), JSON.stringify(error)).toBe(true);
    }
    for (const error of [
      { code: 'P2002' },
      adapter({ kind: 'postgres', code: '23505' }),
      adapter({ kind: 'postgres', code: '42P01' }),
      new Error('boom'),
      null,
      'text',
    ]) {
      expect(isOutage(error), JSON.stringify(error)).toBe(false);
    }
  });
});

describe('search slots from the configuration', () => {
  it('defaults to 1 running and 1 waiting per core on either database; set values win', () => {
    const cores = availableParallelism();
    for (const config of [loadConfig({ DATABASE_URL: 'postgresql://db/shop' }), loadConfig({})]) {
      expect([config.SEARCH_MAX_CONCURRENT, config.SEARCH_MAX_QUEUE]).toEqual([cores, cores]);
    }
    const set = loadConfig({ SEARCH_MAX_CONCURRENT: '3', SEARCH_MAX_QUEUE: '0' });
    expect([set.SEARCH_MAX_CONCURRENT, set.SEARCH_MAX_QUEUE]).toEqual([3, 0]);
  });
});
