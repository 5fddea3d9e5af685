import Anthropic from '@anthropic-ai/sdk';
import OpenAI from 'openai';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { backends } from './support/backends.ts';
import { FakeAnthropic } from './support/fake-anthropic.ts';
import { FakeAzure } from './support/fake-azure.ts';
import { FakeBedrock } from './support/fake-bedrock.ts';
import { FakeGemini } from './support/fake-gemini.ts';
import { FakeOpenAI } from './support/fake-openai.ts';
import { type RunningTollgate, startTollgate } from './support/tollgate.ts';

const AWS = { accessKeyId: 'AKIAFAKEFAKEFAKE', secretAccessKey: 'fake-aws-secret-key-0123456789', region: 'us-east-1' };
const PRICES = { inputPrice: 3, outputPrice: 15 };
/** Public model name → provider family, for the matrix below. */
const FAMILIES = ['gpt', 'claude', 'gemini', 'nova', 'azure-gpt', 'azure-entra-gpt'] as const;

const weather = {
  type: 'function' as const,
  function: {
    name: 'get_weather',
    description: 'Current weather in a city',
    parameters: { type: 'object', properties: { city: { type: 'string' } }, required: ['city'] },
  },
};

describe('every provider behind both front doors', () => {
  let tg: RunningTollgate;
  let openai: OpenAI;
  let anthropic: Anthropic;
  const fakes = {
    openai: new FakeOpenAI('sk-openai-e2e-secret'),
    anthropic: new FakeAnthropic('sk-ant-e2e-secret'),
    gemini: new FakeGemini('gemini-e2e-secret'),
    bedrock: new FakeBedrock(AWS),
    azure: new FakeAzure({
      apiKey: 'azure-e2e-key',
      tenantId: 'tenant-1',
      clientId: 'client-1',
      clientSecret: 'azure-e2e-client-secret',
    }),
  };

  beforeAll(async () => {
    await Promise.all(Object.values(fakes).map((fake) => fake.start()));
    tg = await startTollgate(await backends()[0]!.prepare());
    const credentials = [
      { name: 'openai', provider: 'openai', fields: { apiKey: 'sk-openai-e2e-secret', baseUrl: fakes.openai.url } },
      {
        name: 'anthropic',
        provider: 'anthropic',
        fields: { apiKey: 'sk-ant-e2e-secret', baseUrl: fakes.anthropic.url },
      },
      { name: 'gemini', provider: 'gemini', fields: { apiKey: 'gemini-e2e-secret', baseUrl: fakes.gemini.url } },
      {
        name: 'bedrock',
        provider: 'bedrock',
        fields: {
          accessKeyId: AWS.accessKeyId,
          secretAccessKey: AWS.secretAccessKey,
          region: AWS.region,
          baseUrl: fakes.bedrock.url,
        },
      },
      {
        name: 'azure-key',
        provider: 'azure',
        authMethod: 'api-key',
        fields: { apiKey: 'azure-e2e-key', endpoint: fakes.azure.endpoint },
      },
      {
        name: 'azure-entra',
        provider: 'azure',
        authMethod: 'entra',
        fields: {
          tenantId: 'tenant-1',
          clientId: 'client-1',
          clientSecret: 'azure-e2e-client-secret',
          endpoint: fakes.azure.endpoint,
          authorityHost: fakes.azure.authorityHost,
        },
      },
    ];
    for (const credential of credentials) {
      const created = await tg.admin('POST', '/api/v1/credentials', credential);
      expect(created.status, JSON.stringify(created.body)).toBe(201);
    }
    const models: Array<[string, string, string]> = [
      ['gpt', 'openai', 'gpt-4o'],
      ['claude', 'anthropic', 'claude-sonnet-4-5'],
      ['gemini', 'gemini', 'gemini-2.5-flash'],
      ['nova', 'bedrock', 'amazon.nova-pro-v1:0'],
      ['claude-tools', 'anthropic', 'tool-call'],
      ['gemini-tools', 'gemini', 'tool-call'],
      ['nova-tools', 'bedrock', 'tool-call'],
      ['azure-gpt', 'azure-key', 'gpt-4o-deployment'],
      ['azure-entra-gpt', 'azure-entra', 'gpt-4o-deployment'],
    ];
    for (const [name, credential, upstreamModel] of models) {
      const created = await tg.admin('POST', '/api/v1/models', {
        name,
        targets: [{ credential, upstreamModel }],
        ...PRICES,
      });
      expect(created.status, JSON.stringify(created.body)).toBe(201);
    }
    const key = (await tg.admin('POST', '/api/v1/keys', { name: 'providers-e2e' })).body.key;
    openai = new OpenAI({ apiKey: key, baseURL: `${tg.url}/v1`, maxRetries: 0 });
    anthropic = new Anthropic({ apiKey: key, baseURL: tg.url, maxRetries: 0 });
  }, 60_000);

  afterAll(async () => {
    await tg?.close();
    await Promise.all(Object.values(fakes).map((fake) => fake.close()));
  });

  async function lastRecord() {
    const usage = await tg.admin('GET', '/api/v1/usage?limit=1');
    return usage.body.records[0];
  }

  for (const model of FAMILIES) {
    it(`OpenAI SDK → ${model}: answer, usage and cost`, async () => {
      const answer = await openai.chat.completions.create({
        model,
        messages: [
          { role: 'system', content: 'Be brief.' },
          { role: 'user', content: 'Say hello to the gateway' },
        ],
        max_tokens: 50,
      });
      expect(answer.choices[0]?.message.content?.length).toBeGreaterThan(0);
      expect(answer.choices[0]?.finish_reason).toMatch(/stop|length/);
      expect(answer.usage?.prompt_tokens).toBeGreaterThan(0);
      const record = await lastRecord();
      expect(record).toMatchObject({ model, status: 200, promptTokens: answer.usage?.prompt_tokens });
      expect(record.costUsd).toBeCloseTo((record.promptTokens * 3 + record.completionTokens * 15) / 1e6, 12);
    });

    it(`OpenAI SDK → ${model}: streams, with usage when asked`, async () => {
      const stream = await openai.chat.completions.create({
        model,
        messages: [{ role: 'user', content: 'Stream a greeting' }],
        stream: true,
        stream_options: { include_usage: true },
      });
      let text = '';
      let usage: OpenAI.CompletionUsage | undefined;
      for await (const chunk of stream) {
        text += chunk.choices[0]?.delta?.content ?? '';
        if (chunk.usage) usage = chunk.usage;
      }
      expect(text.length).toBeGreaterThan(0);
      expect(usage?.completion_tokens).toBeGreaterThan(0);
      const record = await lastRecord();
      expect(record).toMatchObject({ model, streamed: true, completionTokens: usage?.completion_tokens });
    });

    it(`Anthropic SDK → ${model}: answer and stream`, async () => {
      const message = await anthropic.messages.create({
        model,
        max_tokens: 64,
        system: 'Be brief.',
        messages: [{ role: 'user', content: 'Say hello to the gateway' }],
      });
      expect(message.type).toBe('message');
      expect(message.content[0]?.type).toBe('text');
      expect(message.usage.input_tokens).toBeGreaterThan(0);
      const streamed = await anthropic.messages.stream({
        model,
        max_tokens: 64,
        messages: [{ role: 'user', content: 'Stream a greeting' }],
      });
      let text = '';
      streamed.on('text', (delta) => {
        text += delta;
      });
      const final = await streamed.finalMessage();
      expect(text.length).toBeGreaterThan(0);
      expect(final.usage.output_tokens).toBeGreaterThan(0);
      const record = await lastRecord();
      expect(record).toMatchObject({ model, endpoint: 'messages', streamed: true, status: 200 });
    });
  }

  for (const model of ['claude-tools', 'gemini-tools', 'nova-tools']) {
    it(`OpenAI SDK tool call round trip through ${model}`, async () => {
      const messages: OpenAI.ChatCompletionMessageParam[] = [{ role: 'user', content: 'Weather in Paris?' }];
      const first = await openai.chat.completions.create({ model, messages, tools: [weather] });
      const call = first.choices[0]?.message.tool_calls?.[0];
      expect(first.choices[0]?.finish_reason).toBe('tool_calls');
      expect(call?.type === 'function' && call.function.name).toBe('get_weather');
      messages.push(first.choices[0]!.message as OpenAI.ChatCompletionMessageParam, {
        role: 'tool',
        tool_call_id: call!.id,
        content: '{"temperature": 21}',
      });
      const second = await openai.chat.completions.create({ model, messages, tools: [weather] });
      expect(second.choices[0]?.message.content?.length).toBeGreaterThan(0);
    });
  }

  it('Anthropic SDK tool call round trip through Gemini', async () => {
    const tools: Anthropic.Tool[] = [
      {
        name: 'get_weather',
        description: 'Current weather',
        input_schema: { type: 'object', properties: { city: { type: 'string' } } },
      },
    ];
    const messages: Anthropic.MessageParam[] = [{ role: 'user', content: 'Weather in Paris?' }];
    const first = await anthropic.messages.create({ model: 'gemini-tools', max_tokens: 100, tools, messages });
    expect(first.stop_reason).toBe('tool_use');
    const use = first.content.find((block) => block.type === 'tool_use');
    expect(use?.type === 'tool_use' && use.name).toBe('get_weather');
    messages.push({ role: 'assistant', content: first.content });
    messages.push({
      role: 'user',
      content: [{ type: 'tool_result', tool_use_id: (use as Anthropic.ToolUseBlock).id, content: '21 C' }],
    });
    const second = await anthropic.messages.create({ model: 'gemini-tools', max_tokens: 100, tools, messages });
    expect(second.content.some((block) => block.type === 'text')).toBe(true);
  });

  it('lists models in the shape each SDK expects', async () => {
    const fromOpenAI = await openai.models.list();
    expect(fromOpenAI.data.map((model) => model.id)).toContain('claude');
    const fromAnthropic = await anthropic.models.list();
    expect(fromAnthropic.data.map((model) => model.id)).toContain('gpt');
    expect(fromAnthropic.data[0]).toMatchObject({ type: 'model', display_name: expect.any(String) });
    const one = await anthropic.models.retrieve('gemini');
    expect(one).toMatchObject({ id: 'gemini', type: 'model' });
  });

  it('answers Anthropic callers in their dialect, and never leaks a provider secret', async () => {
    await expect(
      anthropic.messages.create({ model: 'nope', max_tokens: 10, messages: [{ role: 'user', content: 'x' }] }),
    ).rejects.toMatchObject({
      status: 404,
      error: { type: 'error', error: { type: 'not_found_error' } },
    });
    const bad = new Anthropic({ apiKey: 'tg_not-a-key', baseURL: tg.url, maxRetries: 0 });
    await expect(
      bad.messages.create({ model: 'claude', max_tokens: 10, messages: [{ role: 'user', content: 'x' }] }),
    ).rejects.toMatchObject({
      status: 401,
    });
    const logs = tg.logs.join('');
    for (const secret of [
      'sk-openai-e2e-secret',
      'sk-ant-e2e-secret',
      'gemini-e2e-secret',
      AWS.secretAccessKey,
      'azure-e2e-key',
      'azure-e2e-client-secret',
    ]) {
      expect(logs).not.toContain(secret);
    }
    expect(fakes.bedrock.received.every((request) => request.signatureValid)).toBe(true);
  });
});
