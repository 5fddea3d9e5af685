import { readFileSync } from 'node:fs';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import Anthropic from '@anthropic-ai/sdk';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { validateMessagesRequest } from '../../../test/support/fake-anthropic.ts';
import type { OpenAIObject } from '../providers/adapter.ts';
import { toAnthropicRequest } from '../providers/anthropic/request.ts';
import { AnthropicChunkDecoder } from '../providers/anthropic/stream.ts';
import { eventData, SseSplitter } from '../sse.ts';
import {
  AnthropicUsageTap,
  anthropicError,
  anthropicErrorEvent,
  ChunksToMessageEvents,
  chatToMessages,
  messagesToChat,
  usageFromAnthropicMessage,
} from './anthropic-messages.ts';

const fixture = (path: string) => readFileSync(new URL(`../../../test/fixtures/${path}`, import.meta.url));
const PNG = 'iVBORw0KGgoAAAANSUhEUgAAAAEAAAABCAYAAAAfFcSJAAAADUlEQVR42mNkYPhfDwAChwGA60e6kgAAAABJRU5ErkJggg==';

/** The OpenAI chunks of a recorded OpenAI stream. */
function openaiChunks(): OpenAIObject[] {
  const splitter = new SseSplitter();
  return splitter
    .push(fixture('openai/chat-completion-stream.txt'))
    .map((event) => eventData(event) as OpenAIObject | undefined)
    .filter((chunk): chunk is OpenAIObject => chunk !== undefined);
}

const chunk = (delta: Record<string, unknown>, finish: string | null = null): OpenAIObject => ({
  id: 'chatcmpl-1',
  object: 'chat.completion.chunk',
  created: 1,
  model: 'gpt-test',
  choices: [{ index: 0, delta, finish_reason: finish }],
});
const usageChunk = (prompt: number, completion: number, cached = 0): OpenAIObject => ({
  id: 'chatcmpl-1',
  object: 'chat.completion.chunk',
  choices: [],
  usage: {
    prompt_tokens: prompt,
    completion_tokens: completion,
    total_tokens: prompt + completion,
    prompt_tokens_details: { cached_tokens: cached },
  },
});

/** An OpenAI stream with text, then two tool calls whose arguments arrive in pieces. */
const TOOL_CHUNKS: OpenAIObject[] = [
  chunk({ role: 'assistant', content: '' }),
  chunk({ content: 'Checking.' }),
  chunk({
    tool_calls: [{ index: 0, id: 'call_a', type: 'function', function: { name: 'get_weather', arguments: '' } }],
  }),
  chunk({ tool_calls: [{ index: 0, function: { arguments: '{"location":' } }] }),
  chunk({ tool_calls: [{ index: 0, function: { arguments: ' "Paris"}' } }] }),
  chunk({ tool_calls: [{ index: 1, id: 'call_b', type: 'function', function: { name: 'now', arguments: '{}' } }] }),
  chunk({}, 'tool_calls'),
  usageChunk(30, 12, 10),
];

type Event = { event: string; data: Record<string, unknown> };
const parse = (events: string[]): Event[] =>
  events.map((text) => {
    const [name, data] = text.split('\n');
    expect(text.endsWith('\n\n')).toBe(true);
    return { event: name!.slice('event: '.length), data: JSON.parse(data!.slice('data: '.length)) };
  });

/** Checks the grammar of an Anthropic stream and returns its events. */
function checkSequence(events: Event[]): Event[] {
  expect(events[0]?.event).toBe('message_start');
  expect(events.at(-2)?.event).toBe('message_delta');
  expect(events.at(-1)?.event).toBe('message_stop');
  let open = -1;
  let next = 0;
  for (const { event, data } of events) {
    expect(data.type).toBe(event);
    if (event === 'content_block_start') {
      expect(open).toBe(-1);
      expect(data.index).toBe(next++);
      open = data.index as number;
    } else if (event === 'content_block_delta') expect(data.index).toBe(open);
    else if (event === 'content_block_stop') {
      expect(data.index).toBe(open);
      open = -1;
    }
  }
  expect(open).toBe(-1);
  return events;
}

