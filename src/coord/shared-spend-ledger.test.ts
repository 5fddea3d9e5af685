import { randomUUID } from 'node:crypto';
import pino from 'pino';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { RedisServer, redisAvailable, sharedRedis } from '../../test/support/redis.ts';
import type { SpendLimit } from '../store/schema.ts';
import { RedisLink } from './redis-link.ts';
import { SharedSpendLedger } from './shared-spend-ledger.ts';
import type { LimitedScope } from './spend-ledger.ts';

const silent = pino({ level: 'silent' });

function scopeWith(limit: SpendLimit, spentBefore = 0): LimitedScope {
  return {
    id: `key:${randomUUID()}`,
    label: 'key "test"',
    limit,
    version: JSON.stringify(limit),
    loadSpent: async () => ({ allTime: spentBefore, since: spentBefore }),
  };
}

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

/** One request as the gateway makes it: prepare, reserve the worst case, settle the actual cost. */
async function call(ledger: SharedSpendLedger, scope: LimitedScope, worst: number, actual: number) {
  const now = Date.now();
  await ledger.prepare([scope], now);
  const reservation = await ledger.reserve([scope], worst, now);
  if (!reservation) return 0;
  await sleep(Math.random() * 5);
  ledger.settle(reservation, actual, Date.now());
  return actual;
}

describe.skipIf(!redisAvailable)('shared spend ledger (Redis budget leases)', () => {
  let redis: { url: string; close(): Promise<void> };
  const links: RedisLink[] = [];
  const ledgers: SharedSpendLedger[] = [];

  async function instance(policy: 'auto' | 'open' | 'closed' = 'auto', url = redis.url) {
    const link = new RedisLink(url, policy, silent);
    await link.connect();
    const ledger = new SharedSpendLedger(link, policy === 'open');
    links.push(link);
    ledgers.push(ledger);
    return { link, ledger };
  }

  beforeAll(async () => {
    redis = await sharedRedis();
  });
  afterAll(async () => {
    await Promise.all(ledgers.map((ledger) => ledger.close()));
    await Promise.all(links.map((link) => link.close()));
    await redis.close();
  });

  it('three instances with 300 concurrent calls never spend past a limit, and use at least 90% of it', async () => {
    const instances = await Promise.all([instance(), instance(), instance()]);
    for (const limit of [
      { allTimeUsd: 1 },
      { recurring: { usd: 1, count: 1, unit: 'day', startedAt: '2026-01-01T00:00:00.000Z' } },
    ]) {
      const scope = scopeWith(limit as SpendLimit);
      const spent = await Promise.all(
        Array.from({ length: 300 }, (_, i) =>
          call(instances[i % 3]?.ledger as SharedSpendLedger, scope, 0.01, 0.006 + Math.random() * 0.004),
        ),
      );
      const total = spent.reduce((sum, value) => sum + value, 0);
      expect(total).toBeLessThanOrEqual(1 + 1e-9);
      expect(total).toBeGreaterThanOrEqual(0.9);
    }
  });

  it('admits from the lease without a round trip, and shows other instances what was spent', async () => {
    const [a, b] = await Promise.all([instance(), instance()]);
    const scope = scopeWith({ allTimeUsd: 100 });
    await a.ledger.prepare([scope], Date.now());
    const before = a.ledger.roundTrips;
    for (let i = 0; i < 20; i++) {
      const reservation = a.ledger.reserve([scope], 0.01, Date.now());
      expect(reservation).not.toBeInstanceOf(Promise);
      a.ledger.settle(reservation as NonNullable<Awaited<typeof reservation>>, 0.01, Date.now());
    }
    expect(a.ledger.roundTrips).toBe(before);
    await sleep(100);
    await b.ledger.prepare([scope], Date.now());
    expect(b.ledger.read(scope, Date.now()).allTimeSpent).toBeCloseTo(0.2, 9);
  });

  it('starts from what the usage records say was spent', async () => {
    const { ledger } = await instance();
    const scope = scopeWith({ allTimeUsd: 1 }, 0.95);
    await ledger.prepare([scope], Date.now());
    expect(ledger.headroom([scope], Date.now()).usd).toBeCloseTo(0.05, 9);
    expect(await ledger.reserve([scope], 0.06, Date.now())).toBeUndefined();
    expect(await ledger.reserve([scope], 0.04, Date.now())).toBeDefined();
  });

  it('holds a limit lowered while an instance still holds a lease taken under the old one', async () => {
    const { ledger } = await instance();
    const scope = scopeWith({ allTimeUsd: 10 });
    await ledger.prepare([scope], Date.now());
    const first = await ledger.reserve([scope], 0.5, Date.now());
    ledger.settle(first as NonNullable<typeof first>, 0.5, Date.now());
    // The lease holds about $0.95 more; the limit drops to $0.6, leaving $0.1.
    const lowered = { ...scope, limit: { allTimeUsd: 0.6 }, version: 'lowered' };
    expect(await ledger.reserve([lowered], 0.3, Date.now())).toBeUndefined();
    expect(await ledger.reserve([lowered], 0.05, Date.now())).toBeDefined();
  });

  it('frees the lease of an instance that died within seconds', async () => {
    const [a, b] = await Promise.all([instance(), instance()]);
    const scope = scopeWith({ allTimeUsd: 1 });
    await a.ledger.prepare([scope], Date.now());
    expect(await a.ledger.reserve([scope], 0.5, Date.now())).toBeDefined();
    // The instance dies: no more renewals, nothing given back.
    a.link.redis.disconnect();
    expect(await b.ledger.reserve([scope], 0.9, Date.now())).toBeUndefined();
    const died = Date.now();
    let freedAfter = Number.POSITIVE_INFINITY;
    while (Date.now() - died < 10_000) {
      if (await b.ledger.reserve([scope], 0.9, Date.now())) {
        freedAfter = Date.now() - died;
        break;
      }
      await sleep(200);
    }
    expect(freedAfter).toBeLessThan(7000);
  }, 15_000);
});

