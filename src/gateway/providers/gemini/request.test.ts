import { describe, expect, it } from 'vitest';
import type { ChatRequest } from '../adapter.ts';
import type { ResolvedCredential } from '../types.ts';
import { chatRequest, toGeminiRequest } from './request.ts';
import { newToolCallId, SKIP_SIGNATURE, thoughtSignatureOf } from './tool-call-id.ts';

const credential = (settings: Record<string, string> = {}): ResolvedCredential => ({
  id: 'c1',
  name: 'gemini-prod',
  provider: 'gemini',
  authMethod: 'api-key',
  secrets: { apiKey: 'AIza-test' },
  settings,
});

const chat = (messages: Array<Record<string, unknown>>, extra: Record<string, unknown> = {}): ChatRequest => ({
  model: 'gemini-2.5-flash',
  messages,
  ...extra,
});

/** A signature as Gemini sent it (test/fixtures/gemini/stream-function-call.txt). */
const SIGNATURE =
  'EvwDCvkDAQw51sd/F0fGZWxWmQvo9up+111jCBDvq2HxXQ9j7A0wTRfgz5LwQ7w/3wP7j1Qi++vw2ntq7jWPC843DfoU7plOfDqZ8Y4s8XUe1siNsa47Bx2VTv+IJSvIWGP0Svze+7keEuNIYh3nBj03uv7saR0U+Jj4k/7BRuusSBPfASoROyiWL8HInjItx7CzsGPgq8qmf+C2pMqFP5de+ICte+cLEul2Cau1+ijpu1CPEMWZVhDmSRGP25D5Cj6lEn78PHDdpICSQ9HOk7v3365KcD1SkUsLMQIp6O8/RxyNIBpKGRkZnfVDZEF6BUJQXiHzQdDiyTTZCRFDD6lRwkag1I3AMpLCZv3/kQgP8x6LdrFfFNx8QaXG6CH21tAHiTLqmtS5i7HSpHnsr+DQrAmZjOTErBiytdpjbUSI5vpa7kVdT1QOs3oupAorwW9hPvCrSWlUaH10zEM6JhWcL7qeNHopHLozO1bUAp6wi8NeL9IG1utjlFwM8MUc6B/sX0UV40seCdUINQiRQ0ykqr24RXfqg5CGhDpuXTJ+v6Z6mz3GQTia128gDA/MM1EmSl3nsw0VVQK5fNnIh31ly3gJcucY1C5mUs8XkxKVZBrqPLjGsYRLguAMzkUimozoy2UFe2mKtYbZOTExpCI+320FtfbgWhkRvLYNqw==';

describe('chatRequest', () => {
  it('posts to models/{model}:generateContent with the key in x-goog-api-key, never in the URL', async () => {
    const call = await chatRequest(chat([{ role: 'user', content: 'Hi' }]), credential(), false);
    expect(call.url).toBe('https://generativelanguage.googleapis.com/v1beta/models/gemini-2.5-flash:generateContent');
    expect(call.headers).toEqual({ 'content-type': 'application/json', 'x-goog-api-key': 'AIza-test' });
    expect(call.url).not.toContain('AIza');
    expect(JSON.parse(String(call.body))).toEqual({ contents: [{ role: 'user', parts: [{ text: 'Hi' }] }] });
  });

  it('asks for server-sent events when streaming, at the credential base URL', async () => {
    const call = await chatRequest(
      chat([{ role: 'user', content: 'Hi' }]),
      credential({ baseUrl: 'http://127.0.0.1:9/v1beta/' }),
      true,
    );
    expect(call.url).toBe('http://127.0.0.1:9/v1beta/models/gemini-2.5-flash:streamGenerateContent?alt=sse');
  });

  it('keeps a resource name such as tunedModels/x as it is', async () => {
    const call = await chatRequest(
      { model: 'tunedModels/my-model', messages: [{ role: 'user', content: 'Hi' }] },
      credential(),
      false,
    );
    expect(call.url).toMatch(/\/v1beta\/tunedModels\/my-model:generateContent$/);
  });
});

