import { createOpenAI } from '@ai-sdk/openai';
import { generateText, jsonSchema, stepCountIs, streamText, tool } from 'ai';
import OpenAI from 'openai';
import type { FunctionTool, ResponseInputItem } from 'openai/resources/responses/responses';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { backends } from './support/backends.ts';
import { FakeAnthropic } from './support/fake-anthropic.ts';
import { FakeGemini } from './support/fake-gemini.ts';
import { FakeOpenAI } from './support/fake-openai.ts';
import { RESPONSES_USAGE } from './support/fake-openai-responses.ts';
import { type RunningTollgate, startTollgate } from './support/tollgate.ts';

const PRICES = { inputPrice: 3, cachedInputPrice: 1.5, outputPrice: 15 };
/** A one-pixel PNG. */
const PIXEL =
  'data:image/png;base64,iVBORw0KGgoAAAANSUhEUgAAAAEAAAABCAYAAAAfFcSJAAAADUlEQVR42mP8z8BQDwAEhQGAhKmMIQAAAABJRU5ErkJggg==';

const weather: FunctionTool = {
  type: 'function',
  name: 'get_weather',
  description: 'Current weather in a city',
  parameters: {
    type: 'object',
    properties: { city: { type: 'string' } },
    required: ['city'],
    additionalProperties: false,
  },
  strict: true,
};

/** Public model name → the fake that serves it. */
const TRANSLATED = ['claude', 'gemini'] as const;