describe.skipIf(!redisAvailable)('shared spend ledger when Redis is unreachable', () => {
  let server: RedisServer;
  beforeAll(async () => {
    server = await RedisServer.start();
  });
  afterAll(async () => {
    await server.close();
  });

  it('refuses with 503 when closed, serves on its own view when open, and recovers without a restart', async () => {
    const closedLink = new RedisLink(server.url, 'closed', silent);
    const openLink = new RedisLink(server.url, 'open', silent);
    await Promise.all([closedLink.connect(), openLink.connect()]);
    const closed = new SharedSpendLedger(closedLink, false);
    const open = new SharedSpendLedger(openLink, true);
    const scope = scopeWith({ allTimeUsd: 1 }, 0.5);
    const fresh = scopeWith({ allTimeUsd: 1 }, 0.5);
    await closed.prepare([scope], Date.now());
    await server.stop();
    // A lease already held stays usable until it would expire.
    expect(closed.reserve([scope], 0.001, Date.now())).toBeDefined();
    await expect(closed.prepare([fresh], Date.now())).rejects.toMatchObject({
      code: 'TG_ERR_COORDINATION_UNAVAILABLE',
    });
    await open.prepare([fresh], Date.now()).catch(() => {});
    expect(await open.reserve([fresh], 0.4, Date.now())).toBeDefined();
    expect(await open.reserve([fresh], 0.2, Date.now())).toBeUndefined();
    expect(closedLink.up).toBe(false);
    await server.start();
    let recovered = false;
    for (let i = 0; i < 50 && !recovered; i++) {
      await sleep(100);
      recovered = await closed.prepare([fresh], Date.now()).then(
        () => true,
        () => false,
      );
    }
    expect(recovered).toBe(true);
    expect(closedLink.up).toBe(true);
    expect(await closed.reserve([fresh], 0.1, Date.now())).toBeDefined();
    await Promise.all([closed.close(), open.close()]);
    await Promise.all([closedLink.close(), openLink.close()]);
  });
});
