import { randomUUID } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { organizations, type UsageRow, usageRecords } from '../src/store/schema.ts';
import { backends } from './support/backends.ts';
import { type RunningTollgate, startTollgate } from './support/tollgate.ts';

const HOUR = 3_600_000;
const MINUTE = 60_000;
/** The records start at a whole UTC hour; the clock stands six hours later. */
const T0 = Date.parse('2024-05-01T00:00:00Z');
const NOW = T0 + 6 * HOUR;
const at = (ms: number) => new Date(T0 + ms).toISOString();
const MEMBER = { email: 'mia@example.com', password: 'mia-password-123' };

interface Seed {
  offset: number;
  key: 'alpha' | 'beta' | 'gamma';
  model: string;
  provider: string;
  status: number;
  prompt: number;
  completion: number;
  cached?: number;
  cost: number;
  latency: number;
  /** The key's name when the request was made, if not the key's own. */
  keyName?: string;
}

/**
 * Eight requests over six hours, by three keys: alpha (project research), beta (project
 * support) and gamma (research, owned by the member). Hour 1, 3 and 4 are empty.
 */
// biome-ignore format: a table reads best one request to a line
const SEEDS: Seed[] = [
  { offset: 1 * MINUTE, key: 'alpha', model: 'm-large', provider: 'openai', status: 200, prompt: 100, completion: 50, cached: 10, cost: 0.3, latency: 100 },
  { offset: 4 * MINUTE, key: 'alpha', model: 'm-large', provider: 'openai', status: 200, prompt: 200, completion: 100, cost: 0.6, latency: 200 },
  { offset: 7 * MINUTE, key: 'beta', model: 'm-small', provider: 'anthropic', status: 500, prompt: 10, completion: 0, cost: 0, latency: 300 },
  { offset: 30 * MINUTE, key: 'beta', model: 'm-small', provider: 'anthropic', status: 200, prompt: 20, completion: 10, cost: 0.02, latency: 400 },
  { offset: 2 * HOUR + 5 * MINUTE, key: 'gamma', model: 'm-small', provider: 'anthropic', status: 200, prompt: 40, completion: 20, cost: 0.05, latency: 50 },
  { offset: 2 * HOUR + 10 * MINUTE, key: 'gamma', model: 'm-large', provider: 'openai', status: 429, prompt: 0, completion: 0, cost: 0, latency: 5 },
  { offset: 2 * HOUR + 50 * MINUTE, key: 'alpha', model: 'm-large', provider: 'openai', status: 200, prompt: 300, completion: 100, cost: 0.9, latency: 1000, keyName: 'alpha-renamed' },
  { offset: 5 * HOUR + 59 * MINUTE, key: 'beta', model: 'm-small', provider: 'anthropic', status: 200, prompt: 30, completion: 30, cost: 0.04, latency: 60 },
];

/** What percentile_cont computes: linear interpolation between the closest ranks. */
function percentile(values: number[], p: number): number | null {
  if (values.length === 0) return null;
  const sorted = [...values].sort((a, b) => a - b);
  const position = p * (sorted.length - 1);
  const lower = Math.floor(position);
  const upper = Math.ceil(position);
  return (sorted[lower] as number) + ((sorted[upper] as number) - (sorted[lower] as number)) * (position - lower);
}