describe('toGeminiRequest: messages', () => {
  it('turns system and developer messages into the system instruction, in order', () => {
    const request = toGeminiRequest(
      chat([
        { role: 'system', content: 'Be brief.' },
        { role: 'developer', content: [{ type: 'text', text: 'Answer in French.' }] },
        { role: 'user', content: 'Hello' },
      ]),
    );
    expect(request.systemInstruction).toEqual({ parts: [{ text: 'Be brief.' }, { text: 'Answer in French.' }] });
    expect(request.contents).toEqual([{ role: 'user', parts: [{ text: 'Hello' }] }]);
  });

  it('maps a multi-turn conversation, assistant to model, merging neighbours of the same role', () => {
    const request = toGeminiRequest(
      chat([
        { role: 'user', content: 'One' },
        { role: 'user', content: [{ type: 'text', text: 'Two' }] },
        { role: 'assistant', content: 'Three' },
        { role: 'user', content: 'Four' },
      ]),
    );
    expect(request.contents).toEqual([
      { role: 'user', parts: [{ text: 'One' }, { text: 'Two' }] },
      { role: 'model', parts: [{ text: 'Three' }] },
      { role: 'user', parts: [{ text: 'Four' }] },
    ]);
  });

  it('drops empty text so that no content has empty parts', () => {
    const request = toGeminiRequest(
      chat([
        { role: 'user', content: 'Hi' },
        { role: 'assistant', content: '' },
        { role: 'user', content: 'Again' },
      ]),
    );
    expect(request.contents).toEqual([{ role: 'user', parts: [{ text: 'Hi' }, { text: 'Again' }] }]);
  });

  it('refuses a conversation with nothing but a system prompt, which Gemini cannot answer', () => {
    expect(() => toGeminiRequest(chat([{ role: 'system', content: 'Be brief.' }]))).toThrow(
      /at least one user or assistant message/,
    );
  });

  it('refuses roles Gemini has no place for', () => {
    expect(() => toGeminiRequest(chat([{ role: 'narrator', content: 'x' }]))).toThrow(/role "narrator"/);
  });
});

describe('toGeminiRequest: images and files', () => {
  it('sends data: URLs inline and http URLs as file references with a guessed MIME type', () => {
    const request = toGeminiRequest(
      chat([
        {
          role: 'user',
          content: [
            { type: 'text', text: 'What is in these?' },
            { type: 'image_url', image_url: { url: 'data:image/png;base64,iVBORw0KGgo=' } },
            { type: 'image_url', image_url: { url: 'https://example.com/cat.webp?size=large', detail: 'low' } },
            { type: 'image_url', image_url: { url: 'https://generativelanguage.googleapis.com/v1beta/files/abc' } },
          ],
        },
      ]),
    );
    expect(request.contents[0]?.parts).toEqual([
      { text: 'What is in these?' },
      { inlineData: { mimeType: 'image/png', data: 'iVBORw0KGgo=' } },
      { fileData: { mimeType: 'image/webp', fileUri: 'https://example.com/cat.webp?size=large' } },
      { fileData: { mimeType: 'image/jpeg', fileUri: 'https://generativelanguage.googleapis.com/v1beta/files/abc' } },
    ]);
  });

  it('base64-encodes a data: URL that is not base64 already', () => {
    const request = toGeminiRequest(
      chat([{ role: 'user', content: [{ type: 'image_url', image_url: { url: 'data:image/svg+xml,%3Csvg%2F%3E' } }] }]),
    );
    expect(request.contents[0]?.parts[0]).toEqual({
      inlineData: { mimeType: 'image/svg+xml', data: Buffer.from('<svg/>').toString('base64') },
    });
  });

  it('sends audio and PDF files inline', () => {
    const request = toGeminiRequest(
      chat([
        {
          role: 'user',
          content: [
            { type: 'input_audio', input_audio: { data: 'UklGRg==', format: 'wav' } },
            { type: 'file', file: { filename: 'a.pdf', file_data: 'data:application/pdf;base64,JVBERi0=' } },
          ],
        },
      ]),
    );
    expect(request.contents[0]?.parts).toEqual([
      { inlineData: { mimeType: 'audio/wav', data: 'UklGRg==' } },
      { inlineData: { mimeType: 'application/pdf', data: 'JVBERi0=' } },
    ]);
  });

  it('refuses what it cannot send: other URL schemes, OpenAI file ids', () => {
    const image = (url: string) => chat([{ role: 'user', content: [{ type: 'image_url', image_url: { url } }] }]);
    expect(() => toGeminiRequest(image('file:///etc/passwd'))).toThrow(/data: URL or an http/);
    const fileId = chat([{ role: 'user', content: [{ type: 'file', file: { file_id: 'file-abc' } }] }]);
    expect(() => toGeminiRequest(fileId)).toThrow(/file ids/);
  });
});

