import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import type { OpenAIObject } from '../adapter.ts';
import { AnthropicStreamError } from './errors.ts';
import { AnthropicChunkDecoder } from './stream.ts';

const fixture = (name: string) => readFileSync(new URL(`../../../../test/fixtures/anthropic/${name}`, import.meta.url));

function decodeWhole(bytes: Buffer): OpenAIObject[] {
  const decoder = new AnthropicChunkDecoder('claude-test');
  return [...decoder.push(bytes), ...decoder.end()];
}

function decodeByteByByte(bytes: Buffer): OpenAIObject[] {
  const decoder = new AnthropicChunkDecoder('claude-test');
  const chunks: OpenAIObject[] = [];
  for (let i = 0; i < bytes.length; i++) chunks.push(...decoder.push(bytes.subarray(i, i + 1)));
  return [...chunks, ...decoder.end()];
}

const deltas = (chunks: OpenAIObject[]) =>
  chunks.map((chunk) => (chunk.choices as Array<{ delta: Record<string, unknown> }>)[0]?.delta);
const text = (chunks: OpenAIObject[]) =>
  deltas(chunks)
    .map((delta) => delta?.content ?? '')
    .join('');

describe('Anthropic stream → OpenAI chunks', () => {
  it('gives the same chunks fed byte by byte as fed whole', () => {
    for (const name of ['stream.txt', 'stream-tool-use.txt', 'stream-thinking.txt']) {
      const bytes = fixture(name);
      const strip = (chunks: OpenAIObject[]) => chunks.map(({ created: _, ...chunk }) => chunk);
      expect(strip(decodeByteByByte(bytes))).toEqual(strip(decodeWhole(bytes)));
    }
  });

  it('translates the basic stream: role, text, finish reason, then a usage-only chunk', () => {
    const chunks = decodeWhole(fixture('stream.txt'));
    expect(chunks.map((chunk) => chunk.object)).toEqual(Array(5).fill('chat.completion.chunk'));
    expect(chunks[0]).toMatchObject({
      id: 'msg_1nZdL29xx5MUA1yADyHTEsnR8uuvGzszyY',
      model: 'claude-test',
      choices: [{ index: 0, delta: { role: 'assistant', content: '' }, finish_reason: null }],
    });
    expect(text(chunks)).toBe('Hello!');
    expect(chunks[3]).toMatchObject({ choices: [{ delta: {}, finish_reason: 'stop' }] });
    expect(chunks[4]).toMatchObject({
      choices: [],
      usage: {
        prompt_tokens: 25,
        completion_tokens: 15,
        total_tokens: 40,
        prompt_tokens_details: { cached_tokens: 0 },
      },
    });
  });

  it('emits each chunk as soon as its event is complete, never waiting for the end', () => {
    const decoder = new AnthropicChunkDecoder('claude-test');
    const events = fixture('stream.txt').toString().split('\n\n');
    expect(decoder.push(Buffer.from(`${events[0]}\n\n`))).toHaveLength(1); // message_start → role chunk
    expect(decoder.usage).toEqual({ promptTokens: 25, completionTokens: 1, cachedTokens: 0 });
    decoder.push(Buffer.from(`${events[1]}\n\n${events[2]}\n\n`)); // block start, ping
    const hello = decoder.push(Buffer.from(`${events[3]}\n\n`));
    expect(text(hello)).toBe('Hello');
    // Half an event completes nothing; its other half completes it.
    const cut = events[4]!.length - 5;
    expect(decoder.push(Buffer.from(events[4]!.slice(0, cut)))).toEqual([]);
    expect(text(decoder.push(Buffer.from(`${events[4]!.slice(cut)}\n\n`)))).toBe('!');
  });

  it('streams a tool call: id and name first, then argument fragments for the same index', () => {
    const chunks = decodeWhole(fixture('stream-tool-use.txt'));
    expect(text(chunks)).toBe("Okay, let's check the weather for San Francisco, CA:");
    const calls = deltas(chunks)
      .flatMap((delta) => (delta?.tool_calls as Array<Record<string, unknown>> | undefined) ?? [])
      .filter(Boolean);
    expect(calls[0]).toEqual({
      index: 0,
      id: 'toolu_01T1x1fJ34qAmk2tNTrN7Up6',
      type: 'function',
      function: { name: 'get_weather', arguments: '' },
    });
    expect(calls.slice(1).every((call) => call.index === 0 && !('id' in call))).toBe(true);
    const args = calls.map((call) => (call.function as { arguments: string }).arguments).join('');
    expect(JSON.parse(args)).toEqual({ location: 'San Francisco, CA', unit: 'fahrenheit' });
    const reasons = chunks.map((chunk) => (chunk.choices as Array<{ finish_reason: unknown }>)[0]?.finish_reason);
    expect(reasons.filter(Boolean)).toEqual(['tool_calls']);
    expect(chunks.at(-1)?.usage).toMatchObject({ prompt_tokens: 472, completion_tokens: 89 });
  });

  it('numbers parallel tool calls 0, 1, … whatever their block index, and gives argument-less calls {}', () => {
    const events = [
      { type: 'message_start', message: { id: 'msg_p', usage: { input_tokens: 3, output_tokens: 1 } } },
      { type: 'content_block_start', index: 0, content_block: { type: 'text', text: '' } },
      { type: 'content_block_stop', index: 0 },
      { type: 'content_block_start', index: 1, content_block: { type: 'tool_use', id: 't1', name: 'a', input: {} } },
      { type: 'content_block_delta', index: 1, delta: { type: 'input_json_delta', partial_json: '{"x":1}' } },
      { type: 'content_block_stop', index: 1 },
      { type: 'content_block_start', index: 2, content_block: { type: 'tool_use', id: 't2', name: 'now', input: {} } },
      { type: 'content_block_stop', index: 2 },
      { type: 'message_delta', delta: { stop_reason: 'tool_use' }, usage: { output_tokens: 9 } },
      { type: 'message_stop' },
    ];
    const sse = events.map((event) => `event: ${event.type}\ndata: ${JSON.stringify(event)}\n\n`).join('');
    const calls = deltas(decodeWhole(Buffer.from(sse))).flatMap(
      (delta) => (delta?.tool_calls as Array<{ index: number; id?: string; function: { arguments: string } }>) ?? [],
    );
    expect(calls.map((call) => [call.index, call.id, call.function.arguments])).toEqual([
      [0, 't1', ''],
      [0, undefined, '{"x":1}'],
      [1, 't2', ''],
      [1, undefined, '{}'],
    ]);
  });

  it('carries thinking as reasoning_content and survives a stream that reports no usage', () => {
    const chunks = decodeWhole(fixture('stream-thinking.txt'));
    const reasoning = deltas(chunks)
      .map((delta) => delta?.reasoning_content ?? '')
      .join('');
    expect(reasoning).toContain('10,800 + 1,350 + 81 = 12,231');
    expect(text(chunks)).toBe('27 * 453 = 12,231');
    expect(chunks.some((chunk) => Array.isArray(chunk.choices) && chunk.choices.length === 0)).toBe(false);
  });

  it('adds later cumulative input counts from message_delta to the usage', () => {
    const decoder = new AnthropicChunkDecoder('m');
    const event = (data: object) => Buffer.from(`data: ${JSON.stringify(data)}\n\n`);
    decoder.push(event({ type: 'message_start', message: { id: 'x', usage: { input_tokens: 10, output_tokens: 1 } } }));
    decoder.push(
      event({
        type: 'message_delta',
        delta: { stop_reason: 'end_turn' },
        usage: { input_tokens: 12, cache_read_input_tokens: 100, cache_creation_input_tokens: null, output_tokens: 4 },
      }),
    );
    expect(decoder.usage).toEqual({ promptTokens: 112, completionTokens: 4, cachedTokens: 100 });
    // Cut before message_stop: end() still reports the usage.
    expect(decoder.end()).toMatchObject([{ choices: [], usage: { prompt_tokens: 112, completion_tokens: 4 } }]);
  });

  it("throws the provider's message on an error event, after the chunks that came before it", () => {
    const decoder = new AnthropicChunkDecoder('claude-test');
    const chunks = decoder.push(fixture('stream-error.txt'));
    expect(text(chunks)).toBe('Hello');
    let thrown: unknown;
    try {
      decoder.end();
    } catch (error) {
      thrown = error;
    }
    expect(thrown).toBeInstanceOf(AnthropicStreamError);
    expect(thrown).toMatchObject({ message: 'Overloaded', type: 'overloaded_error' });

    const alone = new AnthropicChunkDecoder('claude-test');
    const error =
      'event: error\ndata: {"type":"error","error":{"type":"api_error","message":"Internal server error"}}\n\n';
    expect(() => alone.push(Buffer.from(error))).toThrow('Internal server error');
  });
});
