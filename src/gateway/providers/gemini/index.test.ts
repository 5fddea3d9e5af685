import { request } from 'undici';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { FakeGemini } from '../../../../test/support/fake-gemini.ts';
import type { ChatRequest, HttpCall, OpenAIObject } from '../adapter.ts';
import type { ResolvedCredential } from '../types.ts';
import { geminiAdapter } from './index.ts';

/** The adapter against the fake Gemini server, which checks requests as the real API does. */
const fake = new FakeGemini('AIza-fake');
let credential: ResolvedCredential;

beforeAll(async () => {
  await fake.start();
  credential = {
    id: 'c1',
    name: 'gemini-test',
    provider: 'gemini',
    authMethod: 'api-key',
    secrets: { apiKey: 'AIza-fake' },
    settings: { baseUrl: fake.url },
  };
});
afterAll(() => fake.close());

async function send(call: HttpCall) {
  const response = await request(call.url, { method: 'POST', headers: call.headers, body: call.body });
  return { status: response.statusCode, body: response.body };
}

async function complete(body: ChatRequest) {
  const { status, body: payload } = await send(await geminiAdapter.chatRequest(body, credential, false));
  const bytes = new Uint8Array(await payload.arrayBuffer());
  if (status !== 200) throw new Error(`${status}: ${geminiAdapter.errorMessage(bytes)}`);
  return geminiAdapter.chatResponse(bytes, body.model);
}

