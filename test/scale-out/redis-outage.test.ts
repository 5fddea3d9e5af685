import OpenAI from 'openai';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { backends, tempDir } from '../support/backends.ts';
import { FakeOpenAI } from '../support/fake-openai.ts';
import { publishMetered } from '../support/metered.ts';
import { RedisServer, redisAvailable } from '../support/redis.ts';
import { type RunningTollgate, startTollgate } from '../support/tollgate.ts';

const SECRET = 'sk-redis-outage-secret-000111222333';
const postgresBackend = backends().find((backend) => backend.name === 'postgres');

type Phase = 'before' | 'during' | 'after';
interface Outcome {
  key: string;
  phase: Phase;
  status: number;
  code?: string;
}

/**
 * Redis stopped and started under load, with the default policy (TOLLGATE_COORD_FAILURE=auto):
 * keys under a spend limit are served while their leases last, then refused with 503 until Redis
 * returns; keys under rate limits only, or none, are served throughout; everything comes back
 * without a restart.
 */
describe.skipIf(!postgresBackend || !redisAvailable)('Redis stopped and started under load', () => {
  const provider = new FakeOpenAI(SECRET);
  let redis: RedisServer;
  let instances: RunningTollgate[] = [];
  const keys: Record<string, string> = {};

  beforeAll(async () => {
    await provider.start();
    redis = await RedisServer.start();
    const database = await (postgresBackend as NonNullable<typeof postgresBackend>).prepare();
    const env = { REDIS_URL: redis.url, TOLLGATE_MASTER_KEY: '12'.repeat(32) };
    instances = [await startTollgate(database, env), await startTollgate({ ...database, dataDir: tempDir() }, env)];
    const [a] = instances as [RunningTollgate];
    await publishMetered(a.admin, provider);
    for (const [name, body] of [
      ['spend-limited', { spendLimit: { allTimeUsd: 1000 } }],
      ['rate-limited', { rateLimits: { rpm: 1_000_000 } }],
      ['unlimited', {}],
    ] as const) {
      keys[name] = (await a.admin('POST', '/api/v1/keys', { name, ...body })).body.key;
    }
  }, 60_000);

  afterAll(async () => {
    for (const instance of instances) await instance.close();
    await provider.close();
    await redis.close();
  });

  it('refuses only what needs the shared counters, says why, and recovers without a restart', async () => {
    const outcomes: Outcome[] = [];
    let phase: Phase = 'before';
    let running = true;
    const load = (async () => {
      for (let i = 0; running; i++) {
        const instance = instances[i % 2] as RunningTollgate;
        const calls = Object.entries(keys).map(([key, apiKey]) => {
          const client = new OpenAI({ apiKey, baseURL: `${instance.url}/v1`, maxRetries: 0 });
          const at = phase;
          return client.chat.completions
            .create({ model: 'metered', messages: [{ role: 'user', content: 'hi' }], max_tokens: 10 })
            .then(
              () => outcomes.push({ key, phase: at, status: 200 }),
              (error) => outcomes.push({ key, phase: at, status: error.status, code: error.code ?? error.error?.code }),
            );
        });
        await Promise.all(calls);
        await new Promise((resolve) => setTimeout(resolve, 20));
      }
    })();
    await new Promise((resolve) => setTimeout(resolve, 1000));
    phase = 'during';
    await redis.stop();
    // Longer than a lease lives unrenewed (LEASE_TTL_MS less its margin), so leases run out.
    await new Promise((resolve) => setTimeout(resolve, 5000));
    const metrics = await (await fetch(`${instances[0]?.url}/metrics`)).text();
    await redis.start();
    phase = 'after';
    const restarted = Date.now();
    let recoveredAfter: number | undefined;
    while (Date.now() - restarted < 8000) {
      await new Promise((resolve) => setTimeout(resolve, 100));
      const recent = outcomes.filter((o) => o.phase === 'after' && o.key === 'spend-limited').slice(-4);
      if (recent.length === 4 && recent.every((o) => o.status === 200)) {
        recoveredAfter ??= Date.now() - restarted;
        break;
      }
    }
    await new Promise((resolve) => setTimeout(resolve, 500));
    running = false;
    await load;

    const figures = Object.keys(keys).map((key) => {
      const row: Record<string, string> = { key };
      for (const p of ['before', 'during', 'after'] as Phase[]) {
        const mine = outcomes.filter((o) => o.key === key && o.phase === p);
        row[p] =
          `${mine.filter((o) => o.status === 200).length} served / ${mine.filter((o) => o.status !== 200).length} refused`;
      }
      return row;
    });
    console.log('Redis stopped for 5 s under load:');
    console.table(figures);
    console.log(`spend-limited key served again ${recoveredAfter} ms after Redis returned`);

    expect(metrics).toMatch(/^tollgate_coordination_up 0$/m);
    for (const key of ['rate-limited', 'unlimited']) {
      expect(outcomes.filter((o) => o.key === key && o.status !== 200)).toEqual([]);
    }
    const limited = outcomes.filter((o) => o.key === 'spend-limited');
    expect(limited.filter((o) => o.phase === 'before').every((o) => o.status === 200)).toBe(true);
    // Every refusal says why, in the caller's dialect; nothing else goes wrong.
    const refused = limited.filter((o) => o.status !== 200);
    expect(refused.length).toBeGreaterThan(0);
    for (const refusal of refused) expect(refusal).toMatchObject({ status: 503, code: 'coordination_unavailable' });
    expect(recoveredAfter).toBeDefined();
    expect(recoveredAfter).toBeLessThan(5000);
  }, 60_000);
});
