import Anthropic from '@anthropic-ai/sdk';
import OpenAI from 'openai';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { backends } from './support/backends.ts';
import { FakeAnthropic } from './support/fake-anthropic.ts';
import { FakeBedrock } from './support/fake-bedrock.ts';
import { REPORTED } from './support/scenarios/scenario.ts';
import { type RunningTollgate, startTollgate } from './support/tollgate.ts';

const AWS = { accessKeyId: 'AKIAFAKEFAKEFAKE', secretAccessKey: 'fake-aws-secret-key-0123456789', region: 'us-east-1' };
/** A prompt the fakes answer with the cache-write scenario's figures (test/support/scenarios). */
const CACHE_WRITE = 'tg-scenario:cache-write Summarise the contract.';

/**
 * Prompt-cache writes are billed at the model's cache-write prices: 1.25× the input price for
 * 5-minute writes and 2× for 1-hour writes on Claude (docs/metering.md), at Anthropic and on
 * Bedrock, through either front door, and the caller sees the writes in its own format.
 */
describe.each(backends())('cache writes billed at their own prices on $name', (backend) => {
  let tg: RunningTollgate;
  let openai: OpenAI;
  let anthropic: Anthropic;
  const fakes = { anthropic: new FakeAnthropic('sk-ant-cache-secret'), bedrock: new FakeBedrock(AWS) };

  beforeAll(async () => {
    await Promise.all(Object.values(fakes).map((fake) => fake.start()));
    tg = await startTollgate(await backend.prepare());
    for (const credential of [
      {
        name: 'anthropic',
        provider: 'anthropic',
        fields: { apiKey: 'sk-ant-cache-secret', baseUrl: fakes.anthropic.url },
      },
      { name: 'bedrock', provider: 'bedrock', fields: { ...AWS, baseUrl: fakes.bedrock.url } },
    ]) {
      expect((await tg.admin('POST', '/api/v1/credentials', credential)).status).toBe(201);
    }
    // Only the input and output prices are given: the cache prices are derived from them.
    for (const [name, credential, upstreamModel] of [
      ['sonnet', 'anthropic', 'claude-sonnet-4-5'],
      ['bedrock-sonnet', 'bedrock', 'us.anthropic.claude-sonnet-4-5-20250929-v1:0'],
    ]) {
      const created = await tg.admin('POST', '/api/v1/models', {
        name,
        targets: [{ credential, upstreamModel }],
        inputPrice: 3,
        outputPrice: 15,
      });
      expect(created.body).toMatchObject({ cacheWriteInputPrice: 3.75, cacheWrite1hInputPrice: 6 });
    }
    const key = (await tg.admin('POST', '/api/v1/keys', { name: 'cache-prices' })).body.key;
    openai = new OpenAI({ apiKey: key, baseURL: `${tg.url}/v1`, maxRetries: 0 });
    anthropic = new Anthropic({ apiKey: key, baseURL: tg.url, maxRetries: 0 });
  }, 60_000);

  afterAll(async () => {
    await tg?.close();
    await Promise.all(Object.values(fakes).map((fake) => fake.close()));
  });

  async function lastRecord() {
    return (await tg.admin('GET', '/api/v1/usage?limit=1')).body.records[0];
  }

  // Anthropic reports 1,013 plain input tokens, 307 written for 5 minutes, 149 for 1 hour, 97 out:
  // 1,013 × $3 + 307 × $3.75 + 149 × $6 + 97 × $15 = $6,539.25 per million.
  const anthropicRecord = {
    model: 'sonnet',
    status: 200,
    promptTokens: REPORTED.input + REPORTED.cacheWrite5m + REPORTED.cacheWrite1h,
    cachedTokens: 0,
    cacheWriteTokens: REPORTED.cacheWrite5m + REPORTED.cacheWrite1h,
    cacheWrite1hTokens: REPORTED.cacheWrite1h,
    completionTokens: REPORTED.output,
    usageSource: 'reported',
  };
  const anthropicCost = 0.00653925;

  it('bills an Anthropic answer with cache writes at 1.25× and 2× input (Messages API, passed through)', async () => {
    const message = await anthropic.messages.create({
      model: 'sonnet',
      max_tokens: 200,
      messages: [{ role: 'user', content: CACHE_WRITE }],
    });
    expect(message.usage).toMatchObject({
      input_tokens: REPORTED.input,
      cache_creation_input_tokens: REPORTED.cacheWrite5m + REPORTED.cacheWrite1h,
    });
    const record = await lastRecord();
    expect(record).toMatchObject({ ...anthropicRecord, endpoint: 'messages' });
    expect(record.costUsd).toBeCloseTo(anthropicCost, 12);
    // At the plain input price the same call would have been recorded as $0.005862.
    expect(record.costUsd - (record.promptTokens * 3 + record.completionTokens * 15) / 1e6).toBeCloseTo(
      (REPORTED.cacheWrite5m * 0.75 + REPORTED.cacheWrite1h * 3) / 1e6,
      12,
    );
  });

  it('bills the same writes in a stream', async () => {
    const stream = anthropic.messages.stream({
      model: 'sonnet',
      max_tokens: 200,
      messages: [{ role: 'user', content: CACHE_WRITE }],
    });
    await stream.finalMessage();
    const record = await lastRecord();
    expect(record).toMatchObject({ ...anthropicRecord, streamed: true });
    expect(record.costUsd).toBeCloseTo(anthropicCost, 12);
  });

  it('bills them through the OpenAI door too, and shows the writes in prompt_tokens_details', async () => {
    const { data: answer, response } = await openai.chat.completions
      .create({
        model: 'sonnet',
        max_tokens: 200,
        messages: [{ role: 'user', content: CACHE_WRITE }],
      })
      .withResponse();
    expect(answer.usage?.prompt_tokens).toBe(anthropicRecord.promptTokens);
    expect(Number(response.headers.get('x-tollgate-cache-write-tokens'))).toBe(
      REPORTED.cacheWrite5m + REPORTED.cacheWrite1h,
    );
    expect(Number(response.headers.get('x-tollgate-cost-usd'))).toBeCloseTo(anthropicCost, 8);
    expect(answer.usage?.prompt_tokens_details).toMatchObject({
      cached_tokens: 0,
      cache_write_tokens: REPORTED.cacheWrite5m + REPORTED.cacheWrite1h,
    });
    const record = await lastRecord();
    expect(record).toMatchObject({ ...anthropicRecord, endpoint: 'chat.completions' });
    expect(record.costUsd).toBeCloseTo(anthropicCost, 12);
  });

  it('sums the writes in the usage totals', async () => {
    const page = await tg.admin('GET', '/api/v1/usage?model=sonnet');
    expect(page.body.totals).toMatchObject({
      requests: 3,
      cacheWriteTokens: 3 * (REPORTED.cacheWrite5m + REPORTED.cacheWrite1h),
      countedRequests: 0,
    });
    expect(page.body.totals.costUsd).toBeCloseTo(3 * anthropicCost, 12);
  });

  it('gives a Messages caller served by Bedrock the real cache writes, billed at 1.25× input', async () => {
    // Converse reports 307 writes without a life: 5-minute writes.
    const message = await anthropic.messages.create({
      model: 'bedrock-sonnet',
      max_tokens: 200,
      messages: [{ role: 'user', content: CACHE_WRITE }],
    });
    expect(message.usage).toMatchObject({
      input_tokens: REPORTED.input,
      cache_creation_input_tokens: REPORTED.cacheWrite5m,
      cache_read_input_tokens: 0,
    });
    const record = await lastRecord();
    expect(record).toMatchObject({
      model: 'bedrock-sonnet',
      promptTokens: REPORTED.input + REPORTED.cacheWrite5m,
      cacheWriteTokens: REPORTED.cacheWrite5m,
      cacheWrite1hTokens: 0,
    });
    expect(record.costUsd).toBeCloseTo(
      (REPORTED.input * 3 + REPORTED.cacheWrite5m * 3.75 + REPORTED.output * 15) / 1e6,
      12,
    );
  });
});
