import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { backends, tempDir } from '../support/backends.ts';
import { FakeOpenAI } from '../support/fake-openai.ts';
import { redisAvailable, sharedRedis } from '../support/redis.ts';
import { type RunningTollgate, startTollgate } from '../support/tollgate.ts';

/**
 * Two instances on one PostgreSQL: what the control plane changes on A is what B serves, within
 * 100 ms with Redis pub/sub and within a second with PostgreSQL's LISTEN/NOTIFY alone.
 */
const postgres = backends().find((backend) => backend.name === 'postgres');
const SECRET = 'sk-invalidation-secret-0123456789';
const MASTER_KEY = { TOLLGATE_MASTER_KEY: 'ef'.repeat(32) };
const TRIALS = 20;

/** Calls `attempt` until `done` holds; how long it took and how many answers came before. */
async function until<T>(attempt: () => Promise<T>, done: (value: T) => boolean, timeoutMs: number) {
  const started = performance.now();
  let before = 0;
  for (;;) {
    if (done(await attempt())) return { ms: performance.now() - started, before };
    before++;
    if (performance.now() - started > timeoutMs) throw new Error(`not done after ${timeoutMs} ms`);
  }
}

function summary(values: number[]) {
  const sorted = [...values].sort((x, y) => x - y);
  return { median: sorted[Math.floor(sorted.length / 2)] ?? 0, max: sorted[sorted.length - 1] ?? 0 };
}

