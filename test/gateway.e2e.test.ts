import { readdirSync, readFileSync, statSync } from 'node:fs';
import path from 'node:path';
import { sql } from 'drizzle-orm';
import OpenAI from 'openai';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { rawRows } from '../src/store/db.ts';
import { backends } from './support/backends.ts';
import { FakeOpenAI, fakePromptTokens } from './support/fake-openai.ts';
import { type RunningTollgate, startTollgate } from './support/tollgate.ts';

const PROVIDER_SECRET = 'sk-proj-e2e-provider-secret-DO-NOT-LEAK-4242';
const PRICES = { inputPrice: 2.5, outputPrice: 10 };

async function waitFor<T>(probe: () => Promise<T | undefined>, ms = 2000): Promise<T> {
  const deadline = Date.now() + ms;
  for (;;) {
    const value = await probe();
    if (value !== undefined) return value;
    if (Date.now() > deadline) throw new Error('timed out waiting');
    await new Promise((resolve) => setTimeout(resolve, 25));
  }
}

function filesUnder(dir: string): string[] {
  return readdirSync(dir).flatMap((name) => {
    const full = path.join(dir, name);
    return statSync(full).isDirectory() ? filesUnder(full) : [full];
  });
}

describe.each(backends())('gateway end to end on $name', (backend) => {
  let tg: RunningTollgate;
  let provider: FakeOpenAI;
  let dataDir: string;
  let key: { id: string; key: string };
  let client: OpenAI;

  beforeAll(async () => {
    const prepared = await backend.prepare();
    dataDir = prepared.dataDir;
    provider = await new FakeOpenAI(PROVIDER_SECRET).start();
    tg = await startTollgate(prepared, { TOLLGATE_UPSTREAM_TIMEOUT_MS: '2000' });
    const credential = await tg.admin('POST', '/api/v1/credentials', {
      name: 'openai-production',
      provider: 'openai',
      fields: { apiKey: PROVIDER_SECRET, baseUrl: provider.url },
    });
    expect(credential.status).toBe(201);
    for (const [name, upstream] of [
      ['gpt-4o', 'gpt-4o-2024-08-06'],
      ['broken', 'fail-500'],
      ['picky', 'fail-400'],
      ['busy', 'fail-429'],
      ['no-usage', 'no-usage'],
      ['sleepy', 'slow-4000'],
      ['text-embedding-3-small', 'text-embedding-3-small'],
    ]) {
      const model = await tg.admin('POST', '/api/v1/models', {
        name,
        targets: [{ credential: 'openai-production', upstreamModel: upstream }],
        ...PRICES,
      });
      expect(model.status).toBe(201);
    }
    // One attempt only, so the timeout test measures one timeout.
    await tg.admin('PATCH', '/api/v1/models/sleepy', { retries: 0 });
    const created = await tg.admin('POST', '/api/v1/keys', { name: 'my-vscode-plugin' });
    expect(created.status).toBe(201);
    key = created.body;
    client = new OpenAI({ apiKey: key.key, baseURL: `${tg.url}/v1`, maxRetries: 0 });
  }, 60_000);

  afterAll(async () => {
    await tg?.close();
    await provider?.close();
  });

  it('returns the full key once, and only a masked preview afterwards', async () => {
    expect(key.key).toMatch(/^tg_[0-9A-Za-z]{49}$/);
    const shown = await tg.admin('GET', `/api/v1/keys/${key.id}`);
    expect(shown.body.preview).toBe(`tg_…${key.key.slice(-4)}`);
    expect(JSON.stringify(shown.body)).not.toContain(key.key);
    const listed = await tg.admin('GET', '/api/v1/keys');
    expect(JSON.stringify(listed.body)).not.toContain(key.key);
  });

  it('answers a chat completion through the official OpenAI client, with the provider seeing its own secret', async () => {
    const response = await client.chat.completions.create({
      model: 'gpt-4o',
      messages: [{ role: 'user', content: 'Say hello to the gateway please' }],
      temperature: 0.2,
      // An unknown field must reach the provider untouched.
      ...({ tollgate_passthrough_probe: { nested: [1, 2] } } as object),
    });
    expect(response.choices[0]?.message.content).toBe('Hello! How can I assist you today?');
    expect(response.usage?.prompt_tokens).toBe(6);
    const received = provider.received.at(-1);
    expect(received?.headers.authorization).toBe(`Bearer ${PROVIDER_SECRET}`);
    expect(JSON.stringify(received?.headers)).not.toContain(key.key);
    expect(received?.body.model).toBe('gpt-4o-2024-08-06');
    expect(received?.body.tollgate_passthrough_probe).toEqual({ nested: [1, 2] });
    expect(received?.body.temperature).toBe(0.2);
  });

  it('sets request id and usage headers before the body', async () => {
    const { data, response } = await client.chat.completions
      .create({ model: 'gpt-4o', messages: [{ role: 'user', content: 'one two three' }] })
      .withResponse();
    expect(response.headers.get('x-request-id')).toMatch(/^req_[0-9a-f]{32}$/);
    expect(Number(response.headers.get('x-tollgate-prompt-tokens'))).toBe(data.usage?.prompt_tokens);
    const expected = (3 * PRICES.inputPrice + 10 * PRICES.outputPrice) / 1e6;
    expect(Number(response.headers.get('x-tollgate-cost-usd'))).toBeCloseTo(expected, 8);
  });

  it('streams chunk by chunk and hides the usage event the caller did not ask for', async () => {
    provider.chunkDelayMs = 150;
    const started = Date.now();
    const stream = await client.chat.completions.create({
      model: 'gpt-4o',
      messages: [{ role: 'user', content: 'stream me something' }],
      stream: true,
    });
    const arrivals: number[] = [];
    const chunks = [];
    for await (const chunk of stream) {
      arrivals.push(Date.now() - started);
      chunks.push(chunk);
    }
    provider.chunkDelayMs = 0;
    expect(chunks.map((chunk) => chunk.choices[0]?.delta.content ?? '').join('')).toBe('Hello!');
    expect(chunks.every((chunk) => chunk.choices.length > 0)).toBe(true);
    // Forwarded as they arrive: the first chunk long before the last (4 events 150 ms apart).
    expect((arrivals.at(-1) as number) - (arrivals[0] as number)).toBeGreaterThan(300);
    expect(provider.received.at(-1)?.body.stream_options).toEqual({ include_usage: true });
  });

  it('passes the usage event through when the caller asks for it', async () => {
    const stream = await client.chat.completions.create({
      model: 'gpt-4o',
      messages: [{ role: 'user', content: 'count these five words' }],
      stream: true,
      stream_options: { include_usage: true },
    });
    const usage = [];
    for await (const chunk of stream) if (chunk.usage) usage.push(chunk.usage);
    expect(usage).toHaveLength(1);
    expect(usage[0]?.prompt_tokens).toBe(4);
    expect(usage[0]?.completion_tokens).toBe(2);
  });

  it('counts tokens itself when a provider reports no usage, so the cost is never zero', async () => {
    const stream = await client.chat.completions.create({
      model: 'no-usage',
      messages: [{ role: 'user', content: 'count me please' }],
      stream: true,
    });
    let text = '';
    for await (const chunk of stream) text += chunk.choices[0]?.delta.content ?? '';
    expect(text).toBe('Hello!');
    expect(provider.received.at(-1)?.body.stream_options).toEqual({ include_usage: true });
    const usage = await tg.admin('GET', '/api/v1/usage?model=no-usage&limit=1');
    const record = usage.body.records[0];
    // "Hello!" is 2 tokens in o200k; the prompt is the three words plus message framing.
    expect(record.completionTokens).toBe(2);
    expect(record.promptTokens).toBeGreaterThanOrEqual(6);
    expect(record.costUsd).toBeCloseTo((record.promptTokens * PRICES.inputPrice + 2 * PRICES.outputPrice) / 1e6, 12);
  });

  it('creates embeddings and lists only the published models', async () => {
    const embeddings = await client.embeddings.create({ model: 'text-embedding-3-small', input: ['a b c', 'd'] });
    expect(embeddings.data).toHaveLength(2);
    expect(embeddings.usage.prompt_tokens).toBe(4);
    const models = await client.models.list();
    expect(models.data.map((model) => model.id)).toEqual([
      'broken',
      'busy',
      'gpt-4o',
      'no-usage',
      'picky',
      'sleepy',
      'text-embedding-3-small',
    ]);
  });

  it('records one usage row per request with the right tokens and cost', async () => {
    const before = await tg.admin('GET', `/api/v1/usage?key=${key.id}&limit=1000`);
    const content = 'usage accounting check with seven words';
    const response = await client.chat.completions.create({ model: 'gpt-4o', messages: [{ role: 'user', content }] });
    const after = await tg.admin('GET', `/api/v1/usage?key=${key.id}&limit=1000`);
    expect(after.body.totals.requests).toBe(before.body.totals.requests + 1);
    const record = after.body.records[0];
    const promptTokens = fakePromptTokens({ messages: [{ content }] });
    expect(response.usage?.prompt_tokens).toBe(promptTokens);
    expect(record).toMatchObject({
      keyId: key.id,
      keyName: 'my-vscode-plugin',
      model: 'gpt-4o',
      provider: 'openai',
      upstreamModel: 'gpt-4o-2024-08-06',
      status: 200,
      promptTokens,
      completionTokens: 10,
      streamed: false,
      endpoint: 'chat.completions',
    });
    expect(record.costUsd).toBeCloseTo((promptTokens * 2.5 + 10 * 10) / 1e6, 10);
    expect(record.latencyMs).toBeGreaterThan(0);
    expect(record.requestId).toMatch(/^req_/);

    const streamed = after.body.records.find(
      (row: { streamed: boolean; promptTokens: number }) => row.streamed && row.promptTokens === 3,
    );
    expect(streamed).toMatchObject({ completionTokens: 2, status: 200 });
    expect(streamed.ttftMs).toBeGreaterThan(0);
    const embedding = after.body.records.find((row: { endpoint: string }) => row.endpoint === 'embeddings');
    expect(embedding).toMatchObject({ promptTokens: 4, costUsd: (4 * 2.5) / 1e6 });
    const key2 = await tg.admin('GET', `/api/v1/keys/${key.id}`);
    expect(key2.body.lastUsedAt).not.toBeNull();
    expect(key2.body.usage.requests).toBe(after.body.totals.requests);
  });

  it('exposes Prometheus metrics of what it served', async () => {
    const metrics = await (await fetch(`${tg.url}/metrics`)).text();
    const served =
      /tollgate_requests_total\{endpoint="chat.completions",model="gpt-4o",provider="openai",status="200"\} (\d+)/.exec(
        metrics,
      );
    expect(Number(served?.[1])).toBeGreaterThanOrEqual(4);
    expect(metrics).toMatch(/tollgate_tokens_total\{model="gpt-4o",type="completion"\} \d+/);
    expect(metrics).toMatch(/tollgate_usage_queue_depth \d+/);
    expect(metrics).not.toContain(key.key);
  });

  it('refuses missing, malformed and unknown keys with 401 saying which', async () => {
    const call = (headers: Record<string, string>) =>
      fetch(`${tg.url}/v1/chat/completions`, {
        method: 'POST',
        headers: { 'content-type': 'application/json', ...headers },
        body: JSON.stringify({ model: 'gpt-4o', messages: [{ role: 'user', content: 'hi' }] }),
      });
    const missing = await call({});
    expect(missing.status).toBe(401);
    expect((await missing.json()).error.code).toBe('key_missing');
    const typo = `${key.key.slice(0, 10)}${key.key[10] === 'x' ? 'y' : 'x'}${key.key.slice(11)}`;
    const malformed = await call({ authorization: `Bearer ${typo}` });
    expect((await malformed.json()).error).toMatchObject({
      code: 'key_malformed',
      type: 'authentication_error',
      status: 401,
    });
    const { generateApiKey } = await import('../src/crypto/api-keys.ts');
    const unknown = await call({ authorization: `Bearer ${generateApiKey()}` });
    expect(unknown.status).toBe(401);
    expect((await unknown.json()).error.message).toMatch(/no such key/);
    const viaHeader = await call({ 'x-api-key': key.key });
    expect(viaHeader.status).toBe(200);
  });

  it('refuses a disabled, then revoked, then deleted key within one second, and an expired key', async () => {
    const created = await tg.admin('POST', '/api/v1/keys', { name: 'short-lived' });
    const short = new OpenAI({ apiKey: created.body.key, baseURL: `${tg.url}/v1`, maxRetries: 0 });
    const ask = () => short.chat.completions.create({ model: 'gpt-4o', messages: [{ role: 'user', content: 'x' }] });
    await ask();
    const refusal = async (expected: RegExp) => {
      const started = Date.now();
      const error = await waitFor(async () => {
        try {
          await ask();
          return undefined;
        } catch (caught) {
          return caught as InstanceType<typeof OpenAI.APIError>;
        }
      }, 1000);
      expect(Date.now() - started).toBeLessThan(1000);
      expect(error.status).toBe(401);
      expect(error.message).toMatch(expected);
    };
    expect((await tg.admin('POST', `/api/v1/keys/${created.body.id}/disable`)).body.status).toBe('disabled');
    await refusal(/disabled/);
    await tg.admin('POST', `/api/v1/keys/${created.body.id}/enable`);
    await ask();
    await tg.admin('POST', `/api/v1/keys/${created.body.id}/revoke`);
    await refusal(/revoked/);
    expect((await tg.admin('POST', `/api/v1/keys/${created.body.id}/enable`)).status).toBe(409);
    expect((await tg.admin('DELETE', `/api/v1/keys/${created.body.id}`)).status).toBe(204);
    await refusal(/no such key/);

    const expiring = await tg.admin('POST', '/api/v1/keys', {
      name: 'expiring',
      expiresAt: new Date(Date.now() + 1500).toISOString(),
    });
    const soon = new OpenAI({ apiKey: expiring.body.key, baseURL: `${tg.url}/v1`, maxRetries: 0 });
    await soon.models.list();
    await new Promise((resolve) => setTimeout(resolve, 1600));
    await expect(soon.models.list()).rejects.toMatchObject({ status: 401, message: expect.stringMatching(/expired/) });
  });

  it('refuses bad input with the right status and keeps serving', async () => {
    const post = (body: string, headers: Record<string, string> = {}) =>
      fetch(`${tg.url}/v1/chat/completions`, {
        method: 'POST',
        headers: { authorization: `Bearer ${key.key}`, 'content-type': 'application/json', ...headers },
        body,
      });
    const brokenJson = await post('{"model": "gpt-4o", "messages": [');
    expect(brokenJson.status).toBe(400);
    expect((await brokenJson.json()).error.code).toBe('invalid_json');
    const noMessages = await post(JSON.stringify({ model: 'gpt-4o' }));
    expect(noMessages.status).toBe(400);
    expect((await noMessages.json()).error.message).toMatch(/messages/);
    const notObject = await post('[1,2]');
    expect(notObject.status).toBe(400);
    const unknownModel = await post(JSON.stringify({ model: 'gpt-9', messages: [{ role: 'user', content: 'x' }] }));
    expect(unknownModel.status).toBe(404);
    expect((await unknownModel.json()).error).toMatchObject({
      code: 'model_not_found',
      message: expect.stringContaining('gpt-9'),
    });
    const huge = await post(
      JSON.stringify({ model: 'gpt-4o', messages: [{ role: 'user', content: 'x'.repeat(11 * 1024 * 1024) }] }),
    );
    expect(huge.status).toBe(413);
    expect((await huge.json()).error.code).toBe('body_too_large');
    const wrongType = await post('<hello/>', { 'content-type': 'application/xml' });
    expect(wrongType.status).toBe(415);
    const text = await post('hello', { 'content-type': 'text/plain' });
    expect(text.status).toBe(400);
    const route = await fetch(`${tg.url}/v1/nothing-here`);
    expect(route.status).toBe(404);
    expect(route.headers.get('x-request-id')).toMatch(/^req_/);
    const health = await fetch(`${tg.url}/health`);
    expect(health.status).toBe(200);
  });

  it('turns provider failures into gateway errors without leaking the provider secret', async () => {
    const failure = async (model: string) => {
      try {
        await client.chat.completions.create({ model, messages: [{ role: 'user', content: 'x' }] });
      } catch (error) {
        return error as InstanceType<typeof OpenAI.APIError>;
      }
      throw new Error(`${model} did not fail`);
    };
    const broken = await failure('broken');
    expect(broken.status).toBe(502);
    expect(broken.code).toBe('provider_error');
    const picky = await failure('picky');
    expect(picky.status).toBe(400);
    expect(picky.message).toMatch(/temperature/);
    const busy = await failure('busy');
    expect(busy.status).toBe(429);
    expect(busy.headers?.get('retry-after')).toBe('7');

    await tg.admin('PATCH', '/api/v1/credentials/openai-production', { fields: { apiKey: 'sk-wrong-secret-1234567' } });
    const rejected = await waitFor(async () => {
      const error = await failure('gpt-4o').catch(() => undefined);
      return error?.status === 502 ? error : undefined;
    });
    expect(rejected.code).toBe('provider_auth');
    expect(rejected.message).toContain('openai-production');
    expect(rejected.message).not.toContain('sk-wrong');
    await tg.admin('PATCH', '/api/v1/credentials/openai-production', { fields: { apiKey: PROVIDER_SECRET } });
    await waitFor(async () =>
      (await client.models.list()) && (await failure('gpt-4o').catch(() => 'ok')) === 'ok' ? true : undefined,
    );
  });

  it('answers 502 when the provider cannot be reached and 504 when it is too slow', async () => {
    await tg.admin('POST', '/api/v1/credentials', {
      name: 'nowhere',
      provider: 'openai-compatible',
      fields: { baseUrl: 'http://127.0.0.1:1/v1' },
    });
    await tg.admin('POST', '/api/v1/models', {
      name: 'nowhere',
      targets: [{ credential: 'nowhere', upstreamModel: 'x' }],
      inputPrice: 0,
      outputPrice: 0,
    });
    await expect(
      client.chat.completions.create({ model: 'nowhere', messages: [{ role: 'user', content: 'x' }] }),
    ).rejects.toMatchObject({
      status: 502,
      code: 'provider_unreachable',
    });
    const started = Date.now();
    await expect(
      client.chat.completions.create({ model: 'sleepy', messages: [{ role: 'user', content: 'x' }] }),
    ).rejects.toMatchObject({
      status: 504,
      code: 'provider_timeout',
    });
    expect(Date.now() - started).toBeLessThan(3500);
  });

  it('never stores or logs the plaintext API key or the provider secret', async () => {
    await tg.tollgate.gateway.usage.flush();
    const tables = await rawRows<{ schemaname: string; tablename: string }>(
      tg.tollgate.store.db,
      sql`select schemaname, tablename from pg_tables where schemaname in ('public', 'drizzle')`,
    );
    let dump = '';
    for (const { schemaname, tablename } of tables) {
      const rows = await rawRows<{ row: string }>(
        tg.tollgate.store.db,
        sql.raw(`select row_to_json(t)::text as row from "${schemaname}"."${tablename}" t`),
      );
      dump += rows.map((row) => row.row).join('\n');
    }
    expect(dump).toContain('my-vscode-plugin');
    expect(dump).not.toContain(key.key);
    expect(dump).not.toContain(PROVIDER_SECRET);
    const logs = tg.logs.join('');
    expect(logs).not.toContain(key.key);
    expect(logs).not.toContain(PROVIDER_SECRET);
    if (backend.name === 'pglite') {
      for (const file of filesUnder(dataDir)) {
        const bytes = readFileSync(file);
        expect(bytes.includes(key.key), file).toBe(false);
        expect(bytes.includes(PROVIDER_SECRET), file).toBe(false);
      }
    }
  });
});