describe('POST /v1/responses (OpenAI Responses API)', () => {
  let tg: RunningTollgate;
  let client: OpenAI;
  const fakes = {
    openai: new FakeOpenAI('sk-openai-responses-secret'),
    anthropic: new FakeAnthropic('sk-ant-responses-secret'),
    gemini: new FakeGemini('gemini-responses-secret'),
  };

  beforeAll(async () => {
    await Promise.all(Object.values(fakes).map((fake) => fake.start()));
    tg = await startTollgate(await backends()[0]!.prepare());
    const credentials = [
      {
        name: 'openai',
        provider: 'openai',
        fields: { apiKey: 'sk-openai-responses-secret', baseUrl: fakes.openai.url },
      },
      {
        name: 'anthropic',
        provider: 'anthropic',
        fields: { apiKey: 'sk-ant-responses-secret', baseUrl: fakes.anthropic.url },
      },
      { name: 'gemini', provider: 'gemini', fields: { apiKey: 'gemini-responses-secret', baseUrl: fakes.gemini.url } },
    ];
    for (const credential of credentials) {
      const created = await tg.admin('POST', '/api/v1/credentials', credential);
      expect(created.status, JSON.stringify(created.body)).toBe(201);
    }
    const models: Array<[string, string, string]> = [
      ['gpt', 'openai', 'gpt-4.1'],
      ['gpt-tools', 'openai', 'tool-call'],
      ['gpt-broken', 'openai', 'stream-error'],
      ['gpt-silent', 'openai', 'no-usage'],
      ['claude', 'anthropic', 'claude-sonnet-4-5'],
      ['claude-tools', 'anthropic', 'tool-call'],
      ['gemini', 'gemini', 'gemini-2.5-flash'],
      ['gemini-tools', 'gemini', 'tool-call'],
    ];
    for (const [name, credential, upstreamModel] of models) {
      const created = await tg.admin('POST', '/api/v1/models', {
        name,
        targets: [{ credential, upstreamModel }],
        ...PRICES,
      });
      expect(created.status, JSON.stringify(created.body)).toBe(201);
    }
    const key = (await tg.admin('POST', '/api/v1/keys', { name: 'responses-e2e' })).body.key;
    client = new OpenAI({ apiKey: key, baseURL: `${tg.url}/v1`, maxRetries: 0 });
  }, 60_000);

  afterAll(async () => {
    await tg?.close();
    await Promise.all(Object.values(fakes).map((fake) => fake.close()));
  });

  async function lastRecord() {
    const usage = await tg.admin('GET', '/api/v1/usage?limit=1');
    return usage.body.records[0];
  }

  async function newKey(fields: Record<string, unknown>): Promise<OpenAI> {
    const created = await tg.admin('POST', '/api/v1/keys', { name: `responses-${Math.random()}`, ...fields });
    expect(created.status, JSON.stringify(created.body)).toBe(201);
    return new OpenAI({ apiKey: created.body.key, baseURL: `${tg.url}/v1`, maxRetries: 0 });
  }

  describe('an OpenAI target: the body and the answer pass through untouched', () => {
    it('answers responses.create, and meters what OpenAI reported', async () => {
      const response = await client.responses.create({
        model: 'gpt',
        instructions: 'Be brief.',
        input: 'Is the gateway up?',
        max_output_tokens: 200,
        metadata: { team: 'search' },
      });
      expect(response.output_text).toBe('The gateway is up and answering. Every request is metered.');
      expect(response.model).toBe('gpt-4.1');
      const sent = fakes.openai.received.at(-1);
      expect(sent?.path).toBe('/v1/responses');
      expect(sent?.body).toEqual({
        model: 'gpt-4.1',
        instructions: 'Be brief.',
        input: 'Is the gateway up?',
        max_output_tokens: 200,
        metadata: { team: 'search' },
      });
      const record = await lastRecord();
      expect(record).toMatchObject({
        endpoint: 'responses',
        model: 'gpt',
        provider: 'openai',
        status: 200,
        streamed: false,
        promptTokens: RESPONSES_USAGE.input,
        cachedTokens: RESPONSES_USAGE.cached,
        completionTokens: RESPONSES_USAGE.output,
        reasoningTokens: RESPONSES_USAGE.reasoning,
        usageSource: 'reported',
      });
      const { input, cached, output } = RESPONSES_USAGE;
      expect(record.costUsd).toBeCloseTo(((input - cached) * 3 + cached * 1.5 + output * 15) / 1e6, 12);
    });

    it('streams responses.stream event by event, and meters response.completed', async () => {
      const stream = client.responses.stream({ model: 'gpt', input: 'Is the gateway up?' });
      const types: string[] = [];
      stream.on('event', (event) => types.push(event.type));
      const final = await stream.finalResponse();
      expect(final.output_text).toBe('The gateway is up and answering. Every request is metered.');
      expect(types[0]).toBe('response.created');
      expect(types.at(-1)).toBe('response.completed');
      expect(types.filter((type) => type === 'response.output_text.delta')).toHaveLength(5);
      expect(await lastRecord()).toMatchObject({
        endpoint: 'responses',
        streamed: true,
        status: 200,
        promptTokens: RESPONSES_USAGE.input,
        completionTokens: RESPONSES_USAGE.output,
      });
    });

    it('passes previous_response_id, store and images through to OpenAI', async () => {
      await client.responses.create({
        model: 'gpt',
        previous_response_id: 'resp_earlier',
        store: true,
        input: [{ role: 'user', content: [{ type: 'input_image', image_url: PIXEL, detail: 'auto' }] }],
      });
      expect(fakes.openai.received.at(-1)?.body).toMatchObject({
        model: 'gpt-4.1',
        previous_response_id: 'resp_earlier',
        store: true,
        input: [{ role: 'user', content: [{ type: 'input_image', image_url: PIXEL, detail: 'auto' }] }],
      });
    });

    it('gives the function_call of a native tool call', async () => {
      const response = await client.responses.create({
        model: 'gpt-tools',
        input: 'Weather in Paris?',
        tools: [weather],
      });
      expect(response.output[0]).toMatchObject({
        type: 'function_call',
        name: 'get_weather',
        arguments: '{"city":"Paris"}',
      });
    });

    it('records a provider error mid-stream as an error, with the error event passed to the caller', async () => {
      const stream = client.responses.stream({ model: 'gpt-broken', input: 'Is the gateway up?' });
      await expect(stream.finalResponse()).rejects.toThrow(/invalid content/);
      expect(await lastRecord()).toMatchObject({
        endpoint: 'responses',
        status: 502,
        errorCode: 'TG_ERR_PROVIDER_ERROR',
        streamed: true,
      });
    });

    it('counts the tokens when OpenAI reports none', async () => {
      const response = await client.responses.create({ model: 'gpt-silent', input: 'Is the gateway up?' });
      expect(response.usage).toBeNull();
      const record = await lastRecord();
      expect(record).toMatchObject({ status: 200, usageSource: 'counted' });
      expect(record.promptTokens).toBeGreaterThan(0);
      expect(record.completionTokens).toBeGreaterThan(5);
    });
  });

  for (const model of TRANSLATED) {
    describe(`a ${model} target: translated`, () => {
      it('answers responses.create with a message, the requested model name and usage', async () => {
        const response = await client.responses.create({
          model,
          instructions: 'Be brief.',
          input: 'Say hello to the gateway',
          max_output_tokens: 64,
        });
        expect(response.object).toBe('response');
        expect(response.id).toMatch(/^resp_/);
        expect(response.model).toBe(model);
        expect(response.status).toMatch(/completed|incomplete/);
        expect(response.output_text.length).toBeGreaterThan(0);
        expect(response.usage?.input_tokens).toBeGreaterThan(0);
        const record = await lastRecord();
        expect(record).toMatchObject({
          endpoint: 'responses',
          model,
          provider: model === 'claude' ? 'anthropic' : 'gemini',
          status: 200,
          promptTokens: response.usage?.input_tokens,
          completionTokens: response.usage?.output_tokens,
          usageSource: 'reported',
        });
      });

      it('streams responses.stream with typed events and usage in response.completed', async () => {
        const stream = client.responses.stream({ model, input: 'Stream a greeting', max_output_tokens: 64 });
        let text = '';
        stream.on('response.output_text.delta', (event) => {
          text += event.delta;
        });
        const types: string[] = [];
        stream.on('event', (event) => types.push(event.type));
        const final = await stream.finalResponse();
        expect(text.length).toBeGreaterThan(0);
        expect(final.output_text).toBe(text);
        expect(types.slice(0, 4)).toEqual([
          'response.created',
          'response.in_progress',
          'response.output_item.added',
          'response.content_part.added',
        ]);
        expect(types.at(-1)).toMatch(/^response\.(completed|incomplete)$/);
        expect(final.usage?.output_tokens).toBeGreaterThan(0);
        expect(await lastRecord()).toMatchObject({
          endpoint: 'responses',
          streamed: true,
          status: 200,
          completionTokens: final.usage?.output_tokens,
        });
      });

      it('takes an image input', async () => {
        const response = await client.responses.create({
          model,
          input: [
            {
              role: 'user',
              content: [
                { type: 'input_text', text: 'What is in this picture?' },
                { type: 'input_image', image_url: PIXEL, detail: 'auto' },
              ],
            },
          ],
        });
        expect(response.output_text.length).toBeGreaterThan(0);
        if (model === 'claude') {
          const content = fakes.anthropic.received.at(-1)?.body.messages as Array<{ content: unknown }>;
          expect(content[0]?.content).toContainEqual({
            type: 'image',
            source: { type: 'base64', media_type: 'image/png', data: PIXEL.split(',')[1] },
          });
        } else {
          const contents = fakes.gemini.received.at(-1)?.body.contents as Array<{ parts: unknown[] }>;
          expect(contents[0]?.parts).toContainEqual({
            inlineData: { mimeType: 'image/png', data: PIXEL.split(',')[1] },
          });
        }
      });

      it('refuses previous_response_id with a clear 400: nothing is stored to continue', async () => {
        const error = await client.responses
          .create({ model, previous_response_id: 'resp_earlier', input: 'And then?' })
          .catch((thrown) => thrown);
        expect(error).toBeInstanceOf(OpenAI.BadRequestError);
        expect(error.status).toBe(400);
        expect(error.code).toBe('unsupported_by_provider');
        expect(error.message).toMatch(/"previous_response_id" needs state that OpenAI keeps/);
      });
    });
  }

  for (const model of ['claude-tools', 'gemini-tools'] as const) {
    it(`runs a function call round trip through ${model}`, async () => {
      const input: ResponseInputItem[] = [{ role: 'user', content: 'Weather in Paris?' }];
      const first = await client.responses.create({ model, input, tools: [weather] });
      const call = first.output.find((item) => item.type === 'function_call');
      expect(call).toMatchObject({ type: 'function_call', name: 'get_weather', status: 'completed' });
      if (call?.type !== 'function_call') throw new Error('no function call');
      expect(JSON.parse(call.arguments)).toBeTypeOf('object');
      input.push(call, { type: 'function_call_output', call_id: call.call_id, output: '{"temperature": 21}' });
      const second = await client.responses.create({ model, input, tools: [weather] });
      expect(second.output_text.length).toBeGreaterThan(0);
      if (model === 'claude-tools') {
        const messages = fakes.anthropic.received.at(-1)?.body.messages as Array<{ role: string; content: any[] }>;
        expect(messages[1]?.content).toContainEqual(
          expect.objectContaining({ type: 'tool_use', id: call.call_id, name: 'get_weather' }),
        );
        expect(messages[2]?.content).toContainEqual(
          expect.objectContaining({ type: 'tool_result', tool_use_id: call.call_id }),
        );
      }
    });

    it(`streams a function call through ${model}`, async () => {
      const stream = client.responses.stream({ model, input: 'Weather in Paris?', tools: [weather] });
      let args = '';
      stream.on('response.function_call_arguments.delta', (event) => {
        args += event.delta;
      });
      const final = await stream.finalResponse();
      const call = final.output.find((item) => item.type === 'function_call');
      expect(call).toMatchObject({ type: 'function_call', name: 'get_weather', status: 'completed', arguments: args });
    });
  }

  it('serves a Codex-shaped request (Codex 0.169: namespaces, a custom tool, hosted tools) through Claude', async () => {
    const body = {
      model: 'claude-tools',
      instructions: 'You are Codex, a coding agent.',
      input: [
        {
          type: 'message',
          role: 'developer',
          content: [{ type: 'input_text', text: '<permissions>read-only</permissions>' }],
        },
        { type: 'message', role: 'user', content: [{ type: 'input_text', text: 'List the files' }] },
      ],
      tools: [
        {
          type: 'function',
          name: 'exec_command',
          description: 'Runs a command',
          strict: false,
          parameters: { type: 'object', properties: { cmd: { type: 'string' } }, required: ['cmd'] },
        },
        {
          type: 'namespace',
          name: 'multi_agent_v1',
          description: 'Sub-agents',
          tools: [{ type: 'function', name: 'spawn_agent', parameters: { type: 'object', properties: {} } }],
        },
        {
          type: 'custom',
          name: 'apply_patch',
          description: 'Edit files.',
          format: { type: 'grammar', syntax: 'lark', definition: 'start: "*** Begin Patch"' },
        },
        { type: 'tool_search', execution: 'client', parameters: { type: 'object', properties: {} } },
        { type: 'web_search', external_web_access: false },
      ],
      tool_choice: 'auto',
      parallel_tool_calls: true,
      reasoning: { effort: 'medium' },
      store: false,
      stream: true,
      include: ['reasoning.encrypted_content'],
      prompt_cache_key: 'session-1',
      text: { verbosity: 'low' },
      client_metadata: { session_id: 'session-1' },
    };
    const answer = await fetch(`${tg.url}/v1/responses`, {
      method: 'POST',
      headers: { authorization: `Bearer ${client.apiKey}`, 'content-type': 'application/json' },
      body: JSON.stringify(body),
    });
    expect(answer.status).toBe(200);
    const events = (await answer.text())
      .split('\n\n')
      .filter(Boolean)
      .map((event) => JSON.parse(event.split('\n')[1]!.slice('data: '.length)));
    expect(events.at(-1)).toMatchObject({ type: 'response.completed', response: { status: 'completed' } });
    expect(events.at(-1).response.output).toContainEqual(
      expect.objectContaining({ type: 'function_call', name: 'exec_command', status: 'completed' }),
    );
    const sent = fakes.anthropic.received.at(-1)?.body as Record<string, any>;
    expect(sent.system).toMatch(/^You are Codex/);
    expect(sent.tools.map((tool: { name: string }) => tool.name)).toEqual([
      'exec_command',
      'spawn_agent',
      'apply_patch',
    ]);
  });

  it('sends instructions as the system prompt and max_output_tokens as the output cap', async () => {
    await client.responses.create({
      model: 'claude',
      instructions: 'Answer in French.',
      input: 'Hi',
      max_output_tokens: 33,
    });
    expect(fakes.anthropic.received.at(-1)?.body).toMatchObject({ system: 'Answer in French.', max_tokens: 33 });
  });

  it('applies IAM rules, answering in the OpenAI dialect', async () => {
    const limited = await newKey({ rules: { denyProviders: ['anthropic'] } });
    const error = await limited.responses.create({ model: 'claude', input: 'Hi' }).catch((thrown) => thrown);
    expect(error).toBeInstanceOf(OpenAI.PermissionDeniedError);
    expect(error.message).toMatch(/Access denied: Provider anthropic is denied/);
    expect(error.code).toBe('provider_not_allowed');
  });

  it('caps the output to what the budget can pay, then refuses with a 402 in the OpenAI dialect', async () => {
    const budget = await newKey({ spendLimit: { allTimeUsd: 0.004 } });
    const capped = await budget.responses.create({ model: 'gpt', input: 'Is the gateway up?' }).withResponse();
    const granted = Number(capped.response.headers.get('x-tollgate-max-tokens'));
    expect(granted).toBeGreaterThan(0);
    expect(fakes.openai.received.at(-1)?.body.max_output_tokens).toBe(granted);
    let refused: any;
    for (let attempt = 0; attempt < 5 && !refused; attempt++) {
      refused = await budget.responses.create({ model: 'gpt', input: 'Is the gateway up?' }).then(
        () => undefined,
        (thrown) => thrown,
      );
    }
    expect(refused?.status).toBe(402);
    expect(refused.code).toBe('spend_limit_reached');
    expect(refused.error).toMatchObject({ type: 'insufficient_quota' });
  });

  describe('the Vercel AI SDK (its default OpenAI model speaks the Responses API)', () => {
    let provider: ReturnType<typeof createOpenAI>;
    beforeAll(async () => {
      const key = (await tg.admin('POST', '/api/v1/keys', { name: 'ai-sdk' })).body.key;
      provider = createOpenAI({ baseURL: `${tg.url}/v1`, apiKey: key });
    });

    for (const model of ['gpt', 'claude', 'gemini']) {
      it(`generateText and streamText through ${model}`, async () => {
        const answer = await generateText({ model: provider(model), prompt: 'Say hello', maxOutputTokens: 64 });
        expect(answer.text.length).toBeGreaterThan(0);
        expect(answer.usage.inputTokens).toBeGreaterThan(0);
        expect(fakes.openai.received.length + fakes.anthropic.received.length).toBeGreaterThan(0);
        expect(await lastRecord()).toMatchObject({ endpoint: 'responses', model, status: 200 });

        const streamed = streamText({ model: provider(model), prompt: 'Stream a greeting', maxOutputTokens: 64 });
        let text = '';
        for await (const delta of streamed.textStream) text += delta;
        expect(text.length).toBeGreaterThan(0);
        expect((await streamed.usage).outputTokens).toBeGreaterThan(0);
        expect(await lastRecord()).toMatchObject({ endpoint: 'responses', model, status: 200, streamed: true });
      });
    }

    const getWeather = tool({
      description: 'Current weather in a city',
      inputSchema: jsonSchema<{ city?: string; location?: string }>({
        type: 'object',
        properties: { city: { type: 'string' }, location: { type: 'string' } },
      }),
      execute: async () => ({ temperature: 21 }),
    });

    it('refuses, with the fix in the message, the item references the SDK sends by default after a tool call', async () => {
      const error = await generateText({
        model: provider('claude-tools'),
        prompt: 'Weather in Paris?',
        tools: { get_weather: getWeather },
        stopWhen: stepCountIs(3),
      }).catch((thrown) => thrown);
      expect(error.statusCode).toBe(400);
      expect(error.message).toMatch(/"item_reference" items .* providerOptions\.openai\.store = false/);
    });

    it('runs a tool loop through a translated model when the SDK sends whole items (store: false)', async () => {
      const answer = await generateText({
        model: provider('claude-tools'),
        prompt: 'Weather in Paris?',
        tools: { get_weather: getWeather },
        stopWhen: stepCountIs(3),
        providerOptions: { openai: { store: false } },
      });
      expect(answer.steps[0]?.toolCalls[0]?.toolName).toBe('get_weather');
      expect(answer.text.length).toBeGreaterThan(0);
    });
  });
});