function translateStream(chunks: OpenAIObject[], model = 'claude-door'): Event[] {
  const translator = new ChunksToMessageEvents(model);
  return parse([...chunks.flatMap((c) => translator.push(c)), ...translator.end()]);
}

describe('Anthropic request → OpenAI chat request', () => {
  it('turns the system prompt, string or blocks, into one system message', () => {
    const chat = messagesToChat({
      model: 'gpt-4o',
      max_tokens: 100,
      system: [
        { type: 'text', text: 'You are Claude Code.' },
        { type: 'text', text: 'Be careful.', cache_control: { type: 'ephemeral' } },
      ],
      messages: [{ role: 'user', content: 'Hi' }],
    });
    expect(chat).toEqual({
      model: 'gpt-4o',
      max_tokens: 100,
      messages: [
        { role: 'system', content: 'You are Claude Code.\n\nBe careful.' },
        { role: 'user', content: 'Hi' },
      ],
    });
    expect(messagesToChat({ model: 'm', system: 'Short.', messages: [] }).messages).toEqual([
      { role: 'system', content: 'Short.' },
    ]);
  });

  it('translates text, images and documents into content parts', () => {
    const chat = messagesToChat({
      model: 'm',
      messages: [
        {
          role: 'user',
          content: [
            { type: 'text', text: 'What is in these?' },
            { type: 'image', source: { type: 'base64', media_type: 'image/png', data: PNG } },
            { type: 'image', source: { type: 'url', url: 'https://example.com/a.jpg' } },
            { type: 'document', source: { type: 'base64', media_type: 'application/pdf', data: 'JVBERi0=' } },
            { type: 'document', source: { type: 'text', media_type: 'text/plain', data: 'Plain notes' } },
          ],
        },
      ],
    });
    expect(chat.messages[0]?.content).toEqual([
      { type: 'text', text: 'What is in these?' },
      { type: 'image_url', image_url: { url: `data:image/png;base64,${PNG}` } },
      { type: 'image_url', image_url: { url: 'https://example.com/a.jpg' } },
      { type: 'file', file: { file_data: 'data:application/pdf;base64,JVBERi0=' } },
      { type: 'text', text: 'Plain notes' },
    ]);
  });

  it('turns tool_use into tool_calls and tool_result into tool messages placed first', () => {
    const chat = messagesToChat({
      model: 'm',
      messages: [
        { role: 'user', content: 'Weather?' },
        {
          role: 'assistant',
          content: [
            { type: 'thinking', thinking: 'Use the tool.', signature: 'sig' },
            { type: 'text', text: 'Let me look.' },
            { type: 'tool_use', id: 'toolu_1', name: 'get_weather', input: { location: 'Paris' } },
            { type: 'tool_use', id: 'toolu_2', name: 'snapshot', input: {} },
          ],
        },
        {
          role: 'user',
          content: [
            { type: 'tool_result', tool_use_id: 'toolu_1', content: '18°C' },
            {
              type: 'tool_result',
              tool_use_id: 'toolu_2',
              content: [
                { type: 'text', text: 'Taken:' },
                { type: 'image', source: { type: 'url', url: 'https://example.com/shot.png' } },
              ],
              is_error: false,
            },
            { type: 'text', text: 'Thanks' },
          ],
        },
      ],
    });
    expect(chat.messages).toEqual([
      { role: 'user', content: 'Weather?' },
      {
        role: 'assistant',
        content: 'Let me look.',
        tool_calls: [
          { id: 'toolu_1', type: 'function', function: { name: 'get_weather', arguments: '{"location":"Paris"}' } },
          { id: 'toolu_2', type: 'function', function: { name: 'snapshot', arguments: '{}' } },
        ],
      },
      { role: 'tool', tool_call_id: 'toolu_1', content: '18°C' },
      { role: 'tool', tool_call_id: 'toolu_2', content: 'Taken:' },
      {
        role: 'user',
        content: [
          { type: 'image_url', image_url: { url: 'https://example.com/shot.png' } },
          { type: 'text', text: 'Thanks' },
        ],
      },
    ]);
    const toolOnly = messagesToChat({
      model: 'm',
      messages: [{ role: 'assistant', content: [{ type: 'tool_use', id: 't', name: 'f', input: {} }] }],
    });
    expect(toolOnly.messages[0]?.content).toBeNull();
  });

  it('maps tools, tool_choice, limits, sampling, stop sequences, user and stream', () => {
    const chat = messagesToChat({
      model: 'gpt-4o',
      max_tokens: 1024,
      temperature: 0.2,
      top_p: 0.8,
      top_k: 40,
      stop_sequences: ['</answer>'],
      metadata: { user_id: 'user-7' },
      stream: true,
      thinking: { type: 'enabled', budget_tokens: 2000 },
      tools: [
        { name: 'get_weather', description: 'Weather', input_schema: { type: 'object', properties: {} } },
        { type: 'web_search_20250305', name: 'web_search', max_uses: 5 },
      ],
      tool_choice: { type: 'tool', name: 'get_weather', disable_parallel_tool_use: true },
      messages: [{ role: 'user', content: 'x' }],
    });
    expect(chat).toEqual({
      model: 'gpt-4o',
      max_tokens: 1024,
      temperature: 0.2,
      top_p: 0.8,
      stop: ['</answer>'],
      user: 'user-7',
      stream: true,
      stream_options: { include_usage: true },
      tools: [
        {
          type: 'function',
          function: { name: 'get_weather', description: 'Weather', parameters: { type: 'object', properties: {} } },
        },
      ],
      tool_choice: { type: 'function', function: { name: 'get_weather' } },
      parallel_tool_calls: false,
      messages: [{ role: 'user', content: 'x' }],
    });
    const tools = [{ name: 'f', input_schema: { type: 'object' } }];
    const choice = (tool_choice: unknown) =>
      messagesToChat({ model: 'm', messages: [], tools, tool_choice }).tool_choice;
    expect(choice({ type: 'auto' })).toBe('auto');
    expect(choice({ type: 'any' })).toBe('required');
    expect(choice({ type: 'none' })).toBe('none');
  });

  it('survives the trip Anthropic → OpenAI → Anthropic as a request the API accepts', () => {
    const original = {
      model: 'claude-x',
      max_tokens: 200,
      system: 'Be brief.',
      stop_sequences: ['STOP'],
      tools: [{ name: 'get_weather', input_schema: { type: 'object', properties: {} } }],
      messages: [
        { role: 'user', content: [{ type: 'text', text: 'Weather?' }] },
        {
          role: 'assistant',
          content: [
            { type: 'text', text: 'Looking.' },
            { type: 'tool_use', id: 'toolu_1', name: 'get_weather', input: { city: 'Oslo' } },
          ],
        },
        {
          role: 'user',
          content: [
            { type: 'tool_result', tool_use_id: 'toolu_1', content: 'Snow' },
            { type: 'text', text: 'And tomorrow?' },
          ],
        },
      ],
    };
    const back = toAnthropicRequest(messagesToChat(original), false);
    expect(validateMessagesRequest(back)).toBeUndefined();
    expect(back).toEqual({
      model: 'claude-x',
      max_tokens: 200,
      system: 'Be brief.',
      stop_sequences: ['STOP'],
      tools: [{ name: 'get_weather', input_schema: { type: 'object', properties: {} } }],
      messages: original.messages,
    });
  });

  it('refuses roles and blocks it cannot translate', () => {
    expect(() => messagesToChat({ model: 'm', messages: [{ role: 'tool', content: 'x' }] })).toThrow(/role/);
    expect(() =>
      messagesToChat({
        model: 'm',
        messages: [{ role: 'user', content: [{ type: 'container_upload', file_id: 'f' }] }],
      }),
    ).toThrow(/container_upload/);
    expect(() => messagesToChat({ model: 'm' })).toThrow(/messages/);
  });
});

