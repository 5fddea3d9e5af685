import { Redis } from 'ioredis';
import OpenAI from 'openai';
import postgres from 'postgres';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { backends, tempDir } from '../support/backends.ts';
import { FakeOpenAI } from '../support/fake-openai.ts';
import { CALL_USD, publishMetered } from '../support/metered.ts';
import { exited, type ServedProcess, serveProcess } from '../support/processes.ts';
import { redisAvailable, sharedRedis } from '../support/redis.ts';
import { ADMIN_TOKEN, startTollgate } from '../support/tollgate.ts';

const SECRET = 'sk-scale-out-secret-000111222333';
const MASTER_KEY = 'ef'.repeat(32);

const postgresBackend = backends().find((backend) => backend.name === 'postgres');

async function admin(url: string, method: string, path: string, body?: unknown) {
  const response = await fetch(`${url}${path}`, {
    method,
    headers: { authorization: `Bearer ${ADMIN_TOKEN}`, 'content-type': 'application/json' },
    body: body === undefined ? undefined : JSON.stringify(body),
  });
  return { status: response.status, body: (await response.json().catch(() => undefined)) as any };
}

/** A call as a tool makes it, with a worst case equal to its cost (output capped at what it uses). */
function ask(url: string, key: string, model = 'metered') {
  const client = new OpenAI({ apiKey: key, baseURL: `${url}/v1`, maxRetries: 0 });
  return client.chat.completions
    .create({ model, messages: [{ role: 'user', content: 'hello there' }], max_tokens: 10 })
    .then(
      () => 200,
      (error) => {
        // A call that got no answer at all is reported with its cause, so a failure says why.
        if (error.status === undefined) console.error('no answer:', error.message, error.cause?.message ?? '');
        return Number(error.status ?? 0);
      },
    );
}

