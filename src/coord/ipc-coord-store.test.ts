import { randomUUID } from 'node:crypto';
import fc from 'fast-check';
import pino from 'pino';
import { afterAll, describe, expect, it } from 'vitest';
import { redisAvailable, sharedRedis } from '../../test/support/redis.ts';
import { TollgateError } from '../errors.ts';
import type { SpendLimit } from '../store/schema.ts';
import { MemoryCoordStore } from './ipc-coord-store.ts';
import { type CoordLink, type CoordStore, RedisLink } from './redis-link.ts';
import { SharedRateLimiter } from './shared-rate-limiter.ts';
import { SharedSpendLedger } from './shared-spend-ledger.ts';
import type { LimitedScope } from './spend-ledger.ts';

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

/**
 * Workers over one primary's store, as IpcLink makes them, with the IPC hop as a turn of the
 * event loop each way: other calls interleave between a worker's request and its answer.
 */
class Worker implements CoordLink {
  readonly instance = `worker-${randomUUID()}`;
  readonly up = true;
  dead = false;
  readonly #handlers: Array<(scope: string) => void> = [];
  constructor(
    private readonly store: CoordStore,
    private readonly siblings: Worker[],
  ) {
    siblings.push(this);
  }
  async run<T>(call: (store: CoordStore) => Promise<T>): Promise<T> {
    if (this.dead) throw new Error('dead');
    await new Promise((resolve) => setImmediate(resolve));
    const result = await call(this.store);
    await new Promise((resolve) => setImmediate(resolve));
    return result;
  }
  unavailable(): Error {
    return new TollgateError('TG_ERR_COORDINATION_UNAVAILABLE', 'test');
  }
  reclaim(scope: string): void {
    for (const other of this.siblings) if (other !== this && !other.dead) for (const h of other.#handlers) h(scope);
  }
  onReclaim(handler: (scope: string) => void): void {
    this.#handlers.push(handler);
  }
}

function scopeWith(limit: SpendLimit, spentBefore = 0): LimitedScope {
  return {
    id: `key:${randomUUID()}`,
    label: 'key "test"',
    limit,
    version: JSON.stringify(limit),
    loadSpent: async () => ({ allTime: spentBefore, since: spentBefore }),
  };
}

async function call(ledger: SharedSpendLedger, scope: LimitedScope, worst: number, actual: number) {
  const now = Date.now();
  await ledger.prepare([scope], now);
  const reservation = await ledger.reserve([scope], worst, now);
  if (!reservation) return 0;
  await sleep(Math.random() * 5);
  ledger.settle(reservation, actual, Date.now());
  return actual;
}

describe('counters kept by the primary for its workers (MemoryCoordStore)', () => {
  const closers: Array<() => Promise<void> | void> = [];
  afterAll(async () => {
    for (const close of closers) await close();
  });

  function workers(count: number, store = new MemoryCoordStore()) {
    closers.push(() => store.close());
    const siblings: Worker[] = [];
    return Array.from({ length: count }, () => {
      const link = new Worker(store, siblings);
      const ledger = new SharedSpendLedger(link, false);
      const limiter = new SharedRateLimiter(link, false);
      closers.push(
        () => ledger.close(),
        () => limiter.close(),
      );
      return { link, ledger, limiter };
    });
  }

  it('three workers with 300 concurrent calls never spend past a limit, and use at least 90% of it', async () => {
    const three = workers(3);
    for (const limit of [
      { allTimeUsd: 1 },
      { recurring: { usd: 1, count: 1, unit: 'day', startedAt: '2026-01-01T00:00:00.000Z' } },
    ]) {
      const scope = scopeWith(limit as SpendLimit);
      const spent = await Promise.all(
        Array.from({ length: 300 }, (_, i) =>
          call(three[i % 3]?.ledger as SharedSpendLedger, scope, 0.01, 0.006 + Math.random() * 0.004),
        ),
      );
      const total = spent.reduce((sum, value) => sum + value, 0);
      expect(total).toBeLessThanOrEqual(1 + 1e-9);
      expect(total).toBeGreaterThanOrEqual(0.9);
    }
  });

  it('shows every worker what the others spent, starting from the usage records', async () => {
    const [a, b] = workers(2);
    const scope = scopeWith({ allTimeUsd: 1 }, 0.5);
    for (let i = 0; i < 10; i++) await call(a?.ledger as SharedSpendLedger, scope, 0.01, 0.01);
    await sleep(100);
    await b?.ledger.prepare([scope], Date.now());
    expect(b?.ledger.read(scope, Date.now()).allTimeSpent).toBeCloseTo(0.6, 9);
    expect(await b?.ledger.reserve([scope], 0.45, Date.now())).toBeUndefined();
  });

  it('frees the lease of a worker that died within seconds', async () => {
    const [a, b] = workers(2);
    const scope = scopeWith({ allTimeUsd: 1 });
    await a?.ledger.prepare([scope], Date.now());
    expect(await a?.ledger.reserve([scope], 0.5, Date.now())).toBeDefined();
    (a as { link: Worker }).link.dead = true;
    expect(await b?.ledger.reserve([scope], 0.9, Date.now())).toBeUndefined();
    const died = Date.now();
    let freedAfter = Number.POSITIVE_INFINITY;
    while (Date.now() - died < 10_000) {
      if (await b?.ledger.reserve([scope], 0.9, Date.now())) {
        freedAfter = Date.now() - died;
        break;
      }
      await sleep(200);
    }
    expect(freedAfter).toBeLessThan(7000);
  }, 15_000);

  it('admits exactly rpm requests a minute and maxParallel at once across workers', async () => {
    const three = workers(3);
    const decisions = await Promise.all(
      Array.from({ length: 120 }, (_, i) => three[i % 3]?.limiter.admit('key-rpm', { rpm: 60 }, Date.now())),
    );
    expect(decisions.filter((decision) => decision?.ok).length).toBe(60);

    const parallel = await Promise.all(
      Array.from({ length: 30 }, (_, i) => three[i % 3]?.limiter.admit('key-par', { maxParallel: 5 }, Date.now())),
    );
    const admitted = parallel.map((decision, i) => (decision?.ok ? i : -1)).filter((i) => i >= 0);
    expect(admitted.length).toBe(5);
    for (const i of admitted) three[i % 3]?.limiter.finish('key-par', 0, Date.now());
    await sleep(50);
    const again = await Promise.all(
      Array.from({ length: 10 }, (_, i) => three[i % 3]?.limiter.admit('key-par', { maxParallel: 5 }, Date.now())),
    );
    expect(again.filter((decision) => decision?.ok).length).toBe(5);
  });

  it('forgets what has expired, as Redis does, so counters of past minutes do not pile up', async () => {
    let now = Date.parse('2026-01-01T00:00:00Z');
    const store = new MemoryCoordStore(() => now);
    closers.push(() => store.close());
    await store.rateAcquire('tg:rpm:k:0', 'tg:rpm:k:-1', 'tg:tpm:k:0', 'tg:tpm:k:-1', '1', '10', '0.1', 1);
    await store.rateSync('tg:rpm:k:0', 'tg:tpm:k:0', 0, 500);
    expect(await store.slotAcquire('tg:slots:k', 'tg:slotsx:k', 'w1', 5000, 3, '1')).toBe(3);
    expect(store.size).toBe(4);
    now += 10_000;
    // The slot's holder stopped renewing: the next acquire drops it, so all three are free.
    for (let i = 0; i < 3; i++) {
      expect(await store.slotAcquire('tg:slots:k', 'tg:slotsx:k', 'w2', 5000, 3, '0.1')).toBe(1);
    }
    expect(await store.slotAcquire('tg:slots:k', 'tg:slotsx:k', 'w2', 5000, 3, '0.1')).toBe(0);
    now += 181_000;
    expect(store.size).toBe(2);
    now += 86_400_000;
    expect(store.size).toBe(0);
  });
});

describe.skipIf(!redisAvailable)('MemoryCoordStore and the Redis scripts', () => {
  it('answer the same to the same sequence of operations', async () => {
    const redis = await sharedRedis();
    const link = new RedisLink(redis.url, 'closed', pino({ level: 'silent' }));
    await link.connect();
    const memory = new MemoryCoordStore();
    try {
      // Keys of their own, so that the shared test Redis holds nothing of them yet.
      const id = randomUUID();
      const spend = [`tg:spend:${id}`, `tg:lease:${id}`, `tg:leasex:${id}`] as const;
      const rate = [`tg:rpm:${id}:1`, `tg:rpm:${id}:0`, `tg:tpm:${id}:1`, `tg:tpm:${id}:0`] as const;
      const slots = [`tg:slots:${id}`, `tg:slotsx:${id}`] as const;
      const period = 'p:1:day:2026-01-01T00:00:00.000Z@0';
      const random = fc.sample(fc.integer({ min: 0, max: 1_000_000 }), 400);
      let next = 0;
      const pick = (n: number) => (random[next++ % random.length] ?? 0) % n;
      const operations: Array<(store: CoordStore) => Promise<unknown>> = [];
      operations.push((store) => store.leaseInit(spend[0], '0.25', period, '0.1'));
      for (let i = 0; i < 150; i++) {
        // Every argument drawn now: both stores must get the same ones.
        const instance = `w${pick(3)}`;
        const amount = String(pick(200) / 1000);
        const [a, b, c] = [pick(2), pick(3), pick(4)];
        const kind = pick(6);
        operations.push((store) => {
          switch (kind) {
            case 0:
              return store.leaseAcquire(...spend, instance, 5000, '3', period, '2', amount, '0.1', String(a / 10));
            case 1:
              return store.leaseSync(...spend, instance, 5000, amount, period, amount, '0');
            case 2:
              return store.rateAcquire(...rate, '0.5', '40', '0.1', 1 + b);
            case 3:
              return store.rateSync(rate[0], rate[2], b, c * 25);
            case 4:
              return store.slotAcquire(...slots, instance, 5000, 7, '0.3');
            default:
              // Renewals (nothing released) included: Redis once refused HINCRBY by "-0".
              return store.slotSync(...slots, instance, 5000, b, c);
          }
        });
      }
      const numbers = (value: unknown) =>
        (Array.isArray(value) ? value : [value]).map((part) =>
          part === 'ok' || part === 'init' ? part : Number(part),
        );
      for (const [i, operation] of operations.entries()) {
        const fromRedis = numbers(await link.run(operation));
        const fromMemory = numbers(await operation(memory));
        expect(fromMemory.length, `operation ${i}`).toBe(fromRedis.length);
        for (const [j, value] of fromRedis.entries()) {
          if (typeof value === 'number') expect(fromMemory[j], `operation ${i}`).toBeCloseTo(value, 9);
          else expect(fromMemory[j], `operation ${i}`).toBe(value);
        }
      }
    } finally {
      memory.close();
      await link.close();
      await redis.close();
    }
  });
});