describe('OpenAI chat.completion → Anthropic message', () => {
  it('translates a text answer with its usage, named after the requested model', () => {
    const completion = JSON.parse(fixture('openai/chat-completion.json').toString());
    expect(chatToMessages(completion, 'claude-door')).toEqual({
      id: 'msg_chatcmpl-B9MBs8CjcvOU2jLn4n570S5qMJKcT',
      type: 'message',
      role: 'assistant',
      model: 'claude-door',
      content: [{ type: 'text', text: 'Hello! How can I assist you today?' }],
      stop_reason: 'end_turn',
      stop_sequence: null,
      usage: { input_tokens: 19, output_tokens: 10, cache_creation_input_tokens: 0, cache_read_input_tokens: 0 },
    });
  });

  it('translates tool calls, finish reasons and cached tokens', () => {
    const completion = {
      id: 'chatcmpl-2',
      choices: [
        {
          index: 0,
          finish_reason: 'stop', // as some providers say even after calling tools
          message: {
            role: 'assistant',
            content: null,
            tool_calls: [
              { id: 'call_1', type: 'function', function: { name: 'get_weather', arguments: '{"location":"Paris"}' } },
              { id: 'call_2', type: 'function', function: { name: 'broken', arguments: '{"oops' } },
            ],
          },
        },
      ],
      usage: { prompt_tokens: 100, completion_tokens: 20, prompt_tokens_details: { cached_tokens: 60 } },
    };
    const message = chatToMessages(completion, 'm');
    expect(message.content).toEqual([
      { type: 'tool_use', id: 'call_1', name: 'get_weather', input: { location: 'Paris' } },
      { type: 'tool_use', id: 'call_2', name: 'broken', input: {} },
    ]);
    expect(message.stop_reason).toBe('tool_use');
    expect(message.usage).toEqual({
      input_tokens: 40,
      output_tokens: 20,
      cache_creation_input_tokens: 0,
      cache_read_input_tokens: 60,
    });
    const finish = (finish_reason: string) =>
      chatToMessages({ choices: [{ finish_reason, message: { content: 'x' } }] }, 'm').stop_reason;
    expect(finish('length')).toBe('max_tokens');
    expect(finish('content_filter')).toBe('refusal');
    expect(finish('stop')).toBe('end_turn');
  });
});

