import { Agent, request } from 'undici';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { generateApiKey } from '../../src/crypto/api-keys.ts';
import { tempDir } from '../support/backends.ts';
import { type RunningTollgate, startTollgate } from '../support/tollgate.ts';

/**
 * Random well-formed keys are each a new hash, so a negative cache alone cannot stop them:
 * before the per-address limit every one cost a database query, and a flood of them starved
 * real traffic. Every address in 127.0.0.0/8 is this machine, so the flood comes from
 * 127.0.0.2 and real traffic from 127.0.0.1, on the same Tollgate.
 */
const LIMIT = 30;
const CONCURRENCY = 25;
const FLOOD = 1000;

function from(address: string): Agent {
  return new Agent({ localAddress: address, connections: CONCURRENCY });
}

describe('a flood of unknown API keys', () => {
  let tg: RunningTollgate;
  let key: string;
  const attacker = from('127.0.0.2');
  const neighbour = from('127.0.0.3');
  const real = from('127.0.0.1');

  beforeAll(async () => {
    tg = await startTollgate({ dataDir: tempDir() }, { TOLLGATE_AUTH_FAILURE_LIMIT: String(LIMIT) });
    const created = await tg.admin('POST', '/api/v1/keys', { name: 'real-traffic' });
    expect(created.status).toBe(201);
    key = created.body.key;
  }, 30_000);

  afterAll(async () => {
    await Promise.all([attacker.close(), neighbour.close(), real.close()]);
    await tg?.close();
  });

  const models = (dispatcher: Agent, apiKey: string) =>
    request(`${tg.url}/v1/models`, { dispatcher, headers: { authorization: `Bearer ${apiKey}` } });

  it('costs a bounded number of database queries, and real traffic from another address is served throughout', async () => {
    const before = tg.tollgate.gateway.keys.lookups;
    const statuses = new Map<number, number>();
    let retryAfter: string | undefined;
    let sent = 0;
    const flood = async () => {
      while (sent < FLOOD) {
        sent++;
        const response = await models(attacker, generateApiKey());
        statuses.set(response.statusCode, (statuses.get(response.statusCode) ?? 0) + 1);
        if (response.statusCode === 429) {
          retryAfter = String(response.headers['retry-after']);
          const body = (await response.body.json()) as { error: { code: string; type: string } };
          expect(body.error).toMatchObject({ code: 'key_failures_throttled', type: 'rate_limit_error' });
        } else await response.body.dump();
      }
    };
    const realStatuses: number[] = [];
    const realTraffic = async () => {
      while (sent < FLOOD) {
        const response = await models(real, key);
        realStatuses.push(response.statusCode);
        await response.body.dump();
      }
    };
    await Promise.all([...Array.from({ length: CONCURRENCY }, flood), realTraffic()]);

    const lookups = tg.tollgate.gateway.keys.lookups - before;
    // At most the limit, plus the requests already past the check when the limit was reached.
    expect(lookups).toBeLessThanOrEqual(LIMIT + CONCURRENCY);
    expect(statuses.get(401)).toBeLessThanOrEqual(LIMIT + CONCURRENCY);
    expect(statuses.get(429)).toBeGreaterThanOrEqual(FLOOD - LIMIT - CONCURRENCY);
    expect(Number(retryAfter)).toBeGreaterThanOrEqual(1);
    expect(Number(retryAfter)).toBeLessThanOrEqual(60);
    expect(realStatuses.length).toBeGreaterThan(0);
    expect(realStatuses.every((status) => status === 200)).toBe(true);
  }, 60_000);

  it('answers the throttled address in the Anthropic dialect on the Anthropic door', async () => {
    const response = await request(`${tg.url}/v1/messages`, {
      method: 'POST',
      dispatcher: attacker,
      headers: { 'x-api-key': generateApiKey(), 'anthropic-version': '2023-06-01', 'content-type': 'application/json' },
      body: JSON.stringify({ model: 'm', max_tokens: 1, messages: [{ role: 'user', content: 'Hi' }] }),
    });
    expect(response.statusCode).toBe(429);
    expect(Number(response.headers['retry-after'])).toBeGreaterThanOrEqual(1);
    expect(await response.body.json()).toMatchObject({ type: 'error', error: { type: 'rate_limit_error' } });
  });

  it('still serves a key already in memory from the throttled address', async () => {
    const response = await models(attacker, key);
    expect(response.statusCode).toBe(200);
    await response.body.dump();
  });

  it('shares one query among concurrent requests with the same unknown key, and remembers the answer', async () => {
    const unknown = generateApiKey();
    const before = tg.tollgate.gateway.keys.lookups;
    const responses = await Promise.all(Array.from({ length: 20 }, () => models(neighbour, unknown)));
    for (const response of responses) {
      expect(response.statusCode).toBe(401);
      await response.body.dump();
    }
    expect(tg.tollgate.gateway.keys.lookups - before).toBe(1);
    const again = await models(neighbour, unknown);
    expect(again.statusCode).toBe(401);
    await again.body.dump();
    expect(tg.tollgate.gateway.keys.lookups - before).toBe(1);
  });

  it('lets a key created a moment ago in at once', async () => {
    const created = await tg.admin('POST', '/api/v1/keys', { name: 'fresh' });
    const response = await models(neighbour, created.body.key);
    expect(response.statusCode).toBe(200);
    await response.body.dump();
  });
});