describe('geminiAdapter against the fake Gemini API', () => {
  it('completes a chat with a system prompt; the fake counts the prompt words', async () => {
    const { body, usage } = await complete({
      model: 'gemini-2.5-flash',
      messages: [
        { role: 'system', content: 'You are terse.' },
        { role: 'user', content: 'Say hello to me' },
      ],
      max_tokens: 20,
    });
    expect((body.choices as any[])[0].message.content).toBe('Hello there! How can I help you today?');
    expect(usage).toEqual({ promptTokens: 7, completionTokens: 35, cachedTokens: 0, reasoningTokens: 27 });
    const received = fake.received.at(-1);
    expect(received?.path).toBe('/v1beta/models/gemini-2.5-flash:generateContent');
    expect(received?.headers['x-goog-api-key']).toBe('AIza-fake');
  });

  it('streams chunk by chunk: text arrives before the upstream stream has ended', async () => {
    fake.chunkDelayMs = 60;
    try {
      const call = await geminiAdapter.chatRequest(
        { model: 'gemini-2.5-flash', messages: [{ role: 'user', content: 'What is AI?' }] },
        credential,
        true,
      );
      const { status, body } = await send(call);
      expect(status).toBe(200);
      const decoder = geminiAdapter.chatStream('gemini-2.5-flash');
      const seen: Array<{ at: number; chunk: OpenAIObject }> = [];
      const started = performance.now();
      for await (const bytes of body) {
        for (const chunk of decoder.push(bytes as Buffer)) seen.push({ at: performance.now() - started, chunk });
      }
      const endedAt = performance.now() - started;
      for (const chunk of decoder.end()) seen.push({ at: endedAt, chunk });
      const firstText = seen.find(({ chunk }) => (chunk.choices as any[])[0]?.delta?.content);
      expect(firstText?.at).toBeLessThan(endedAt - 40);
      const text = seen.map(({ chunk }) => (chunk.choices as any[])[0]?.delta?.content ?? '').join('');
      expect(text).toBe('AI learns from data to make decisions or predictions.');
      expect(decoder.usage).toEqual({ promptTokens: 3, completionTokens: 10, cachedTokens: 0 });
      expect(seen.at(-1)?.chunk.usage).toMatchObject({ prompt_tokens: 3, completion_tokens: 10 });
    } finally {
      fake.chunkDelayMs = 0;
    }
  });

  it('round-trips a tool call on Gemini 3, which insists on the thought signature coming back', async () => {
    const tools = [
      { type: 'function', function: { name: 'get_weather', parameters: { type: 'object', properties: {} } } },
    ];
    const question = { role: 'user', content: 'Weather in Shanghai?' };
    const first = await complete({ model: 'gemini-3-pro-tool-call', messages: [question], tools });
    const message = (first.body.choices as any[])[0].message;
    expect(message.tool_calls[0].function.name).toBe('get_weather');

    const history = [
      question,
      message,
      { role: 'tool', tool_call_id: message.tool_calls[0].id, content: 'sunny, 24°C' },
    ];
    const second = await complete({ model: 'gemini-3-pro-tool-call', messages: history, tools });
    expect((second.body.choices as any[])[0]).toMatchObject({
      finish_reason: 'stop',
      message: { content: expect.any(String) },
    });
    const sent = fake.received.at(-1)?.body;
    expect(sent?.contents[1].parts[0].thoughtSignature).toMatch(/^Cu0BAdHtim/);
    expect(sent?.contents[2].parts[0].functionResponse).toEqual({
      name: 'get_weather',
      response: { content: 'sunny, 24°C' },
    });
  });

  it('round-trips a streamed tool call too', async () => {
    const tools = [{ type: 'function', function: { name: 'bash', parameters: { type: 'object' } } }];
    const call = await geminiAdapter.chatRequest(
      { model: 'gemini-3-tool-call', messages: [{ role: 'user', content: 'List files' }], tools },
      credential,
      true,
    );
    const { body } = await send(call);
    const decoder = geminiAdapter.chatStream('gemini-3-tool-call');
    const chunks: OpenAIObject[] = [];
    for await (const bytes of body) chunks.push(...decoder.push(bytes as Buffer));
    chunks.push(...decoder.end());
    const toolCall = chunks.flatMap((chunk) => (chunk.choices as any[])[0]?.delta?.tool_calls ?? [])[0];
    expect(chunks.map((chunk) => (chunk.choices as any[])[0]?.finish_reason).filter(Boolean)).toEqual(['tool_calls']);
    const history = [
      { role: 'user', content: 'List files' },
      {
        role: 'assistant',
        content: null,
        tool_calls: [{ id: toolCall.id, type: 'function', function: toolCall.function }],
      },
      { role: 'tool', tool_call_id: toolCall.id, content: '{"files":["a.txt"]}' },
    ];
    const answer = await complete({ model: 'gemini-3-tool-call', messages: history, tools });
    expect((answer.body.choices as any[])[0].finish_reason).toBe('stop');
  });

  it('sends history written elsewhere (no signatures) with the documented skip value, which Gemini 3 accepts', async () => {
    const answer = await complete({
      model: 'gemini-3-flash',
      messages: [
        { role: 'user', content: 'Weather?' },
        {
          role: 'assistant',
          tool_calls: [{ id: 'toolu_01', type: 'function', function: { name: 'w', arguments: '{}' } }],
        },
        { role: 'tool', tool_call_id: 'toolu_01', content: 'rain' },
      ],
    });
    expect((answer.body.choices as any[])[0].finish_reason).toBe('stop');
  });

  it('embeds through batchEmbedContents, in the encoding the caller asked for', async () => {
    const body = { model: 'gemini-embedding-001', input: ['one', 'two'], dimensions: 6, encoding_format: 'base64' };
    const { status, body: payload } = await send(
      (await geminiAdapter.embeddingsRequest?.(body, credential)) as HttpCall,
    );
    expect(status).toBe(200);
    const { body: list, usage } = geminiAdapter.embeddingsResponse(
      new Uint8Array(await payload.arrayBuffer()),
      body.model,
      body,
    );
    const data = list.data as Array<{ index: number; embedding: string }>;
    expect(data.map((item) => [item.index, Buffer.from(item.embedding, 'base64').length])).toEqual([
      [0, 24],
      [1, 24],
    ]);
    expect(usage).toEqual({ promptTokens: 2, completionTokens: 0, cachedTokens: 0 });
  });

  it("answers a wrong key with Google's 400 API_KEY_INVALID, which the adapter reads as a credential failure", async () => {
    const call = await geminiAdapter.chatRequest(
      { model: 'gemini-2.5-flash', messages: [{ role: 'user', content: 'Hi' }] },
      { ...credential, secrets: { apiKey: 'AIza-wrong' } },
      false,
    );
    const { status, body } = await send(call);
    const bytes = new Uint8Array(await body.arrayBuffer());
    expect(status).toBe(400);
    expect(geminiAdapter.isCredentialError(status, bytes)).toBe(true);
    expect(geminiAdapter.errorMessage(bytes)).toBe('API key not valid. Please pass a valid API key.');
  });

  it("answers fail-<status> models with that status in Google's shape", async () => {
    const call = await geminiAdapter.chatRequest(
      { model: 'fail-429', messages: [{ role: 'user', content: 'Hi' }] },
      credential,
      false,
    );
    const { status, body } = await send(call);
    expect(status).toBe(429);
    expect(geminiAdapter.errorMessage(new Uint8Array(await body.arrayBuffer()))).toBe(
      'Resource has been exhausted (e.g. check quota).',
    );
  });

  it('refuses, as Google does, a request that is not a GenerateContentRequest', async () => {
    const openaiShaped = {
      url: `${fake.url}/models/gemini-2.5-flash:generateContent`,
      headers: { 'x-goog-api-key': 'AIza-fake' },
    };
    const { status, body } = await send({ ...openaiShaped, body: JSON.stringify({ model: 'x', messages: [] }) });
    expect(status).toBe(400);
    expect(geminiAdapter.errorMessage(new Uint8Array(await body.arrayBuffer()))).toBe(
      'Invalid JSON payload received. Unknown name "model": Cannot find field.',
    );
    const badRole = JSON.stringify({ contents: [{ role: 'assistant', parts: [{ text: 'x' }] }] });
    expect((await send({ ...openaiShaped, body: badRole })).status).toBe(400);
    const emptyParts = JSON.stringify({ contents: [{ role: 'user', parts: [] }] });
    expect((await send({ ...openaiShaped, body: emptyParts })).status).toBe(400);
    const unsigned = JSON.stringify({
      contents: [
        { role: 'user', parts: [{ text: 'x' }] },
        { role: 'model', parts: [{ functionCall: { name: 'f', args: {} } }] },
      ],
    });
    const gemini3 = { ...openaiShaped, url: `${fake.url}/models/gemini-3-flash:generateContent` };
    const refused = await send({ ...gemini3, body: unsigned });
    expect(refused.status).toBe(400);
    expect(geminiAdapter.errorMessage(new Uint8Array(await refused.body.arrayBuffer()))).toMatch(
      /^Function call is missing a thought_signature/,
    );
  });
});