describe('OpenAI chunks → Anthropic stream events', () => {
  it('translates a text stream into the documented event sequence', () => {
    const events = checkSequence(translateStream(openaiChunks()));
    expect(events.map((e) => e.event)).toEqual([
      'message_start',
      'content_block_start',
      'content_block_delta',
      'content_block_delta',
      'content_block_stop',
      'message_delta',
      'message_stop',
    ]);
    expect(events[0]?.data.message).toMatchObject({ model: 'claude-door', role: 'assistant', content: [] });
    expect(events[1]?.data).toEqual({
      type: 'content_block_start',
      index: 0,
      content_block: { type: 'text', text: '' },
    });
    expect(events[2]?.data.delta).toEqual({ type: 'text_delta', text: 'Hello' });
    expect(events[5]?.data).toEqual({
      type: 'message_delta',
      delta: { stop_reason: 'end_turn', stop_sequence: null },
      usage: { input_tokens: 9, output_tokens: 2, cache_creation_input_tokens: 0, cache_read_input_tokens: 0 },
    });
  });

  it('gives each tool call its own tool_use block with input_json_delta fragments', () => {
    const events = checkSequence(translateStream(TOOL_CHUNKS));
    const starts = events.filter((e) => e.event === 'content_block_start').map((e) => e.data.content_block);
    expect(starts).toEqual([
      { type: 'text', text: '' },
      { type: 'tool_use', id: 'call_a', name: 'get_weather', input: {} },
      { type: 'tool_use', id: 'call_b', name: 'now', input: {} },
    ]);
    const json = (index: number) =>
      events
        .filter((e) => e.event === 'content_block_delta' && e.data.index === index)
        .map((e) => (e.data.delta as { partial_json: string }).partial_json)
        .join('');
    expect(JSON.parse(json(1))).toEqual({ location: 'Paris' });
    expect(json(2)).toBe('{}');
    expect(events.at(-2)?.data).toMatchObject({
      delta: { stop_reason: 'tool_use' },
      usage: { input_tokens: 20, output_tokens: 12, cache_read_input_tokens: 10 },
    });
  });

  it('sends events as soon as each chunk arrives, and finishes once reason and usage are known', () => {
    const translator = new ChunksToMessageEvents('m', { inputTokens: 42 });
    const first = parse(translator.push(chunk({ role: 'assistant', content: 'Hi' })));
    expect(first.map((e) => e.event)).toEqual(['message_start', 'content_block_start', 'content_block_delta']);
    expect(first[0]?.data.message).toMatchObject({ usage: { input_tokens: 42 } });
    expect(parse(translator.push(chunk({}, 'length'))).map((e) => e.event)).toEqual(['content_block_stop']);
    const last = parse(translator.push(usageChunk(5, 3)));
    expect(last.map((e) => e.event)).toEqual(['message_delta', 'message_stop']);
    expect(last[0]?.data.delta).toMatchObject({ stop_reason: 'max_tokens' });
    expect(translator.usage).toEqual({ promptTokens: 5, completionTokens: 3, cachedTokens: 0 });
    expect(translator.push(chunk({ content: 'late' }))).toEqual([]);
    expect(translator.end()).toEqual([]);
  });

  it('closes a stream without usage at end(), with the usage it is given', () => {
    const translator = new ChunksToMessageEvents('m');
    translator.push(chunk({ content: 'Hi' }));
    translator.push(chunk({}, 'stop'));
    const closing = parse(translator.end({ promptTokens: 7, completionTokens: 1, cachedTokens: 0 }));
    expect(closing.map((e) => e.event)).toEqual(['message_delta', 'message_stop']);
    expect(closing[0]?.data.usage).toMatchObject({ input_tokens: 7, output_tokens: 1 });
    // An empty stream is still a whole message.
    expect(checkSequence(parse(new ChunksToMessageEvents('m').end())).map((e) => e.event)).toEqual([
      'message_start',
      'message_delta',
      'message_stop',
    ]);
  });

  it('translates a native Anthropic stream decoded to OpenAI chunks back into the same content', () => {
    const decoder = new AnthropicChunkDecoder('claude');
    const chunks = [...decoder.push(fixture('anthropic/stream-tool-use.txt')), ...decoder.end()];
    const events = checkSequence(translateStream(chunks));
    const text = events
      .filter((e) => (e.data.delta as { type?: string } | undefined)?.type === 'text_delta')
      .map((e) => (e.data.delta as { text: string }).text)
      .join('');
    expect(text).toBe("Okay, let's check the weather for San Francisco, CA:");
    expect(events.at(-2)?.data).toMatchObject({
      delta: { stop_reason: 'tool_use' },
      usage: { input_tokens: 472, output_tokens: 89 },
    });
  });
});

