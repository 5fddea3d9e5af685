import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { backends } from '../../test/support/backends.ts';
import { RedisServer, redisAvailable } from '../../test/support/redis.ts';
import { openStore, type Store } from '../store/db.ts';
import type { Change } from './invalidation.ts';
import { RedisInvalidation } from './redis-invalidation.ts';

const postgres = backends().find((backend) => backend.name === 'postgres');

function logs() {
  const lines: string[] = [];
  const log = (details: object, message: string) => lines.push(`${message} ${JSON.stringify(details)}`);
  return { lines, logger: { info: log, warn: log, error: log } };
}

function recorder(feed: RedisInvalidation): Change[] {
  const seen: Change[] = [];
  feed.subscribe((change) => {
    seen.push(change);
  });
  return seen;
}

describe.skipIf(!postgres || !redisAvailable)('RedisInvalidation', () => {
  let store: Store;
  let redis: RedisServer;
  beforeAll(async () => {
    store = await openStore(await (postgres as NonNullable<typeof postgres>).prepare());
    redis = await RedisServer.start();
  });
  afterAll(async () => {
    await store?.close();
    await redis?.close();
  });

  it('applies a change once on every instance: at once where it was made, by pub/sub elsewhere', async () => {
    // A fast safety poll rereads every row: it must not apply any a second time.
    const a = await RedisInvalidation.start(store.db, redis.url, { safetyPollMs: 50 });
    const b = await RedisInvalidation.start(store.db, redis.url, { safetyPollMs: 50 });
    try {
      const onA = recorder(a);
      const onB = recorder(b);
      await a.publish({ kind: 'key', ref: 'k1' });
      expect(onA).toEqual([{ kind: 'key', ref: 'k1' }]);
      await expect.poll(() => onB, { interval: 5, timeout: 1000 }).toEqual([{ kind: 'key', ref: 'k1' }]);
      await b.publish({ kind: 'model', ref: 'm1' });
      await expect.poll(() => onA.length, { interval: 5, timeout: 1000 }).toBe(2);
      await new Promise((resolve) => setTimeout(resolve, 400));
      expect(onA).toEqual([
        { kind: 'key', ref: 'k1' },
        { kind: 'model', ref: 'm1' },
      ]);
      expect(onB).toEqual([
        { kind: 'key', ref: 'k1' },
        { kind: 'model', ref: 'm1' },
      ]);
    } finally {
      await a.close();
      await b.close();
    }
  });

  it('keeps deployments sharing one Redis apart: a change reaches only instances on the same database', async () => {
    const other = await openStore(await (postgres as NonNullable<typeof postgres>).prepare());
    const a = await RedisInvalidation.start(store.db, redis.url);
    const b = await RedisInvalidation.start(store.db, redis.url);
    const c = await RedisInvalidation.start(other.db, redis.url);
    try {
      const onB = recorder(b);
      const onC = recorder(c);
      await a.publish({ kind: 'key', ref: 'here' });
      await c.publish({ kind: 'key', ref: 'there' });
      await expect.poll(() => onB, { interval: 5, timeout: 1000 }).toEqual([{ kind: 'key', ref: 'here' }]);
      await new Promise((resolve) => setTimeout(resolve, 300));
      expect(onB).toEqual([{ kind: 'key', ref: 'here' }]);
      expect(onC).toEqual([{ kind: 'key', ref: 'there' }]);
    } finally {
      await Promise.all([a.close(), b.close(), c.close()]);
      await other.close();
    }
  });

  it('reads the changes it missed while Redis was down as soon as Redis returns, and says so', async () => {
    // No polling while Redis is down and almost none while it is up: only the catch-up can deliver.
    const options = { safetyPollMs: 600_000, degradedPollMs: 600_000 };
    const logB = logs();
    const a = await RedisInvalidation.start(store.db, redis.url, options);
    const b = await RedisInvalidation.start(store.db, redis.url, { ...options, logger: logB.logger });
    const c = await RedisInvalidation.start(store.db, redis.url, options);
    try {
      const onB = recorder(b);
      await redis.stop();
      await expect.poll(() => logB.lines.join('\n'), { timeout: 2000 }).toMatch(/Redis lost/);
      // A's change waits in its publisher's queue; A stops before Redis returns, so it is never sent.
      const started = performance.now();
      await a.publish({ kind: 'credential', ref: 'c1' });
      expect(performance.now() - started).toBeLessThan(500);
      await a.close();
      await new Promise((resolve) => setTimeout(resolve, 300));
      expect(onB).toEqual([]);
      await redis.start();
      await expect.poll(() => onB, { interval: 20, timeout: 5000 }).toEqual([{ kind: 'credential', ref: 'c1' }]);
      expect(logB.lines.join('\n')).toMatch(/Redis is back/);
      // And pub/sub works again without a restart.
      await expect
        .poll(
          async () => {
            const before = onB.length;
            await c.publish({ kind: 'org', ref: 'o1' });
            await new Promise((resolve) => setTimeout(resolve, 100));
            return onB.length > before;
          },
          { timeout: 5000 },
        )
        .toBe(true);
    } finally {
      await a.close();
      await b.close();
      await c.close();
    }
  }, 30_000);

  it('does not hold up a publisher while Redis is away, and its change still arrives when Redis returns', async () => {
    const options = { safetyPollMs: 600_000, degradedPollMs: 600_000 };
    const a = await RedisInvalidation.start(store.db, redis.url, options);
    const b = await RedisInvalidation.start(store.db, redis.url, options);
    try {
      const onB = recorder(b);
      await redis.stop();
      const started = performance.now();
      await a.publish({ kind: 'model', ref: 'queued' });
      expect(performance.now() - started).toBeLessThan(500);
      await redis.start();
      await expect.poll(() => onB, { interval: 20, timeout: 5000 }).toEqual([{ kind: 'model', ref: 'queued' }]);
    } finally {
      await a.close();
      await b.close();
    }
  }, 30_000);

  it('starts without Redis, polling the table, and subscribes once Redis is up', async () => {
    await redis.stop();
    const logB = logs();
    const a = await RedisInvalidation.start(store.db, redis.url, { degradedPollMs: 100 });
    const b = await RedisInvalidation.start(store.db, redis.url, { degradedPollMs: 100, logger: logB.logger });
    try {
      expect(logB.lines.join('\n')).toMatch(/Redis unreachable at start/);
      const onB = recorder(b);
      await a.publish({ kind: 'user', ref: 'u1' });
      await expect.poll(() => onB, { interval: 10, timeout: 1000 }).toEqual([{ kind: 'user', ref: 'u1' }]);
      await redis.start();
      await expect.poll(() => logB.lines.join('\n'), { timeout: 5000 }).toMatch(/Redis is back/);
      // B now polls every 2 s: a change in well under that came by pub/sub, from A's publisher reconnected.
      await expect
        .poll(
          async () => {
            const before = onB.length;
            await a.publish({ kind: 'project', ref: 'p1' });
            await new Promise((resolve) => setTimeout(resolve, 100));
            return onB.length > before;
          },
          { timeout: 5000 },
        )
        .toBe(true);
    } finally {
      await a.close();
      await b.close();
    }
  }, 30_000);
});