describe.skipIf(!postgres)('invalidation across instances', () => {
  let database: { dataDir: string; databaseUrl?: string };
  let redis: { url: string; close(): Promise<void> } | undefined;
  const providers = [new FakeOpenAI(SECRET), new FakeOpenAI(SECRET)] as const;
  beforeAll(async () => {
    database = await (postgres as NonNullable<typeof postgres>).prepare();
    if (redisAvailable) redis = await sharedRedis();
    await Promise.all(providers.map((provider) => provider.start()));
  });
  afterAll(async () => {
    await redis?.close();
    await Promise.all(providers.map((provider) => provider.close()));
  });

  const modes = [
    { name: 'Redis pub/sub', boundMs: 100, env: (): Record<string, string> => ({ REDIS_URL: redis?.url ?? '' }) },
    { name: 'PostgreSQL LISTEN/NOTIFY alone', boundMs: 1000, env: (): Record<string, string> => ({}) },
  ];
  for (const mode of modes) {
    describe.skipIf(mode.name.startsWith('Redis') && !redisAvailable)(mode.name, () => {
      let a: RunningTollgate;
      let b: RunningTollgate;
      beforeAll(async () => {
        const env = { ...MASTER_KEY, ...mode.env() };
        a = await startTollgate({ ...database, dataDir: tempDir() }, env);
        b = await startTollgate({ ...database, dataDir: tempDir() }, env);
      });
      afterAll(async () => {
        await a?.close();
        await b?.close();
      });

      /** A request on B with this key: its status. */
      const onB = (key: string, model?: string) =>
        fetch(
          `${b.url}/v1/${model ? 'chat/completions' : 'models'}`,
          model
            ? {
                method: 'POST',
                headers: { authorization: `Bearer ${key}`, 'content-type': 'application/json' },
                body: JSON.stringify({ model, messages: [{ role: 'user', content: 'hi' }] }),
              }
            : { headers: { authorization: `Bearer ${key}` } },
        ).then(async (response) => {
          await response.arrayBuffer();
          return response.status;
        });

      it(`refuses on B a key revoked on A within ${mode.boundMs} ms`, async () => {
        const delays: number[] = [];
        const accepted: number[] = [];
        for (let trial = 0; trial < TRIALS; trial++) {
          const created = await a.admin('POST', '/api/v1/keys', { name: `${mode.name} ${trial}` });
          expect(created.status).toBe(201);
          // B has served the key, so it holds it in memory: only invalidation can make it refuse.
          await until(
            () => onB(created.body.key),
            (status) => status === 200,
            2000,
          );
          const revoked = await a.admin('POST', `/api/v1/keys/${created.body.id}/revoke`);
          expect(revoked.status).toBe(200);
          const { ms, before } = await until(
            () => onB(created.body.key),
            (status) => status === 401,
            5000,
          );
          delays.push(ms);
          accepted.push(before);
        }
        const { median, max } = summary(delays);
        console.log(
          `${mode.name}: revoke on A → first refusal on B over ${TRIALS} trials: median ${median.toFixed(1)} ms, max ${max.toFixed(1)} ms; requests B accepted meanwhile: max ${Math.max(...accepted)}`,
        );
        expect(max).toBeLessThanOrEqual(mode.boundMs);
      }, 120_000);

      it('serves on B the models, credentials and spend limits changed on A', async () => {
        const tag = mode.name.split(' ')[0]?.toLowerCase();
        const [first, second] = providers;
        const credential = await a.admin('POST', '/api/v1/credentials', {
          name: `cred-${tag}`,
          provider: 'openai',
          fields: { apiKey: SECRET, baseUrl: first.url },
        });
        expect(credential.status).toBe(201);
        const key = (await a.admin('POST', '/api/v1/keys', { name: `changes ${tag}` })).body.key as string;
        const model = `model-${tag}`;
        const timings: Record<string, number> = {};

        // A new model: B serves it.
        const published = await a.admin('POST', '/api/v1/models', {
          name: model,
          targets: [{ credential: `cred-${tag}`, upstreamModel: 'gpt-4o' }],
          inputPrice: 1,
          outputPrice: 2,
        });
        expect(published.status).toBe(201);
        timings.model = (
          await until(
            () => onB(key, model),
            (status) => status === 200,
            5000,
          )
        ).ms;

        // The credential now points to another provider: B calls that one.
        const atSecond = second.received.length;
        const moved = await a.admin('PATCH', `/api/v1/credentials/cred-${tag}`, {
          fields: { apiKey: SECRET, baseUrl: second.url },
        });
        expect(moved.status).toBe(200);
        timings.credential = (
          await until(
            () => onB(key, model),
            () => second.received.length > atSecond,
            5000,
          )
        ).ms;

        // An organisation spend limit of nothing, then none. Timed by B's memory: on Redis, the first
        // request under a new limit also sets up its counters there (~200 ms), which is not invalidation.
        const orgId = (await a.admin('GET', '/api/v1/organization')).body.id as string;
        const limited = async () => {
          await new Promise((resolve) => setTimeout(resolve, 1));
          return b.tollgate.gateway.scopeLimits.get('org', orgId) !== undefined;
        };
        expect((await a.admin('PATCH', '/api/v1/organization', { spendLimit: { allTimeUsd: 0 } })).status).toBe(200);
        timings.limit = (await until(limited, (yes) => yes, 5000)).ms;
        // B refuses (402; or 503 on PostgreSQL alone, where a limited key is not served across instances).
        await until(
          () => onB(key, model),
          (status) => status === 402 || status === 503,
          1000,
        );
        expect((await a.admin('PATCH', '/api/v1/organization', { spendLimit: { allTimeUsd: null } })).status).toBe(200);
        timings.unlimit = (await until(limited, (yes) => !yes, 5000)).ms;
        await until(
          () => onB(key, model),
          (status) => status === 200,
          1000,
        );

        // The model deleted: B no longer knows it.
        expect((await a.admin('DELETE', `/api/v1/models/${model}`)).status).toBe(204);
        timings.deleted = (
          await until(
            () => onB(key, model),
            (status) => status === 404,
            5000,
          )
        ).ms;

        console.log(
          `${mode.name}: change on A → B serving it (ms): ${Object.entries(timings)
            .map(([what, ms]) => `${what} ${ms.toFixed(1)}`)
            .join(', ')}`,
        );
        for (const ms of Object.values(timings)) expect(ms).toBeLessThanOrEqual(mode.boundMs);
      }, 60_000);
    });
  }
});