describe('what the official Anthropic SDK makes of the translated answers', () => {
  let server: Server;
  let reply: { status: number; type: string; body: string };
  let client: Anthropic;
  beforeAll(async () => {
    server = createServer((request, response) => {
      request.resume();
      request.on('end', () => {
        response.writeHead(reply.status, { 'content-type': reply.type });
        response.end(reply.body);
      });
    });
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    client = new Anthropic({
      apiKey: 'tg-test',
      baseURL: `http://127.0.0.1:${(server.address() as AddressInfo).port}`,
      maxRetries: 0,
    });
  });
  afterAll(() => new Promise((resolve) => server.close(resolve)));
  const params = { model: 'claude-door', max_tokens: 100, messages: [{ role: 'user' as const, content: 'Hi' }] };
  const stream = (chunks: OpenAIObject[]) => {
    const translator = new ChunksToMessageEvents('claude-door');
    return [...chunks.flatMap((c) => translator.push(c)), ...translator.end()].join('');
  };

  it('reads a translated message from messages.create', async () => {
    const completion = JSON.parse(fixture('openai/chat-completion.json').toString());
    reply = { status: 200, type: 'application/json', body: JSON.stringify(chatToMessages(completion, 'claude-door')) };
    const message = await client.messages.create(params);
    expect(message.content).toEqual([{ type: 'text', text: 'Hello! How can I assist you today?' }]);
    expect(message.usage.input_tokens).toBe(19);
  });

  it('accumulates a translated stream, tool inputs included, into the final message', async () => {
    reply = { status: 200, type: 'text/event-stream', body: stream(TOOL_CHUNKS) };
    const final = await client.messages.stream(params).finalMessage();
    expect(final).toMatchObject({
      role: 'assistant',
      model: 'claude-door',
      stop_reason: 'tool_use',
      content: [
        { type: 'text', text: 'Checking.' },
        { type: 'tool_use', id: 'call_a', name: 'get_weather', input: { location: 'Paris' } },
        { type: 'tool_use', id: 'call_b', name: 'now', input: {} },
      ],
      usage: { input_tokens: 20, output_tokens: 12, cache_read_input_tokens: 10 },
    });
    const texts: string[] = [];
    await client.messages
      .stream(params)
      .on('text', (text) => texts.push(text))
      .done();
    expect(texts).toEqual(['Checking.']);
  });

  it('raises an API error for an error event mid-stream and for an error body', async () => {
    const translator = new ChunksToMessageEvents('claude-door');
    const started = translator.push(chunk({ content: 'Hel' })).join('');
    reply = {
      status: 200,
      type: 'text/event-stream',
      body: started + anthropicErrorEvent('overloaded_error', 'Overloaded'),
    };
    await expect(client.messages.stream(params).finalMessage()).rejects.toThrow(/Overloaded/);

    const { status, body } = anthropicError(
      403,
      undefined,
      'Access denied: Model gpt-4 is not in the allowed models list',
    );
    reply = { status, type: 'application/json', body };
    await expect(client.messages.create(params)).rejects.toBeInstanceOf(Anthropic.PermissionDeniedError);
    expect(JSON.parse(anthropicError(529, undefined, 'busy').body).error.type).toBe('overloaded_error');
  });
});

describe('usage on the same-format path (Anthropic door → Anthropic provider)', () => {
  it('taps usage from native events without touching them', () => {
    for (const [name, expected] of [
      ['stream.txt', { promptTokens: 25, completionTokens: 15, cachedTokens: 0 }],
      ['stream-tool-use.txt', { promptTokens: 472, completionTokens: 89, cachedTokens: 0 }],
      ['stream-thinking.txt', undefined],
    ] as const) {
      const tap = new AnthropicUsageTap();
      const bytes = fixture(`anthropic/${name}`);
      const events = new SseSplitter().push(bytes);
      for (const event of events) tap.observe(event);
      expect(events.join('')).toBe(bytes.toString());
      expect(tap.usage).toEqual(expected);
    }
  });

  it('reads usage from a whole message, parsed or as bytes', () => {
    const bytes = fixture('anthropic/message-cached.json');
    const expected = { promptTokens: 188107, completionTokens: 393, cachedTokens: 188086 };
    expect(usageFromAnthropicMessage(bytes)).toEqual(expected);
    expect(usageFromAnthropicMessage(JSON.parse(bytes.toString()))).toEqual(expected);
    expect(usageFromAnthropicMessage(Buffer.from('not json'))).toBeUndefined();
  });
});