describe('toGeminiRequest: tools', () => {
  const weather = {
    type: 'function',
    function: {
      name: 'get_weather',
      description: 'Weather for a city',
      parameters: {
        type: 'object',
        properties: { city: { type: 'string' } },
        required: ['city'],
        additionalProperties: false,
      },
    },
  };

  it('declares functions with their JSON Schema untouched, in parametersJsonSchema', () => {
    const request = toGeminiRequest(chat([{ role: 'user', content: 'Weather?' }], { tools: [weather] }));
    expect(request.tools).toEqual([
      {
        functionDeclarations: [
          { name: 'get_weather', description: 'Weather for a city', parametersJsonSchema: weather.function.parameters },
        ],
      },
    ]);
  });

  it.each([
    ['auto', { mode: 'AUTO' }],
    ['none', { mode: 'NONE' }],
    ['required', { mode: 'ANY' }],
    [
      { type: 'function', function: { name: 'get_weather' } },
      { mode: 'ANY', allowedFunctionNames: ['get_weather'] },
    ],
  ])('maps tool_choice %j to functionCallingConfig %j', (choice, config) => {
    const request = toGeminiRequest(chat([{ role: 'user', content: 'x' }], { tools: [weather], tool_choice: choice }));
    expect(request.toolConfig).toEqual({ functionCallingConfig: config });
  });

  it('sends no toolConfig without tools', () => {
    const request = toGeminiRequest(chat([{ role: 'user', content: 'x' }], { tool_choice: 'none' }));
    expect(request.toolConfig).toBeUndefined();
  });

  it('refuses tools that are not functions', () => {
    expect(() => toGeminiRequest(chat([{ role: 'user', content: 'x' }], { tools: [{ type: 'web_search' }] }))).toThrow(
      /type "web_search"/,
    );
  });
});

