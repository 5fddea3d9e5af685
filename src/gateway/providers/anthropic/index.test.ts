import Anthropic from '@anthropic-ai/sdk';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { FAKE_CACHED_TOKENS, FakeAnthropic } from '../../../../test/support/fake-anthropic.ts';
import type { ChatRequest, OpenAIObject } from '../adapter.ts';
import type { ResolvedCredential } from '../types.ts';
import { anthropicAdapter } from './index.ts';

const fake = new FakeAnthropic('sk-ant-fake');
let credential: ResolvedCredential;

beforeAll(async () => {
  await fake.start();
  credential = {
    id: 'c1',
    name: 'anthropic-fake',
    provider: 'anthropic',
    authMethod: 'api-key',
    secrets: { apiKey: 'sk-ant-fake' },
    settings: { baseUrl: fake.url },
  };
});
afterAll(() => fake.close());

async function send(body: ChatRequest, stream = false, key = credential) {
  const call = await anthropicAdapter.chatRequest(body, key, stream);
  return fetch(call.url, { method: 'POST', headers: call.headers, body: String(call.body) });
}

async function complete(body: ChatRequest) {
  const response = await send(body);
  const payload = new Uint8Array(await response.arrayBuffer());
  expect(response.status).toBe(200);
  return anthropicAdapter.chatResponse(payload, body.model);
}

const WEATHER_TOOL = {
  type: 'function',
  function: {
    name: 'get_weather',
    parameters: { type: 'object', properties: { location: { type: 'string' } }, required: ['location'] },
  },
};

describe('the Anthropic adapter against the fake Anthropic API', () => {
  it('answers a chat request with text and usage counted from the prompt', async () => {
    const { body, usage } = await complete({
      model: 'claude-fake',
      messages: [
        { role: 'system', content: 'Be brief.' },
        { role: 'user', content: 'Say hello to me' },
      ],
    });
    expect((body.choices as Array<{ message: { content: string } }>)[0]?.message.content).toBe(
      'Hi! My name is Claude.',
    );
    expect(usage).toEqual({ promptTokens: 6, completionTokens: 503, cachedTokens: 0 });
    expect(fake.received.at(-1)?.headers['anthropic-version']).toBe('2023-06-01');
  });

  it('reports cached tokens and caps output at max_tokens with finish_reason length', async () => {
    const { body, usage } = await complete({
      model: 'cached',
      max_tokens: 50,
      messages: [{ role: 'user', content: 'a b' }],
    });
    expect(usage).toEqual({
      promptTokens: 2 + FAKE_CACHED_TOKENS,
      completionTokens: 50,
      cachedTokens: FAKE_CACHED_TOKENS,
    });
    expect((body.choices as Array<{ finish_reason: string }>)[0]?.finish_reason).toBe('length');
  });

  it('streams, emitting text chunks before the stream ends', async () => {
    fake.chunkDelayMs = 20;
    try {
      const response = await send({ model: 'claude-fake', messages: [{ role: 'user', content: 'Hello' }] }, true);
      expect(response.headers.get('content-type')).toContain('text/event-stream');
      const decoder = anthropicAdapter.chatStream('claude-fake');
      const seen: Array<{ read: number; chunk: OpenAIObject }> = [];
      let reads = 0;
      for await (const bytes of response.body as AsyncIterable<Uint8Array>) {
        reads++;
        for (const chunk of decoder.push(bytes)) seen.push({ read: reads, chunk });
      }
      for (const chunk of decoder.end()) seen.push({ read: reads + 1, chunk });
      const firstText = seen.find(({ chunk }) =>
        (chunk.choices as Array<{ delta: { content?: string } }>)[0]?.delta.content?.startsWith('Hello'),
      );
      expect(firstText?.read).toBeLessThan(reads);
      expect(seen.at(-1)?.chunk.usage).toMatchObject({ prompt_tokens: 1, completion_tokens: 15 });
      expect(decoder.usage).toEqual({ promptTokens: 1, completionTokens: 15, cachedTokens: 0 });
    } finally {
      fake.chunkDelayMs = 0;
    }
  });

  it('round-trips a tool call: tool_calls out, tool results back in, text at the end', async () => {
    const question = { role: 'user', content: 'Weather in San Francisco?' };
    const first = await complete({ model: 'tool-call', messages: [question], tools: [WEATHER_TOOL] });
    const message = (first.body.choices as Array<{ message: Record<string, unknown> }>)[0]?.message;
    const calls = message?.tool_calls as Array<{ id: string; function: { name: string; arguments: string } }>;
    expect(calls[0]?.function.name).toBe('get_weather');
    expect(JSON.parse(calls[0]?.function.arguments ?? '')).toMatchObject({ location: 'San Francisco, CA' });

    const second = await complete({
      model: 'tool-call',
      tools: [WEATHER_TOOL],
      messages: [question, message as never, { role: 'tool', tool_call_id: calls[0]?.id, content: '15 degrees' }],
    });
    expect((second.body.choices as Array<{ finish_reason: string }>)[0]?.finish_reason).toBe('stop');
    // The fake checked that the tool_result answered the tool_use of the turn before.
    expect(fake.received.at(-1)?.body.messages).toHaveLength(3);
  });

  it('streams a tool call', async () => {
    const response = await send(
      { model: 'tool-call', messages: [{ role: 'user', content: 'Weather?' }], tools: [WEATHER_TOOL] },
      true,
    );
    const decoder = anthropicAdapter.chatStream('tool-call');
    const chunks = [...decoder.push(new Uint8Array(await response.arrayBuffer())), ...decoder.end()];
    const args = chunks
      .flatMap((chunk) => (chunk.choices as Array<{ delta: { tool_calls?: unknown[] } }>)[0]?.delta.tool_calls ?? [])
      .map((call) => (call as { function: { arguments: string } }).function.arguments)
      .join('');
    expect(JSON.parse(args)).toEqual({ location: 'San Francisco, CA', unit: 'fahrenheit' });
  });

  it("passes on Anthropic's errors: bad key, invalid request, overload, mid-stream failure", async () => {
    const unauthorized = await send({ model: 'm', messages: [{ role: 'user', content: 'x' }] }, false, {
      ...credential,
      secrets: { apiKey: 'wrong' },
    });
    expect(unauthorized.status).toBe(401);
    expect(anthropicAdapter.errorMessage(new Uint8Array(await unauthorized.arrayBuffer()))).toBe('invalid x-api-key');

    const invalid = await fetch(`${fake.url}/v1/messages`, {
      method: 'POST',
      headers: { 'x-api-key': 'sk-ant-fake', 'anthropic-version': '2023-06-01', 'content-type': 'application/json' },
      body: JSON.stringify({ model: 'm', messages: [{ role: 'user', content: 'x' }] }),
    });
    expect(invalid.status).toBe(400);
    expect(await invalid.json()).toEqual({
      type: 'error',
      error: { type: 'invalid_request_error', message: 'max_tokens: Field required' },
    });

    const overloaded = await send({ model: 'fail-529', messages: [{ role: 'user', content: 'x' }] });
    expect(overloaded.status).toBe(529);
    expect(anthropicAdapter.errorMessage(new Uint8Array(await overloaded.arrayBuffer()))).toBe('Overloaded');

    const broken = await send({ model: 'stream-error', messages: [{ role: 'user', content: 'x' }] }, true);
    expect(broken.status).toBe(200);
    const decoder = anthropicAdapter.chatStream('stream-error');
    const bytes = new Uint8Array(await broken.arrayBuffer());
    expect(() => [...decoder.push(bytes), ...decoder.end()]).toThrow('Overloaded');
  });
});

