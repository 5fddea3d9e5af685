import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { backends, tempDir } from '../support/backends.ts';
import { RedisServer, redisAvailable } from '../support/redis.ts';
import { type RunningTollgate, startTollgate } from '../support/tollgate.ts';

/**
 * Two instances on one PostgreSQL and a Redis of this suite's own, stopped and started again:
 * a revoke still reaches the other instance while Redis is away, and pub/sub resumes when it
 * returns, without restarting Tollgate. (That an instance reads what it missed as soon as its
 * subscription returns, with no polling at all, is shown in src/coord/redis-invalidation.test.ts.)
 */
const postgres = backends().find((backend) => backend.name === 'postgres');

describe.skipIf(!postgres || !redisAvailable)('invalidation while Redis is stopped and started', () => {
  let redis: RedisServer;
  let a: RunningTollgate;
  let b: RunningTollgate;
  beforeAll(async () => {
    const database = await (postgres as NonNullable<typeof postgres>).prepare();
    redis = await RedisServer.start();
    const env = { TOLLGATE_MASTER_KEY: '12'.repeat(32), REDIS_URL: redis.url };
    a = await startTollgate({ ...database, dataDir: tempDir() }, env);
    b = await startTollgate({ ...database, dataDir: tempDir() }, env);
  });
  afterAll(async () => {
    await a?.close();
    await b?.close();
    await redis?.close();
  });

  const statusOnB = (key: string) =>
    fetch(`${b.url}/v1/models`, { headers: { authorization: `Bearer ${key}` } }).then(async (response) => {
      await response.arrayBuffer();
      return response.status;
    });

  /** A key B has served, so B holds it in memory. */
  async function keyKnownToB(name: string): Promise<{ id: string; key: string }> {
    const created = await a.admin('POST', '/api/v1/keys', { name });
    expect(created.status).toBe(201);
    await expect.poll(() => statusOnB(created.body.key), { interval: 10, timeout: 2000 }).toBe(200);
    return created.body;
  }

  /** Milliseconds from the revoke's answer on A to B's first refusal. */
  async function revokeAndTime(id: string, key: string): Promise<number> {
    const asked = performance.now();
    const revoked = await a.admin('POST', `/api/v1/keys/${id}/revoke`);
    expect(revoked.status).toBe(200);
    // The admin API does not wait on Redis, reachable or not.
    expect(performance.now() - asked).toBeLessThan(1000);
    const answered = performance.now();
    await expect.poll(() => statusOnB(key), { interval: 2, timeout: 3000 }).toBe(401);
    return performance.now() - answered;
  }

  it('refuses on B a key revoked on A while Redis is down, and by pub/sub again once it is back', async () => {
    const before = await keyKnownToB('before the outage');
    const during = await keyKnownToB('revoked during the outage');
    const after = await keyKnownToB('revoked after the outage');
    expect(await revokeAndTime(before.id, before.key)).toBeLessThanOrEqual(100);

    await redis.stop();
    await expect.poll(() => b.logs.join(''), { timeout: 3000 }).toMatch(/Redis lost: changes reach this instance/);
    // B reads the changes table every 250 ms meanwhile: a revoke still lands within a second.
    const whileDown = await revokeAndTime(during.id, during.key);
    expect(whileDown).toBeLessThanOrEqual(1000);

    await redis.start();
    await expect.poll(() => b.logs.join(''), { timeout: 10_000 }).toMatch(/Redis is back/);
    // A's publisher reconnects on its own schedule (ioredis waits up to 2 s between attempts).
    await new Promise((resolve) => setTimeout(resolve, 2500));
    const afterReturn = await revokeAndTime(after.id, after.key);
    console.log(
      `Redis stopped and started: revoke → refusal on B ${whileDown.toFixed(1)} ms while Redis was down, ${afterReturn.toFixed(1)} ms after it returned`,
    );
    expect(afterReturn).toBeLessThanOrEqual(100);
  }, 60_000);
});