describe('toGeminiRequest: tool calls and results', () => {
  const call = (id: string, name: string, args: string) => ({
    id,
    type: 'function',
    function: { name, arguments: args },
  });

  it('sends assistant tool calls as functionCall parts and results as functionResponse parts named after them', () => {
    const request = toGeminiRequest(
      chat([
        { role: 'user', content: 'Weather in Paris and Rome?' },
        {
          role: 'assistant',
          content: null,
          tool_calls: [
            call('call_a', 'get_weather', '{"city":"Paris"}'),
            call('call_b', 'get_time', '{"city":"Rome"}'),
          ],
        },
        { role: 'tool', tool_call_id: 'call_a', content: '{"temp":21,"sky":"clear"}' },
        { role: 'tool', tool_call_id: 'call_b', content: '14:05' },
      ]),
    );
    expect(request.contents).toEqual([
      { role: 'user', parts: [{ text: 'Weather in Paris and Rome?' }] },
      {
        role: 'model',
        parts: [
          { functionCall: { name: 'get_weather', args: { city: 'Paris' } }, thoughtSignature: SKIP_SIGNATURE },
          { functionCall: { name: 'get_time', args: { city: 'Rome' } } },
        ],
      },
      {
        role: 'user',
        parts: [
          { functionResponse: { name: 'get_weather', response: { temp: 21, sky: 'clear' } } },
          { functionResponse: { name: 'get_time', response: { content: '14:05' } } },
        ],
      },
    ]);
  });

  it('wraps results that are not JSON objects, whatever their JSON type', () => {
    const request = toGeminiRequest(
      chat([
        { role: 'assistant', tool_calls: [call('a', 'f', '{}'), call('b', 'f', '{}'), call('c', 'f', '')] },
        { role: 'tool', tool_call_id: 'a', content: '[1,2]' },
        { role: 'tool', tool_call_id: 'b', content: '42' },
        { role: 'tool', tool_call_id: 'c', content: [{ type: 'text', text: 'line one' }] },
      ]),
    );
    expect(request.contents[1]?.parts.map((part) => part.functionResponse?.response)).toEqual([
      { content: [1, 2] },
      { content: 42 },
      { content: 'line one' },
    ]);
    expect(request.contents[0]?.parts[2]?.functionCall?.args).toEqual({});
  });

  it('gives each function call back the thought signature its tool call id carries', () => {
    const id = newToolCallId(SIGNATURE);
    expect(id).toMatch(/^call_[A-Za-z0-9_-]+$/);
    expect(thoughtSignatureOf(id)).toBe(SIGNATURE);
    const request = toGeminiRequest(
      chat([
        { role: 'user', content: 'Weather?' },
        { role: 'assistant', tool_calls: [call(id, 'get_weather', '{"city":"Paris"}')] },
        { role: 'tool', tool_call_id: id, content: 'sunny' },
      ]),
    );
    expect(request.contents[1]?.parts[0]?.thoughtSignature).toBe(SIGNATURE);
  });

  it("reads a signature from Google's extra_content too", () => {
    const request = toGeminiRequest(
      chat([
        {
          role: 'assistant',
          tool_calls: [{ ...call('x', 'f', '{}'), extra_content: { google: { thought_signature: SIGNATURE } } }],
        },
        { role: 'tool', tool_call_id: 'x', content: 'ok' },
      ]),
    );
    expect(request.contents[0]?.parts[0]?.thoughtSignature).toBe(SIGNATURE);
  });

  it('refuses a tool result whose call it cannot find, and arguments that are not a JSON object', () => {
    expect(() => toGeminiRequest(chat([{ role: 'tool', tool_call_id: 'nope', content: 'x' }]))).toThrow(
      /unknown tool_call_id "nope"/,
    );
    expect(() => toGeminiRequest(chat([{ role: 'assistant', tool_calls: [call('a', 'f', '[1]')] }]))).toThrow(
      /JSON object/,
    );
  });

  it('keeps text said alongside tool calls, before them', () => {
    const request = toGeminiRequest(
      chat([{ role: 'assistant', content: 'Let me check.', tool_calls: [call('a', 'f', '{}')] }]),
    );
    expect(request.contents[0]?.parts.map((part) => Object.keys(part)[0])).toEqual(['text', 'functionCall']);
  });
});

describe('toGeminiRequest: generation settings', () => {
  it('maps sampling, length, stop sequences, candidates, seed and JSON output', () => {
    const request = toGeminiRequest(
      chat([{ role: 'user', content: 'x' }], {
        temperature: 0.2,
        top_p: 0.9,
        max_tokens: 100,
        max_completion_tokens: 50,
        stop: ['END', '###'],
        n: 2,
        seed: 7,
        presence_penalty: 0.5,
        frequency_penalty: 0.25,
        response_format: { type: 'json_schema', json_schema: { name: 'x', schema: { type: 'object' } } },
        logit_bias: { 1: 2 },
        user: 'someone',
      }),
    );
    expect(request.generationConfig).toEqual({
      temperature: 0.2,
      topP: 0.9,
      maxOutputTokens: 50,
      stopSequences: ['END', '###'],
      candidateCount: 2,
      presencePenalty: 0.5,
      frequencyPenalty: 0.25,
      seed: 7,
      responseMimeType: 'application/json',
      responseJsonSchema: { type: 'object' },
    });
  });

  it('takes a single stop string and max_tokens alone; sends no generationConfig when nothing is set', () => {
    const one = toGeminiRequest(chat([{ role: 'user', content: 'x' }], { stop: 'END', max_tokens: 10 }));
    expect(one.generationConfig).toEqual({ stopSequences: ['END'], maxOutputTokens: 10 });
    const none = toGeminiRequest(chat([{ role: 'user', content: 'x' }], { temperature: null }));
    expect(none.generationConfig).toBeUndefined();
  });
});
