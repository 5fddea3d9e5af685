import OpenAI from 'openai';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { backends } from './support/backends.ts';
import { FakeOpenAI } from './support/fake-openai.ts';
import { type RunningTollgate, startTollgate } from './support/tollgate.ts';

const SECRET = 'sk-policy-provider-secret-5555';
const HOUR = 3_600_000;
/** 10 completion tokens at $10/M, 3 prompt words at $0.10/M: what one call below costs. */
const CALL_COST = (3 * 0.1 + 10 * 10) / 1e6;

interface Outcome {
  status: number;
  cost: number;
  code?: string;
  message?: string;
  maxTokens?: string | null;
  retryAfter?: string | null;
}

describe.each(backends())('policy on $name', (backend) => {
  let tg: RunningTollgate;
  const provider = new FakeOpenAI(SECRET);
  let now = Date.parse('2026-03-01T12:00:00Z');

  beforeAll(async () => {
    await provider.start();
    tg = await startTollgate(await backend.prepare(), {}, () => now);
    await tg.admin('POST', '/api/v1/credentials', {
      name: 'fake',
      provider: 'openai',
      fields: { apiKey: SECRET, baseUrl: provider.url },
    });
    const models = [
      ['metered', 'gpt-4o', 0.1, 10],
      ['gpt-4o-mini', 'gpt-4o-mini', 0.15, 0.6],
      ['o1', 'o1', 15, 60],
      ['llama-free', 'llama', 0, 0],
      ['slow', 'slow-600', 0.1, 10],
    ] as const;
    for (const [name, upstream, inputPrice, outputPrice] of models) {
      const created = await tg.admin('POST', '/api/v1/models', {
        name,
        targets: [{ credential: 'fake', upstreamModel: upstream }],
        inputPrice,
        outputPrice,
      });
      expect(created.status).toBe(201);
    }
  }, 60_000);
  afterAll(async () => {
    await tg?.close();
    await provider.close();
  });

  async function makeKey(body: Record<string, unknown>): Promise<{ id: string; key: string }> {
    const created = await tg.admin('POST', '/api/v1/keys', {
      name: `k-${Math.random().toString(36).slice(2, 8)}`,
      ...body,
    });
    expect(created.status, JSON.stringify(created.body)).toBe(201);
    return created.body;
  }

  async function call(
    key: string,
    model = 'metered',
    extra: Record<string, unknown> = {},
    signal?: AbortSignal,
  ): Promise<Outcome> {
    const response = await fetch(`${tg.url}/v1/chat/completions`, {
      method: 'POST',
      headers: { authorization: `Bearer ${key}`, 'content-type': 'application/json' },
      body: JSON.stringify({ model, messages: [{ role: 'user', content: 'one two three' }], max_tokens: 10, ...extra }),
      signal,
    });
    const body = await response.json();
    return {
      status: response.status,
      cost: Number(response.headers.get('x-tollgate-cost-usd') ?? 0),
      code: body.error?.code,
      message: body.error?.message,
      maxTokens: response.headers.get('x-tollgate-max-tokens'),
      retryAfter: response.headers.get('retry-after'),
    };
  }

  async function flood(key: string, count = 100): Promise<Outcome[]> {
    return Promise.all(Array.from({ length: count }, () => call(key)));
  }

  it('never overshoots an all-time limit under 100 concurrent requests', async () => {
    const limit = 30 * CALL_COST;
    const { id, key } = await makeKey({ spendLimit: { allTimeUsd: limit } });
    const outcomes = await flood(key);
    const served = outcomes.filter((outcome) => outcome.status === 200);
    const refused = outcomes.filter((outcome) => outcome.status !== 200);
    const spent = served.reduce((sum, outcome) => sum + outcome.cost, 0);
    expect(spent).toBeLessThanOrEqual(limit + 1e-12);
    expect(served.length).toBeGreaterThanOrEqual(20);
    expect(new Set(refused.map((outcome) => outcome.status))).toEqual(new Set([402]));
    expect(refused[0]?.code).toBe('spend_limit_reached');
    expect(refused[0]?.message).toMatch(
      /^Spend limit reached: key "k-\w+" has spent \$[\d.]+( \(and requests in flight hold \$[\d.]+\))? of its \$0\.00301 all-time limit/,
    );
    const shown = await tg.admin('GET', `/api/v1/keys/${id}`);
    expect(shown.body.spend.allTimeUsd).toBeCloseTo(spent, 10);
    expect(shown.body.spend.allTimeUsd).toBeLessThanOrEqual(limit + 1e-12);
    console.info(
      `all-time overshoot test: ${served.length} of 100 served, spent $${spent.toFixed(8)} of $${limit.toFixed(8)}`,
    );
  });

  it('holds a recurring window exactly, and opens the next window on time', async () => {
    const limit = 30 * CALL_COST;
    const { id, key } = await makeKey({ spendLimit: { recurring: { usd: limit, window: '1h' } } });
    const first = await flood(key);
    const spent = first.filter((o) => o.status === 200).reduce((sum, o) => sum + o.cost, 0);
    expect(spent).toBeLessThanOrEqual(limit + 1e-12);
    expect(first.filter((o) => o.status === 200).length).toBeGreaterThanOrEqual(20);
    const refusal = first.find((o) => o.status === 402);
    expect(refusal?.message).toMatch(/of its \$0\.00301 limit per 1 hour/);
    expect(refusal?.message).toMatch(/the window resets at 2026-03-01T13:00:00\.000Z$/);
    const shown = await tg.admin('GET', `/api/v1/keys/${id}`);
    expect(shown.body.spend.period).toMatchObject({
      start: '2026-03-01T12:00:00.000Z',
      end: '2026-03-01T13:00:00.000Z',
    });
    expect(shown.body.spend.period.spentUsd).toBeCloseTo(spent, 10);

    // What little budget is left goes to calls with capped output, then nothing more.
    let drained = 0;
    while ((await call(key)).status === 200) expect(++drained).toBeLessThan(5);
    now += HOUR - 1;
    expect((await call(key)).status).toBe(402);
    now += 1;
    const next = await flood(key);
    const nextServed = next.filter((o) => o.status === 200);
    expect(nextServed.length).toBeGreaterThanOrEqual(20);
    expect(nextServed.reduce((sum, o) => sum + o.cost, 0)).toBeLessThanOrEqual(limit + 1e-12);
    console.info(
      `recurring overshoot test: ${first.filter((o) => o.status === 200).length} then ${nextServed.length} served`,
    );
  });

  it('caps max_tokens to what the budget can pay instead of refusing', async () => {
    // Room for the prompt bound and about 5 output tokens.
    const { key } = await makeKey({ spendLimit: { allTimeUsd: 0.00006 } });
    const capped = await call(key);
    expect(capped.status).toBe(200);
    expect(Number(capped.maxTokens)).toBeGreaterThan(0);
    expect(Number(capped.maxTokens)).toBeLessThan(10);
    expect(provider.received.at(-1)?.body.max_tokens).toBe(Number(capped.maxTokens));
    expect((await call(key)).status).toBe(402);
  });

  it('makes a request fit its project and organisation limits too, and names the one it hits', async () => {
    await tg.admin('POST', '/api/v1/projects', { name: 'capped', spendLimit: { allTimeUsd: 3 * CALL_COST } });
    const { key } = await makeKey({ project: 'capped', spendLimit: { allTimeUsd: 1 } });
    const outcomes = await flood(key, 10);
    expect(outcomes.filter((o) => o.status === 200).length).toBeLessThanOrEqual(3);
    expect(outcomes.find((o) => o.status === 402)?.message).toMatch(/project "capped" has spent/);
    // The organisation's own limit applies to every key.
    await tg.admin('PATCH', '/api/v1/organization', { spendLimit: { allTimeUsd: 0 } });
    const { key: other } = await makeKey({});
    await expect.poll(async () => (await call(other)).message).toMatch(/organization "Default organization" has spent/);
    await tg.admin('PATCH', '/api/v1/organization', { spendLimit: { allTimeUsd: null } });
    await expect.poll(async () => (await call(other)).status).toBe(200);
  });

  it('applies IAM rules: each rule type, deny over allow, and no rules', async () => {
    const cases: Array<[Record<string, unknown>, string, number, RegExp | null]> = [
      [{}, 'o1', 200, null],
      [
        { allowModels: ['gpt-4o-mini'] },
        'metered',
        403,
        /^Access denied: Model metered is not in the allowed models list$/,
      ],
      [{ allowModels: ['gpt-4o-mini'] }, 'gpt-4o-mini', 200, null],
      [
        { allowModels: ['gpt-*'], denyModels: ['gpt-4o-mini'] },
        'gpt-4o-mini',
        403,
        /^Access denied: Model gpt-4o-mini is denied$/,
      ],
      [{ denyProviders: ['openai'] }, 'metered', 403, /^Access denied: Provider openai is denied$/],
      [
        { allowProviders: ['anthropic'] },
        'metered',
        403,
        /^Access denied: Provider openai is not in the allowed providers list$/,
      ],
      [{ allowProviders: ['openai'] }, 'metered', 200, null],
      [
        { allowPricing: ['free'] },
        'metered',
        403,
        /^Access denied: Model metered is paid, and only free models are allowed$/,
      ],
      [{ allowPricing: ['free'] }, 'llama-free', 200, null],
      [
        { maxInputPrice: 5, maxOutputPrice: 20 },
        'o1',
        403,
        /^Access denied: Model o1 exceeds the maximum allowed price$/,
      ],
      [{ maxInputPrice: 5, maxOutputPrice: 20 }, 'metered', 200, null],
    ];
    for (const [rules, model, status, message] of cases) {
      const { key } = await makeKey({ rules });
      const outcome = await call(key, model);
      expect(outcome.status, `${JSON.stringify(rules)} → ${model}`).toBe(status);
      if (message) expect(outcome.message).toMatch(message);
      if (status === 403) expect(outcome.code).toMatch(/^(model|provider|pricing)_not_allowed$/);
    }
    const { key } = await makeKey({ rules: { allowModels: ['gpt-*', 'llama-free'], denyModels: ['gpt-4o-mini'] } });
    const listed = await new OpenAI({ apiKey: key, baseURL: `${tg.url}/v1` }).models.list();
    expect(listed.data.map((model) => model.id)).toEqual(['llama-free']);
    const everything = await new OpenAI({ apiKey: (await makeKey({})).key, baseURL: `${tg.url}/v1` }).models.list();
    expect(everything.data).toHaveLength(5);
  });

  it('limits requests per minute and tokens per minute with 429 and retry-after', async () => {
    const { key } = await makeKey({ rateLimits: { rpm: 3 } });
    for (let i = 0; i < 3; i++) expect((await call(key)).status).toBe(200);
    const limited = await call(key);
    expect(limited).toMatchObject({ status: 429, code: 'rate_limited' });
    expect(limited.message).toMatch(/3 requests per minute/);
    expect(Number(limited.retryAfter)).toBeGreaterThan(0);
    now += 2 * 60_000;
    expect((await call(key)).status).toBe(200);

    const { key: tokens } = await makeKey({ rateLimits: { tpm: 20 } });
    expect((await call(tokens)).status).toBe(200);
    expect((await call(tokens)).status).toBe(200);
    expect(await call(tokens)).toMatchObject({ status: 429, message: expect.stringMatching(/20 tokens per minute/) });
  });

  it('limits concurrent requests and frees the slot when a client disconnects', async () => {
    const { key } = await makeKey({ rateLimits: { maxParallel: 1 } });
    const first = call(key, 'slow');
    await new Promise((resolve) => setTimeout(resolve, 100));
    expect(await call(key)).toMatchObject({ status: 429, retryAfter: '1' });
    expect((await first).status).toBe(200);
    expect((await call(key)).status).toBe(200);

    const abort = new AbortController();
    const abandoned = call(key, 'slow', {}, abort.signal).catch(() => 'aborted');
    await new Promise((resolve) => setTimeout(resolve, 100));
    abort.abort();
    expect(await abandoned).toBe('aborted');
    await expect.poll(async () => (await call(key)).status, { timeout: 2000 }).toBe(200);
  });

  it('frees the slot of a stream whose caller stopped reading and then left', async () => {
    const created = await tg.admin('POST', '/api/v1/models', {
      name: 'long-stream',
      targets: [{ credential: 'fake', upstreamModel: 'flood-20000' }],
      inputPrice: 0,
      outputPrice: 0,
    });
    expect(created.status).toBe(201);
    const { key } = await makeKey({ rateLimits: { maxParallel: 1 } });
    const abort = new AbortController();
    const response = await fetch(`${tg.url}/v1/chat/completions`, {
      method: 'POST',
      headers: { authorization: `Bearer ${key}`, 'content-type': 'application/json' },
      body: JSON.stringify({ model: 'long-stream', messages: [{ role: 'user', content: 'x' }], stream: true }),
      signal: abort.signal,
    });
    const reader = response.body!.getReader();
    await reader.read();
    // The caller reads no more: the gateway's buffers fill and it waits. Then the caller leaves.
    await new Promise((resolve) => setTimeout(resolve, 300));
    expect((await call(key, 'metered')).status).toBe(429);
    abort.abort();
    await expect.poll(async () => (await call(key, 'metered')).status, { timeout: 3000 }).toBe(200);
  });

  it('rotates a key: the new secret works, the old one only during the grace period', async () => {
    const { id, key: old } = await makeKey({ rules: { allowModels: ['metered'] } });
    const rotated = await tg.admin('POST', `/api/v1/keys/${id}/rotate`, { graceSeconds: 60 });
    expect(rotated.body.key).not.toBe(old);
    expect(rotated.body.rules).toEqual({ allowModels: ['metered'] });
    expect((await call(rotated.body.key)).status).toBe(200);
    expect((await call(old)).status).toBe(200);
    expect((await call(old, 'o1')).status).toBe(403);
    now += 61_000;
    expect(await call(old)).toMatchObject({ status: 401, code: 'key_expired' });
    expect((await call(rotated.body.key)).status).toBe(200);

    const again = await tg.admin('POST', `/api/v1/keys/${id}/rotate`, {});
    expect(await call(rotated.body.key)).toMatchObject({ status: 401, code: 'key_unknown' });
    expect((await call(again.body.key)).status).toBe(200);
  });

  it('holds projects to their plan key limit and users to their per-user limit', async () => {
    const project = await tg.admin('POST', '/api/v1/projects', { name: 'free-tier', plan: 'free', keysPerUser: 1 });
    expect(project.body).toMatchObject({
      keyLimit: 10,
      keysUsed: 0,
      keysUsage: '0 of 10 keys used',
      canCreateKey: true,
    });
    await tg.admin('POST', '/api/v1/users', { email: 'ada@example.com', role: 'member' });
    await makeKey({ project: 'free-tier', owner: 'ada@example.com' });
    const second = await tg.admin('POST', '/api/v1/keys', {
      name: 'again',
      project: 'free-tier',
      owner: 'ada@example.com',
    });
    expect(second.status).toBe(409);
    expect(second.body.error.message).toMatch(/already has 1 API key\(s\) in the project/);
    for (let i = 0; i < 9; i++) await makeKey({ project: 'free-tier' });
    const full = await tg.admin('POST', '/api/v1/keys', { name: 'eleventh', project: 'free-tier' });
    expect(full.status).toBe(409);
    expect(full.body.error.message).toMatch(/Project free-tier has reached its limit of 10 API keys/);
    const shown = await tg.admin('GET', '/api/v1/projects/free-tier');
    expect(shown.body).toMatchObject({ keysUsage: '10 of 10 keys used', canCreateKey: false });
    const upgraded = await tg.admin('PATCH', '/api/v1/projects/free-tier', { plan: 'pro' });
    expect(upgraded.body).toMatchObject({ keyLimit: 100, canCreateKey: true });
  });
});