describe.skipIf(!postgresBackend || !redisAvailable)('three instances on one PostgreSQL and one Redis', () => {
  const provider = new FakeOpenAI(SECRET);
  let redis: { url: string; close(): Promise<void> };
  const instances: ServedProcess[] = [];
  let databaseUrl: string;
  let environment: Record<string, string> = {};

  beforeAll(async () => {
    await provider.start();
    redis = await sharedRedis();
    const database = await (postgresBackend as NonNullable<typeof postgresBackend>).prepare();
    databaseUrl = database.databaseUrl as string;
    environment = {
      DATABASE_URL: databaseUrl,
      REDIS_URL: redis.url,
      TOLLGATE_MASTER_KEY: MASTER_KEY,
      TOLLGATE_ADMIN_TOKEN: ADMIN_TOKEN,
      TOLLGATE_LOG_LEVEL: 'warn',
    };
    // One at a time: the first applies the migrations.
    for (let i = 0; i < 3; i++) instances.push(await serveProcess({ ...environment, TOLLGATE_DATA_DIR: tempDir() }));
    const first = instances[0]?.url as string;
    await publishMetered((method, path, body) => admin(first, method, path, body), provider, {
      metered: 'gpt-4o',
      slow: 'slow-400',
    });
  }, 120_000);

  afterAll(async () => {
    for (const instance of instances) instance.child.kill('SIGKILL');
    await Promise.all(instances.map((instance) => exited(instance.child)));
    await provider.close();
    await redis.close();
  });

  async function keyWith(body: Record<string, unknown>): Promise<{ key: string; name: string; id: string }> {
    const name = `key-${Math.random().toString(36).slice(2)}`;
    const created = await admin(instances[0]?.url as string, 'POST', '/api/v1/keys', { name, ...body });
    expect(created.status).toBe(201);
    return { key: created.body.key, name, id: created.body.id };
  }

  /** 300 calls at once, spread over the three instances. */
  async function burst(key: string, calls = 300, model = 'metered'): Promise<number[]> {
    return Promise.all(Array.from({ length: calls }, (_, i) => ask(instances[i % 3]?.url as string, key, model)));
  }

  async function recordedSpend(keyName: string): Promise<{ usd: number; served: number }> {
    const sql = postgres(databaseUrl, { max: 1, onnotice: () => {} });
    try {
      // Usage records reach the database within about a second of the answer.
      await new Promise((resolve) => setTimeout(resolve, 1500));
      const [row] = await sql<{ usd: number; served: number }[]>`
        select coalesce(sum(cost_usd), 0)::float8 as usd, count(*) filter (where status = 200)::int as served
        from usage_records where key_name = ${keyName}`;
      return row as { usd: number; served: number };
    } finally {
      await sql.end();
    }
  }

  it('never spends past an all-time or a recurring limit, and leaves at most 10% of it unused', async () => {
    for (const spendLimit of [{ allTimeUsd: 1.5 }, { recurring: { usd: 1.5, window: '1d' } }]) {
      const { key, name } = await keyWith({ spendLimit });
      const statuses = await burst(key);
      const served = statuses.filter((status) => status === 200).length;
      const refused = statuses.filter((status) => status === 402 || status === 429).length;
      expect(statuses.filter((status) => ![200, 402, 429].includes(status))).toEqual([]);
      expect(served + refused).toBe(300);
      const spent = await recordedSpend(name);
      expect(spent.served).toBe(served);
      // Near the end of the budget a call may be admitted with its output capped to what is left
      // (and cost less than CALL_USD), so money is checked, not the count of calls.
      expect(spent.usd).toBeLessThanOrEqual(1.5 + 1e-9);
      expect(spent.usd).toBeGreaterThanOrEqual(0.9 * 1.5);
      expect(served * CALL_USD).toBeGreaterThanOrEqual(0.9 * 1.5);
    }
  }, 120_000);

  it('never serves more than a requests-per-minute or a concurrency limit allows', async () => {
    const { key: perMinute } = await keyWith({ rateLimits: { rpm: 60 } });
    const statuses = await burst(perMinute, 120);
    expect(statuses.filter((status) => status === 200).length).toBe(60);
    expect(statuses.filter((status) => status === 429).length).toBe(60);

    const { key: parallel } = await keyWith({ rateLimits: { maxParallel: 5 } });
    const slow = await burst(parallel, 30, 'slow');
    expect(slow.filter((status) => status === 200).length).toBe(5);
    // The slots come back when the calls end: the next five fit again.
    const again = await burst(parallel, 5, 'slow');
    expect(again.filter((status) => status === 200).length).toBe(5);

    // Tokens per minute: each call uses 12 tokens (2 prompt words, 10 completion), counted after
    // it ends; calls a moment apart, alternating instances, stop once 100 have been used anywhere.
    const { key: tokens } = await keyWith({ rateLimits: { tpm: 100 } });
    const statusesByCall: number[] = [];
    for (let i = 0; i < 14; i++) {
      statusesByCall.push(await ask(instances[i % 3]?.url as string, tokens));
      await new Promise((resolve) => setTimeout(resolve, 300));
    }
    expect(statusesByCall.slice(0, 9)).toEqual(Array(9).fill(200));
    expect(statusesByCall.slice(9)).toEqual(Array(5).fill(429));
  }, 60_000);

  it('frees what an instance killed with kill -9 held: the survivors can spend the rest of the budget', async () => {
    const { key, name, id } = await keyWith({ spendLimit: { allTimeUsd: 1.5 } });
    const victim = instances[2] as ServedProcess;
    // Every instance takes a lease; the victim dies holding its own and with calls in flight.
    const first = await Promise.all([
      ...Array.from({ length: 30 }, (_, i) => ask(instances[i % 3]?.url as string, key)),
      ...Array.from({ length: 20 }, () => ask(victim.url, key, 'slow')),
      new Promise<number>((resolve) => setTimeout(() => resolve(victim.child.kill('SIGKILL') ? -1 : -2), 150)),
    ]);
    await exited(victim.child);
    const killedAt = Date.now();
    const survivors = instances.slice(0, 2);
    expect(first.filter((status) => status === 200).length).toBeGreaterThan(0);
    // Within seconds the dead instance's lease expires and its budget is usable again.
    for (;;) {
      const statuses = await Promise.all(
        Array.from({ length: 40 }, (_, i) => ask(survivors[i % 2]?.url as string, key)),
      );
      // Refused everywhere, and past the lease's 5 s expiry: what is left is nobody's.
      const expired = Date.now() - killedAt > 6000;
      if ((statuses.every((status) => status === 402) && expired) || Date.now() - killedAt > 15_000) break;
      await new Promise((resolve) => setTimeout(resolve, 500));
    }
    // What the shared counters say was spent: calls the victim settled before it died count
    // there even when their usage records died with it (at most its last second).
    const redisClient = new Redis(redis.url);
    const counted = Number(await redisClient.hget(`tg:spend:key:${id}`, 'all'));
    const leases = await redisClient.hgetall(`tg:lease:key:${id}`);
    await redisClient.quit();
    const spent = await recordedSpend(name);
    console.log(
      `kill -9 with a $1.50 budget: $${counted.toFixed(2)} counted, ${spent.served} calls recorded for $${spent.usd.toFixed(2)}; the survivors spent the rest within ${((Date.now() - killedAt) / 1000).toFixed(1)} s of the kill`,
    );
    expect(counted).toBeLessThanOrEqual(1.5 + 1e-9);
    expect(counted).toBeGreaterThanOrEqual(1.5 - 0.02);
    expect(spent.usd).toBeLessThanOrEqual(counted + 1e-9);
    // No lease is left for an instance that no longer exists.
    expect(Object.keys(leases).length).toBeLessThanOrEqual(2);
    // The victim's place is taken by a new instance for the rest of the suite.
    instances[2] = await serveProcess({ ...environment, TOLLGATE_DATA_DIR: tempDir() });
  }, 60_000);
});

describe.skipIf(!postgresBackend)('several instances on one PostgreSQL without Redis', () => {
  it('serves keys under a limit on one instance only, says why on the others, and hands over when it stops', async () => {
    const provider = await new FakeOpenAI(SECRET).start();
    const database = await (postgresBackend as NonNullable<typeof postgresBackend>).prepare();
    const env = { TOLLGATE_MASTER_KEY: MASTER_KEY };
    const a = await startTollgate(database, env);
    const b = await startTollgate({ ...database, dataDir: tempDir() }, env);
    try {
      await publishMetered(a.admin, provider);
      const limited = (await a.admin('POST', '/api/v1/keys', { name: 'limited', spendLimit: { allTimeUsd: 1 } })).body
        .key as string;
      const open = (await a.admin('POST', '/api/v1/keys', { name: 'open' })).body.key as string;
      await expect.poll(() => ask(b.url, open), { timeout: 3000 }).toBe(200);
      expect(await ask(a.url, limited)).toBe(200);
      const client = new OpenAI({ apiKey: limited, baseURL: `${b.url}/v1`, maxRetries: 0 });
      const refusal = await client.chat.completions
        .create({ model: 'metered', messages: [{ role: 'user', content: 'hi' }], max_tokens: 10 })
        .catch((error) => error);
      expect(refusal.status).toBe(503);
      expect(refusal.message).toMatch(/REDIS_URL/);
      expect(b.logs.join('')).toMatch(/without REDIS_URL/);
      await a.close();
      // The standby takes the counters over from the usage records within seconds.
      await expect.poll(() => ask(b.url, limited), { interval: 500, timeout: 12_000 }).toBe(200);
    } finally {
      await a.close();
      await b.close();
      await provider.close();
    }
  }, 60_000);
});