describe('the fake Anthropic API, as the official SDK sees it', () => {
  const client = () => new Anthropic({ apiKey: 'sk-ant-fake', baseURL: fake.url, maxRetries: 0 });

  it('answers messages.create and messages.stream', async () => {
    const message = await client().messages.create({
      model: 'claude-fake',
      max_tokens: 100,
      messages: [{ role: 'user', content: 'Hello there' }],
    });
    expect(message.content).toEqual([{ type: 'text', text: 'Hi! My name is Claude.' }]);
    expect(message.usage.input_tokens).toBe(2);

    const final = await client()
      .messages.stream({
        model: 'tool-call',
        max_tokens: 100,
        messages: [{ role: 'user', content: 'Weather?' }],
        tools: [{ name: 'lookup', input_schema: { type: 'object', properties: {} } }],
      })
      .finalMessage();
    expect(final.stop_reason).toBe('tool_use');
    expect(final.content.at(-1)).toMatchObject({
      type: 'tool_use',
      name: 'lookup',
      input: { location: 'San Francisco, CA' },
    });
    expect(final.usage).toMatchObject({ input_tokens: 1, output_tokens: 89 });
  });

  it('raises the SDK errors for 401 and for an invalid request', async () => {
    const wrong = new Anthropic({ apiKey: 'nope', baseURL: fake.url, maxRetries: 0 });
    await expect(
      wrong.messages.create({ model: 'm', max_tokens: 5, messages: [{ role: 'user', content: 'x' }] }),
    ).rejects.toBeInstanceOf(Anthropic.AuthenticationError);
    await expect(
      client().messages.create({
        model: 'm',
        max_tokens: 5,
        messages: [
          { role: 'user', content: 'x' },
          { role: 'user', content: 'y' },
        ],
      }),
    ).rejects.toBeInstanceOf(Anthropic.BadRequestError);
  });
});