describe('spend limits across a restart and a cut stream', () => {
  it('remembers what a key spent after a restart, and charges an abandoned stream its reservation', async () => {
    const provider = new FakeOpenAI(SECRET);
    await provider.start();
    const prepared = await backends()[0]!.prepare();
    let tg = await startTollgate(prepared);
    try {
      await tg.admin('POST', '/api/v1/credentials', {
        name: 'fake',
        provider: 'openai',
        fields: { apiKey: SECRET, baseUrl: provider.url },
      });
      await tg.admin('POST', '/api/v1/models', {
        name: 'metered',
        targets: [{ credential: 'fake', upstreamModel: 'gpt-4o' }],
        inputPrice: 0.1,
        outputPrice: 10,
      });
      const key = (
        await tg.admin('POST', '/api/v1/keys', { name: 'restart', spendLimit: { allTimeUsd: 3 * CALL_COST } })
      ).body;
      const ask = (stream = false, signal?: AbortSignal) =>
        fetch(`${tg.url}/v1/chat/completions`, {
          method: 'POST',
          headers: { authorization: `Bearer ${key.key}`, 'content-type': 'application/json' },
          body: JSON.stringify({
            model: 'metered',
            messages: [{ role: 'user', content: 'one two three' }],
            max_tokens: 10,
            stream,
          }),
          signal,
        });
      expect((await ask()).status).toBe(200);
      expect((await ask()).status).toBe(200);
      await tg.close();

      tg = await startTollgate(prepared);
      // Two calls were spent before the restart: one more fits, by a stream cut after its first event.
      provider.chunkDelayMs = 300;
      const abort = new AbortController();
      const response = await ask(true, abort.signal);
      expect(response.status).toBe(200);
      const reader = response.body!.getReader();
      await reader.read();
      abort.abort();
      provider.chunkDelayMs = 0;
      await expect.poll(async () => (await ask()).status, { timeout: 3000 }).toBe(402);
      const shown = await tg.admin('GET', `/api/v1/keys/${key.id}`);
      // The cut stream is charged what was reserved for it: more than an ordinary call.
      expect(shown.body.spend.allTimeUsd).toBeGreaterThan(2 * CALL_COST + CALL_COST / 2);
      expect(shown.body.spend.allTimeUsd).toBeLessThanOrEqual(3 * CALL_COST + 1e-12);
    } finally {
      await tg.close();
      await provider.close();
    }
  }, 60_000);
});
