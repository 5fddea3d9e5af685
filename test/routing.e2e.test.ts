import OpenAI from 'openai';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { backends } from './support/backends.ts';
import { FakeOpenAI } from './support/fake-openai.ts';
import { type RunningTollgate, startTollgate } from './support/tollgate.ts';

const SECRET = 'sk-routing-secret-777777';

describe('routing across several targets', () => {
  let tg: RunningTollgate;
  let client: OpenAI;
  const provider = new FakeOpenAI(SECRET);

  beforeAll(async () => {
    await provider.start();
    tg = await startTollgate(await backends()[0]!.prepare());
    await tg.admin('POST', '/api/v1/credentials', {
      name: 'primary',
      provider: 'openai',
      fields: { apiKey: SECRET, baseUrl: provider.url },
    });
    await tg.admin('POST', '/api/v1/credentials', {
      name: 'backup',
      provider: 'vllm',
      fields: { apiKey: SECRET, baseUrl: provider.url },
    });
    const models = [
      {
        name: 'falls-back',
        targets: [
          { credential: 'primary', upstreamModel: 'fail-500' },
          { credential: 'backup', upstreamModel: 'good' },
        ],
      },
      {
        name: 'times-out',
        retries: 0,
        targets: [
          { credential: 'primary', upstreamModel: 'slow-3000', timeoutMs: 300 },
          { credential: 'backup', upstreamModel: 'good' },
        ],
      },
      {
        name: 'balanced',
        targets: [
          { credential: 'primary', upstreamModel: 'left', weight: 3, priority: 0 },
          { credential: 'backup', upstreamModel: 'right', weight: 1, priority: 0 },
        ],
      },
      {
        name: 'all-broken',
        retries: 0,
        targets: [
          { credential: 'primary', upstreamModel: 'fail-503' },
          { credential: 'backup', upstreamModel: 'fail-500' },
        ],
      },
      {
        name: 'picky',
        targets: [
          { credential: 'primary', upstreamModel: 'fail-400' },
          { credential: 'backup', upstreamModel: 'good' },
        ],
      },
    ];
    for (const model of models)
      expect((await tg.admin('POST', '/api/v1/models', { inputPrice: 1, outputPrice: 1, ...model })).status).toBe(201);
    const key = (await tg.admin('POST', '/api/v1/keys', { name: 'routing' })).body;
    client = new OpenAI({ apiKey: key.key, baseURL: `${tg.url}/v1`, maxRetries: 0 });
  }, 60_000);
  afterAll(async () => {
    await tg?.close();
    await provider.close();
  });

  const ask = (model: string, stream = false) =>
    client.chat.completions.create({
      model,
      messages: [{ role: 'user', content: 'route me' }],
      stream,
    }) as Promise<any>;
  const sentTo = () => provider.received.map((request) => request.body.model);

  it('retries a failing target, then falls back to the next, and records the one that served', async () => {
    provider.received.length = 0;
    const answer = await ask('falls-back');
    expect(answer.choices[0].message.content).toBeTruthy();
    expect(sentTo()).toEqual(['fail-500', 'fail-500', 'good']);
    const usage = await tg.admin('GET', '/api/v1/usage?model=falls-back&limit=1');
    expect(usage.body.records[0]).toMatchObject({ status: 200, provider: 'vllm', upstreamModel: 'good' });
  });

  it('falls back when a target does not answer within its timeout, streaming included', async () => {
    const started = Date.now();
    const answer = await ask('times-out');
    expect(answer.model).toBe('good');
    expect(Date.now() - started).toBeLessThan(2000);
    const stream = await ask('times-out', true);
    let text = '';
    for await (const chunk of stream) text += chunk.choices[0]?.delta?.content ?? '';
    expect(text).toBe('Hello!');
  });

  it('rests a target that keeps failing', async () => {
    // Three requests in a row found the first target failing: it rests, tried last, so never reached.
    await ask('falls-back');
    await ask('falls-back');
    provider.received.length = 0;
    await ask('falls-back');
    expect(sentTo()).toEqual(['good']);
  });

  it('shares load by weight among targets of equal priority', async () => {
    provider.received.length = 0;
    await Promise.all(Array.from({ length: 200 }, () => ask('balanced')));
    const left = sentTo().filter((model) => model === 'left').length;
    expect(left).toBeGreaterThan(120);
    expect(left).toBeLessThan(180);
  });

  it('reports the last failure when every target fails, and does not fall back on a bad request', async () => {
    await expect(ask('all-broken')).rejects.toMatchObject({ status: 502, code: 'provider_error' });
    provider.received.length = 0;
    await expect(ask('picky')).rejects.toMatchObject({ status: 400 });
    expect(sentTo()).toEqual(['fail-400']);
  });
});
