import { describe, expect, it } from 'vitest';
import { encodeEvent, encodeException, streamFixtures } from '../../../../test/support/fake-bedrock.ts';
import type { OpenAIObject } from '../adapter.ts';
import { BedrockStreamError, chatStream } from './stream.ts';

type Fixture = Array<{ event: string; payload: unknown }>;
const encode = (events: Fixture) => events.map(({ event, payload }) => encodeEvent(event, payload));
const join = (frames: Uint8Array[]) => new Uint8Array(Buffer.concat(frames));

/** Feeds the bytes cut at the given offsets; returns the chunks without id/created. */
function decode(bytes: Uint8Array, cuts: number[]): OpenAIObject[] {
  const decoder = chatStream('claude');
  const chunks: OpenAIObject[] = [];
  let start = 0;
  for (const cut of [...cuts, bytes.byteLength]) {
    chunks.push(...decoder.push(bytes.subarray(start, cut)));
    start = cut;
  }
  chunks.push(...decoder.end());
  return chunks.map(({ id: _id, created: _created, ...rest }) => rest);
}

const deltas = (chunks: OpenAIObject[]) =>
  chunks.flatMap((chunk) => (chunk.choices as Array<{ delta: Record<string, any> }>).map((choice) => choice.delta));

describe('Bedrock stream decoder', () => {
  const text = join(encode(streamFixtures.text));

  it('gives the same chunks whether the stream arrives at once, byte by byte or in random cuts', () => {
    const whole = decode(text, []);
    const byteByByte = decode(
      text,
      Array.from({ length: text.byteLength - 1 }, (_, i) => i + 1),
    );
    let seed = 7;
    const random = Array.from({ length: 40 }, () => {
      seed = (seed * 1103515245 + 12345) % 2 ** 31;
      return seed % text.byteLength;
    }).sort((a, b) => a - b);
    expect(byteByByte).toEqual(whole);
    expect(decode(text, random)).toEqual(whole);
  });

  it('translates messageStart, text deltas, messageStop and metadata into OpenAI chunks', () => {
    const chunks = decode(text, []);
    expect(chunks[0]).toEqual({
      object: 'chat.completion.chunk',
      model: 'claude',
      choices: [{ index: 0, delta: { role: 'assistant', content: '' }, logprobs: null, finish_reason: null }],
    });
    const content = deltas(chunks)
      .map((delta) => delta.content ?? '')
      .join('');
    expect(content).toBe(
      'Here is a list of 3 pop songs by artists from the United Kingdom:\n\n1. "Wannabe" by Spice Girls\n2. "Bitter Sweet Symphony" by The Verve\n3. "Don\'t Look Back in Anger" by Oasis',
    );
    expect(chunks.at(-2)).toMatchObject({ choices: [{ delta: {}, finish_reason: 'stop' }] });
    expect(chunks.at(-1)).toEqual({
      object: 'chat.completion.chunk',
      model: 'claude',
      choices: [],
      usage: {
        prompt_tokens: 125,
        completion_tokens: 60,
        total_tokens: 185,
        prompt_tokens_details: { cached_tokens: 0 },
        completion_tokens_details: { reasoning_tokens: 0 },
      },
    });
  });

  it('emits each event as soon as its last byte arrives, long before the stream ends', () => {
    const frames = encode(streamFixtures.text);
    const decoder = chatStream('claude');
    const firstTwo = frames[0]!.byteLength + frames[1]!.byteLength;
    const bytes = join(frames);
    expect(decoder.push(bytes.subarray(0, firstTwo - 1)).length).toBe(1); // the role chunk only
    const next = decoder.push(bytes.subarray(firstTwo - 1, firstTwo + 3));
    expect(deltas(next)).toEqual([{ content: 'Here is a list of 3 pop songs' }]);
    expect(decoder.usage).toBeUndefined();
    decoder.push(bytes.subarray(firstTwo + 3));
    expect(decoder.usage).toEqual({ promptTokens: 125, completionTokens: 60, cachedTokens: 0 });
  });

  it('streams a tool call: index, id and name first, then the argument deltas', () => {
    const chunks = decode(join(encode(streamFixtures.toolUse)), []);
    const calls = deltas(chunks).flatMap((delta) => delta.tool_calls ?? []);
    expect(calls[0]).toEqual({
      index: 0,
      id: 'tooluse_kZJMlvQmRJ6eAyJE5GIl7Q',
      type: 'function',
      function: { name: 'top_song', arguments: '' },
    });
    expect(calls.slice(1)).toEqual([
      { index: 0, function: { arguments: '{"sign": ' } },
      { index: 0, function: { arguments: '"WZPZ"}' } },
    ]);
    expect(JSON.parse(calls.map((call) => call.function.arguments).join(''))).toEqual({ sign: 'WZPZ' });
    expect(chunks.at(-2)).toMatchObject({ choices: [{ finish_reason: 'tool_calls' }] });
  });

  it('numbers several tool calls in order', () => {
    const start = (block: number, id: string) =>
      encodeEvent('contentBlockStart', { contentBlockIndex: block, start: { toolUse: { toolUseId: id, name: 'f' } } });
    const input = (block: number, json: string) =>
      encodeEvent('contentBlockDelta', { contentBlockIndex: block, delta: { toolUse: { input: json } } });
    const chunks = decode(join([start(0, 'a'), input(0, '{}'), start(1, 'b'), input(1, '{"x":1}')]), []);
    const calls = deltas(chunks).flatMap((delta) => delta.tool_calls ?? []);
    expect(calls.map((call) => [call.index, call.id ?? null, call.function.arguments])).toEqual([
      [0, 'a', ''],
      [0, null, '{}'],
      [1, 'b', ''],
      [1, null, '{"x":1}'],
    ]);
    expect(deltas(chunks)[0]!.role).toBe('assistant');
  });

  it('reports cache reads and writes from the metadata event', () => {
    const decoder = chatStream('claude');
    const [usageChunk] = decoder.push(
      encodeEvent('metadata', {
        usage: { inputTokens: 10, outputTokens: 5, cacheReadInputTokens: 100, cacheWriteInputTokens: 20 },
      }),
    );
    expect(usageChunk?.usage).toMatchObject({
      prompt_tokens: 130,
      completion_tokens: 5,
      prompt_tokens_details: { cached_tokens: 100, cache_write_tokens: 20 },
    });
    expect(decoder.usage).toEqual({ promptTokens: 130, completionTokens: 5, cachedTokens: 100, cacheWriteTokens: 20 });
  });

  it("throws Bedrock's message on an exception event", () => {
    const decoder = chatStream('claude');
    decoder.push(encodeEvent('messageStart', { role: 'assistant' }));
    let error: unknown;
    try {
      decoder.push(encodeException('throttlingException', 'Too many requests, please wait before trying again.'));
    } catch (caught) {
      error = caught;
    }
    expect(error).toBeInstanceOf(BedrockStreamError);
    expect((error as BedrockStreamError).message).toBe('Too many requests, please wait before trying again.');
    expect((error as BedrockStreamError).type).toBe('throttlingException');
  });

  it('returns what came before an exception in the same bytes, and throws on the next call', () => {
    const decoder = chatStream('claude');
    const chunks = decoder.push(
      join([
        encodeEvent('messageStart', { role: 'assistant' }),
        encodeEvent('contentBlockDelta', { contentBlockIndex: 0, delta: { text: 'Partial' } }),
        encodeException('modelStreamErrorException', 'The model stopped unexpectedly.'),
      ]),
    );
    expect(deltas(chunks).map((delta) => delta.content)).toEqual(['', 'Partial']);
    expect(() => decoder.end()).toThrow('The model stopped unexpectedly.');
  });

  it('fails a stream cut in the middle of an event, and a corrupt one', () => {
    const decoder = chatStream('claude');
    const frame = encodeEvent('messageStart', { role: 'assistant' });
    decoder.push(frame.subarray(0, 20));
    expect(() => decoder.end()).toThrow(/middle of an event/);
    const corrupt = new Uint8Array(frame);
    corrupt[corrupt.byteLength - 6]! ^= 0xff;
    expect(() => chatStream('claude').push(corrupt)).toThrow(/checksum/);
  });
});
