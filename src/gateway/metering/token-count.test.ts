import { encodeChat } from 'gpt-tokenizer/encoding/o200k_base';
import { describe, expect, it } from 'vitest';
import {
  countChatTokens,
  countEmbeddingTokens,
  countMessageTokens,
  countTextTokens,
  countToolTokens,
} from './token-count.ts';

describe('token counting (o200k_base)', () => {
  it('counts known strings', () => {
    expect(countTextTokens('hello world')).toBe(2);
    expect(countTextTokens('The quick brown fox jumps over the lazy dog.')).toBe(10);
    expect(countTextTokens('')).toBe(0);
  });

  it('counts special-token text as ordinary text instead of refusing it', () => {
    expect(countTextTokens('a <|endoftext|> b')).toBeGreaterThan(3);
  });

  it('frames messages as OpenAI does: 3 per message + role + content, 3 to prime the reply', () => {
    // <|im_start|>user<|im_sep|>hello world<|im_end|><|im_start|>assistant<|im_sep|>
    expect(countChatTokens([{ role: 'user', content: 'hello world' }]).promptTokens).toBe(9);
  });

  it('agrees with the chat encoding of plain conversations', () => {
    const chat = [
      { role: 'system', content: 'You are a terse assistant.' },
      { role: 'user', content: 'What is the capital of France?' },
      { role: 'assistant', content: 'Paris.' },
      { role: 'user', content: 'And of Italy? Answer in one word, please.' },
    ] as const;
    expect(countChatTokens(chat as unknown as Array<Record<string, unknown>>).promptTokens).toBe(
      encodeChat(chat as never, 'gpt-4o').length,
    );
  });

  it('counts text parts and estimates images', () => {
    const parts = countMessageTokens({
      role: 'user',
      content: [
        { type: 'text', text: 'hello world' },
        { type: 'image_url', image_url: { url: 'data:image/png;base64,AAAA', detail: 'low' } },
      ],
    });
    expect(parts).toBe(3 + 1 + 2 + 85);
    const high = countMessageTokens({ role: 'user', content: [{ type: 'image_url', image_url: { url: 'x' } }] });
    expect(high).toBe(3 + 1 + 765);
  });

  it('counts names, tool calls and tool results', () => {
    const name = countMessageTokens({ role: 'user', name: 'alice', content: 'hello world' });
    expect(name).toBe(3 + 1 + 2 + countTextTokens('alice') + 1);
    const call = {
      id: 'call_1',
      type: 'function',
      function: { name: 'get_weather', arguments: '{"city":"Paris"}' },
    };
    const assistant = countMessageTokens({ role: 'assistant', content: null, tool_calls: [call, call] });
    const oneCall = countTextTokens('get_weather') + countTextTokens('{"city":"Paris"}') + 3;
    expect(assistant).toBe(3 + countTextTokens('assistant') + 2 * oneCall);
    const result = countMessageTokens({ role: 'tool', tool_call_id: 'call_1', content: '{"temp":21}' });
    expect(result).toBe(3 + countTextTokens('tool') + countTextTokens('call_1') + countTextTokens('{"temp":21}'));
  });

  it('adds tool definitions to the prompt', () => {
    const tools = [
      {
        type: 'function',
        function: {
          name: 'get_weather',
          description: 'Current weather in a city',
          parameters: { type: 'object', properties: { city: { type: 'string' } }, required: ['city'] },
        },
      },
    ];
    const definitions = countToolTokens(tools);
    expect(definitions).toBeGreaterThan(15);
    const messages = [{ role: 'user', content: 'hello world' }];
    expect(countChatTokens(messages, '', { tools }).promptTokens).toBe(9 + definitions);
    const withSystem = [{ role: 'system', content: 'be brief' }, ...messages];
    expect(countChatTokens(withSystem, '', { tools }).promptTokens).toBe(
      countChatTokens(withSystem).promptTokens + definitions - 4,
    );
    // Schemas Tollgate does not understand still count as something, never throw.
    expect(countToolTokens([{ type: 'function', function: { name: 'f', parameters: { anyOf: [] } } }])).toBeGreaterThan(
      0,
    );
  });

  it('counts the completion text and streamed tool calls', () => {
    expect(countChatTokens([], 'hello world').completionTokens).toBe(2);
    const completionToolCalls = [{ function: { name: 'get_weather', arguments: '{"city":"Paris"}' } }];
    expect(countChatTokens([], '', { completionToolCalls }).completionTokens).toBe(
      countTextTokens('get_weather') + countTextTokens('{"city":"Paris"}') + 3,
    );
  });

  it('ignores malformed messages instead of throwing', () => {
    const messages = [null, 'text', { role: 'user', content: 42 }] as unknown as Array<Record<string, unknown>>;
    expect(countChatTokens(messages).promptTokens).toBe(3 + 3 + 1);
  });

  it('counts embedding inputs', () => {
    expect(countEmbeddingTokens('hello world')).toBe(2);
    expect(countEmbeddingTokens(['hello world', 'hello'])).toBe(3);
    expect(countEmbeddingTokens([1, 2, 3])).toBe(3);
    expect(countEmbeddingTokens([[1, 2], [3]])).toBe(3);
    expect(countEmbeddingTokens(undefined)).toBe(0);
  });

  it('is fast enough for a long prompt', () => {
    const text = 'Tollgate counts tokens when a provider does not. '.repeat(2_000);
    const started = performance.now();
    const { promptTokens } = countChatTokens([{ role: 'user', content: text }]);
    expect(promptTokens).toBeGreaterThan(10_000);
    expect(performance.now() - started).toBeLessThan(1_000);
  });
});

describe('counting hostile text', () => {
  it('counts one long run without white space in linear time, close to the exact count', () => {
    // Exact BPE on 64,000 characters without a space took 3.5 s, so 2 MB would outlast this
    // test's timeout by many minutes; counted in slices it is 250,000 tokens, as exact BPE says.
    expect(countTextTokens('x'.repeat(2_000_000))).toBe(250_000);
    const exact = countTextTokens('x'.repeat(1_000));
    const sliced = countTextTokens(`hello ${'x'.repeat(1_000)} world`) - countTextTokens('hello  world');
    expect(Math.abs(sliced - exact)).toBeLessThanOrEqual(4);
  });
});