describe.each(backends())('usage time series and rankings on $name', (backend) => {
  let tg: RunningTollgate;
  const keyIds = { alpha: randomUUID(), beta: randomUUID(), gamma: randomUUID() };
  let research: { id: string; name: string };
  let support: { id: string; name: string };
  let member: { cookie: string };

  async function get(path: string, as?: { cookie: string }) {
    if (!as) return tg.admin('GET', path);
    const response = await fetch(`${tg.url}${path}`, { headers: { cookie: as.cookie } });
    return { status: response.status, body: await response.json() };
  }

  beforeAll(async () => {
    tg = await startTollgate(await backend.prepare(), {}, () => NOW);
    research = (await tg.admin('POST', '/api/v1/projects', { name: 'research' })).body;
    support = (await tg.admin('POST', '/api/v1/projects', { name: 'support' })).body;
    const created = await tg.admin('POST', '/api/v1/users', { ...MEMBER, role: 'member' });
    expect(created.status).toBe(201);
    const login = await fetch(`${tg.url}/api/auth/login`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify(MEMBER),
    });
    expect(login.status).toBe(200);
    member = { cookie: (login.headers.get('set-cookie') ?? '').split(';')[0] ?? '' };

    const db = tg.tollgate.store.db;
    const [organization] = await db.select().from(organizations);
    const orgId = organization?.id as string;
    const owners = { alpha: null, beta: null, gamma: created.body.id as string };
    const projectOf = { alpha: research.id, beta: support.id, gamma: research.id };
    const rows: UsageRow[] = SEEDS.map((seed, index) => ({
      time: new Date(T0 + seed.offset),
      requestId: `req_${index}`,
      orgId,
      projectId: projectOf[seed.key],
      keyId: keyIds[seed.key],
      keyName: seed.keyName ?? seed.key,
      userId: owners[seed.key],
      endpoint: 'chat.completions',
      model: seed.model,
      provider: seed.provider,
      upstreamModel: seed.model,
      status: seed.status,
      promptTokens: seed.prompt,
      completionTokens: seed.completion,
      cachedTokens: seed.cached ?? 0,
      costUsd: seed.cost,
      latencyMs: seed.latency,
    }));
    // Another organisation's request, in the same hour: never counted.
    rows.push({
      time: new Date(T0 + 2 * MINUTE),
      requestId: 'req_elsewhere',
      orgId: randomUUID(),
      keyId: randomUUID(),
      keyName: 'elsewhere',
      endpoint: 'chat.completions',
      model: 'm-large',
      provider: 'openai',
      status: 200,
      promptTokens: 1000,
      costUsd: 99,
      latencyMs: 9999,
    });
    await db.insert(usageRecords).values(rows);
  }, 60_000);
  afterAll(() => tg?.close());

  it('sums every hour from since to until, empty hours included, with latency percentiles', async () => {
    const { status, body } = await get(`/api/v1/usage/series?bucket=1h&since=${at(0)}&until=${at(6 * HOUR)}`);
    expect(status).toBe(200);
    expect(body.bucket).toBe('1h');
    expect(body.buckets.map((bucket: { start: string }) => bucket.start)).toEqual(
      [0, 1, 2, 3, 4, 5].map((hour) => at(hour * HOUR)),
    );
    expect(body.buckets.map((bucket: { requests: number }) => bucket.requests)).toEqual([4, 0, 3, 0, 0, 1]);
    const [first, empty, third, , , last] = body.buckets;
    expect(first).toMatchObject({ requests: 4, errors: 1, promptTokens: 330, completionTokens: 160, cachedTokens: 10 });
    expect(first.costUsd).toBeCloseTo(0.92, 10);
    expect(first.latencyP50Ms).toBeCloseTo(250, 9);
    expect(first.latencyP95Ms).toBeCloseTo(385, 9);
    expect(empty).toEqual({
      start: at(HOUR),
      requests: 0,
      errors: 0,
      promptTokens: 0,
      completionTokens: 0,
      cachedTokens: 0,
      cacheWriteTokens: 0,
      reasoningTokens: 0,
      countedRequests: 0,
      costUsd: 0,
      latencyP50Ms: null,
      latencyP95Ms: null,
    });
    expect(third).toMatchObject({ requests: 3, errors: 1, promptTokens: 340, completionTokens: 120 });
    expect(third.costUsd).toBeCloseTo(0.95, 10);
    expect(third.latencyP50Ms).toBeCloseTo(percentile([50, 5, 1000], 0.5) as number, 9);
    expect(third.latencyP95Ms).toBeCloseTo(905, 9);
    expect(last).toMatchObject({ requests: 1, latencyP50Ms: 60, latencyP95Ms: 60 });
  });

  it('bins by five minutes and by day', async () => {
    const fine = (await get(`/api/v1/usage/series?bucket=5m&since=${at(0)}&until=${at(HOUR)}`)).body;
    expect(fine.buckets).toHaveLength(12);
    expect(fine.buckets.map((bucket: { requests: number }) => bucket.requests)).toEqual([
      2, 1, 0, 0, 0, 0, 1, 0, 0, 0, 0, 0,
    ]);
    expect(fine.buckets[0]).toMatchObject({ start: at(0), latencyP50Ms: 150 });
    expect(fine.buckets[0].latencyP95Ms).toBeCloseTo(195, 9);
    expect(fine.buckets[1]).toMatchObject({ start: at(5 * MINUTE), errors: 1 });

    const daily = (await get(`/api/v1/usage/series?bucket=1d&since=${at(0)}&until=${at(24 * HOUR)}`)).body;
    expect(daily.buckets).toHaveLength(1);
    const latencies = SEEDS.map((seed) => seed.latency);
    expect(daily.buckets[0]).toMatchObject({ start: at(0), requests: 8, errors: 2, promptTokens: 700 });
    expect(daily.buckets[0].costUsd).toBeCloseTo(1.91, 10);
    expect(daily.buckets[0].latencyP50Ms).toBeCloseTo(percentile(latencies, 0.5) as number, 9);
    expect(daily.buckets[0].latencyP95Ms).toBeCloseTo(percentile(latencies, 0.95) as number, 9);
    expect(daily.buckets[0].latencyP95Ms).toBeCloseTo(790, 9);
  });

  it('starts at the bucket holding since, and at the first record without since', async () => {
    const partial = (await get(`/api/v1/usage/series?bucket=1h&since=${at(30 * MINUTE)}&until=${at(3 * HOUR)}`)).body;
    expect(partial.buckets.map((bucket: { start: string }) => bucket.start)).toEqual([at(0), at(HOUR), at(2 * HOUR)]);
    // Only the record at 00:30 is after since.
    expect(partial.buckets[0]).toMatchObject({ requests: 1, latencyP50Ms: 400 });

    const open = (await get('/api/v1/usage/series?bucket=1h')).body;
    expect(open.since).toBe(at(MINUTE));
    expect(open.until).toBe(new Date(NOW).toISOString());
    expect(open.buckets.map((bucket: { requests: number }) => bucket.requests)).toEqual([4, 0, 3, 0, 0, 1]);

    const relative = (await get('/api/v1/usage/series?bucket=1h&since=3h')).body;
    expect(relative.buckets.map((bucket: { requests: number }) => bucket.requests)).toEqual([0, 0, 1]);

    const nothing = (await get(`/api/v1/usage/series?bucket=1h&key=${randomUUID()}`)).body;
    expect(nothing.buckets).toEqual([]);
  });

  it('applies the same filters as the records', async () => {
    const range = `since=${at(0)}&until=${at(6 * HOUR)}`;
    const requestsOf = async (filters: string) =>
      (await get(`/api/v1/usage/series?bucket=1h&${range}&${filters}`)).body.buckets.map(
        (bucket: { requests: number }) => bucket.requests,
      );
    expect(await requestsOf(`key=${keyIds.alpha}`)).toEqual([2, 0, 1, 0, 0, 0]);
    expect(await requestsOf('project=research')).toEqual([2, 0, 3, 0, 0, 0]);
    expect(await requestsOf(`project=${support.id}`)).toEqual([2, 0, 0, 0, 0, 1]);
    expect(await requestsOf('model=m-small')).toEqual([2, 0, 1, 0, 0, 1]);
    expect(await requestsOf('provider=openai&status=200')).toEqual([2, 0, 1, 0, 0, 0]);
    const records = (await get(`/api/v1/usage?${range}&model=m-small`)).body;
    expect(records.totals.requests).toBe(4);
  });

  it('adds latency percentiles to the totals of the records', async () => {
    const { body } = await get(`/api/v1/usage?since=${at(0)}&until=${at(6 * HOUR)}`);
    expect(body.totals).toMatchObject({ requests: 8, errors: 2, promptTokens: 700, completionTokens: 310 });
    expect(body.totals.costUsd).toBeCloseTo(1.91, 10);
    expect(body.totals.latencyP50Ms).toBeCloseTo(150, 9);
    expect(body.totals.latencyP95Ms).toBeCloseTo(790, 9);
    const none = (await get(`/api/v1/usage?key=${randomUUID()}`)).body.totals;
    expect(none).toMatchObject({ requests: 0, costUsd: 0, latencyP50Ms: null, latencyP95Ms: null });
  });

  it('ranks keys, models, providers and projects by cost', async () => {
    const top = async (query: string) => (await get(`/api/v1/usage/top?${query}`)).body;
    const keys = await top('by=key');
    expect(keys.by).toBe('key');
    expect(keys.rows.map((row: { id: string }) => row.id)).toEqual([keyIds.alpha, keyIds.beta, keyIds.gamma]);
    // A renamed key shows the name of its latest request.
    expect(keys.rows.map((row: { name: string }) => row.name)).toEqual(['alpha-renamed', 'beta', 'gamma']);
    expect(keys.rows[0]).toMatchObject({ requests: 3, promptTokens: 600, completionTokens: 250 });
    expect(keys.rows[0].costUsd).toBeCloseTo(1.8, 10);
    expect(keys.rows[1].costUsd).toBeCloseTo(0.06, 10);

    const models = await top('by=model');
    expect(models.rows).toHaveLength(2);
    expect(models.rows[0]).toMatchObject({ id: 'm-large', name: 'm-large', requests: 4, promptTokens: 600 });
    expect(models.rows[1]).toMatchObject({ id: 'm-small', requests: 4, promptTokens: 100, completionTokens: 60 });
    expect(models.rows[1].costUsd).toBeCloseTo(0.11, 10);

    const providers = await top('by=provider');
    expect(providers.rows.map((row: { id: string; name: string }) => [row.id, row.name])).toEqual([
      ['openai', 'OpenAI'],
      ['anthropic', 'Anthropic'],
    ]);

    const projects = await top('by=project');
    expect(projects.rows.map((row: { id: string; name: string }) => [row.id, row.name])).toEqual([
      [research.id, 'research'],
      [support.id, 'support'],
    ]);
    expect(projects.rows[0].requests).toBe(5);
    expect(projects.rows[0].costUsd).toBeCloseTo(1.85, 10);

    expect((await top('by=key&limit=1')).rows.map((row: { name: string }) => row.name)).toEqual(['alpha-renamed']);
    // From 01:00 on, beta's only priced request costs less than gamma's.
    const later = await top(`by=key&since=${at(HOUR)}`);
    expect(later.rows.map((row: { id: string }) => row.id)).toEqual([keyIds.alpha, keyIds.gamma, keyIds.beta]);
    const filtered = await top('by=model&provider=anthropic&status=200');
    expect(filtered.rows).toHaveLength(1);
    expect(filtered.rows[0]).toMatchObject({ id: 'm-small', requests: 3 });
  });

  it('keeps a member to the usage of their own keys', async () => {
    const series = await get(`/api/v1/usage/series?bucket=1h&since=${at(0)}&until=${at(6 * HOUR)}`, member);
    expect(series.status).toBe(200);
    expect(series.body.buckets.map((bucket: { requests: number }) => bucket.requests)).toEqual([0, 0, 2, 0, 0, 0]);
    const open = await get('/api/v1/usage/series?bucket=1h', member);
    expect(open.body.since).toBe(at(2 * HOUR + 5 * MINUTE));
    const keys = await get('/api/v1/usage/top?by=key', member);
    expect(keys.body.rows.map((row: { id: string }) => row.id)).toEqual([keyIds.gamma]);
    const projects = await get('/api/v1/usage/top?by=project', member);
    expect(projects.body.rows).toMatchObject([{ id: research.id, requests: 2 }]);
    const someoneElse = await get(`/api/v1/usage/top?by=model&key=${keyIds.alpha}`, member);
    expect(someoneElse.body.rows).toEqual([]);
    const totals = await get('/api/v1/usage', member);
    expect(totals.body.totals).toMatchObject({ requests: 2, errors: 1, latencyP50Ms: 27.5 });
  });

  it('refuses more than 2,000 buckets, and says what to do instead', async () => {
    const week = await get(`/api/v1/usage/series?bucket=5m&since=${at(0)}&until=${at(7 * 24 * HOUR)}`);
    expect(week.status).toBe(400);
    expect(week.body.error.message).toMatch(/2016 buckets of 5m/);
    expect(week.body.error.message).toMatch(/at most 2000/);
    expect(week.body.error.message).toMatch(/larger bucket or a shorter range/);
    const quarter = await get('/api/v1/usage/series?bucket=1h&since=90d');
    expect(quarter.status).toBe(400);
    const daily = await get('/api/v1/usage/series?bucket=1d&since=90d');
    expect(daily.status).toBe(200);
    expect(daily.body.buckets).toHaveLength(91);
  });

  it('validates its parameters', async () => {
    expect((await get('/api/v1/usage/series?bucket=2h')).status).toBe(400);
    expect((await get(`/api/v1/usage/series?since=${at(HOUR)}&until=${at(0)}`)).status).toBe(400);
    expect((await get('/api/v1/usage/series?since=last-tuesday')).status).toBe(400);
    expect((await get('/api/v1/usage/top')).status).toBe(400);
    expect((await get('/api/v1/usage/top?by=user')).status).toBe(400);
    expect((await get('/api/v1/usage/top?by=key&limit=0')).status).toBe(400);
    expect((await get('/api/v1/usage/top?by=project&project=nowhere')).status).toBe(404);
  });

  it('documents the new routes in the OpenAPI document', async () => {
    const document = await (await fetch(`${tg.url}/api/openapi.json`)).json();
    for (const path of ['/api/v1/usage/series', '/api/v1/usage/top']) {
      expect(document.paths[path].get.tags).toEqual(['usage']);
      expect(document.paths[path].get.summary).toBeTruthy();
    }
    const parameters = document.paths['/api/v1/usage/series'].get.parameters.map((p: { name: string }) => p.name);
    expect(parameters).toEqual(expect.arrayContaining(['bucket', 'since', 'until', 'key', 'project', 'model']));
  });
});
