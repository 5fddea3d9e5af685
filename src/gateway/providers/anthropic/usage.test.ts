import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { costOf, usageFromOpenAI } from '../../metering/cost.ts';
import { anthropicAdapter } from './index.ts';
import { AnthropicChunkDecoder } from './stream.ts';
import { AnthropicUsageTap, messagesUsage, usageFromAnthropic, usageFromAnthropicMessage } from './usage.ts';

const fixture = (name: string) => readFileSync(new URL(`../../../../test/fixtures/anthropic/${name}`, import.meta.url));
const events = (name: string) =>
  fixture(name)
    .toString()
    .split('\n\n')
    .filter((event) => event.trim() !== '');

/** message-cache-write.json: 50 plain, 3,000 written (2,000 for 5 minutes, 1,000 for 1 hour), 120 out. */
const WRITTEN = {
  promptTokens: 3050,
  completionTokens: 120,
  cachedTokens: 0,
  cacheWriteTokens: 2000,
  cacheWrite1hTokens: 1000,
};

describe('Anthropic usage', () => {
  it('reads cache writes by life from `cache_creation`', () => {
    expect(usageFromAnthropicMessage(fixture('message-cache-write.json'))).toEqual(WRITTEN);
  });

  it('takes writes without a breakdown as 5-minute writes, and reads as cached', () => {
    expect(usageFromAnthropicMessage(fixture('message-cached.json'))).toEqual({
      promptTokens: 21 + 188086,
      completionTokens: 393,
      cachedTokens: 188086,
    });
    expect(usageFromAnthropic({ input_tokens: 5, cache_creation_input_tokens: 300, output_tokens: 2 })).toEqual({
      promptTokens: 305,
      completionTokens: 2,
      cachedTokens: 0,
      cacheWriteTokens: 300,
    });
  });

  it('never counts fewer writes than the breakdown holds, nor a malformed count', () => {
    expect(
      usageFromAnthropic({
        input_tokens: Number.NaN,
        cache_creation_input_tokens: null,
        cache_creation: { ephemeral_5m_input_tokens: 10, ephemeral_1h_input_tokens: 20 },
        output_tokens: 1,
      }),
    ).toEqual({ promptTokens: 30, completionTokens: 1, cachedTokens: 0, cacheWriteTokens: 10, cacheWrite1hTokens: 20 });
  });

  it('keeps the writes of `message_start` when `message_delta` repeats the totals without the breakdown', () => {
    const tap = new AnthropicUsageTap();
    for (const event of events('stream-cache-write.txt')) tap.observe(event);
    expect(tap.usage).toEqual(WRITTEN);
  });

  it('carries the writes through a translating adapter, whole and streamed, so the record and the caller see them', () => {
    const { body, usage } = anthropicAdapter.chatResponse(fixture('message-cache-write.json'), 'claude');
    expect(usage).toEqual(WRITTEN);
    expect(body.usage).toMatchObject({
      prompt_tokens: 3050,
      prompt_tokens_details: { cached_tokens: 0, cache_write_tokens: 3000, cache_write_1h_tokens: 1000 },
    });
    expect(usageFromOpenAI(body.usage as never)).toEqual(WRITTEN);

    const decoder = new AnthropicChunkDecoder('claude');
    const chunks = [...decoder.push(fixture('stream-cache-write.txt')), ...decoder.end()];
    expect(decoder.usage).toEqual(WRITTEN);
    expect(usageFromOpenAI(chunks.at(-1)?.usage as never)).toEqual(WRITTEN);
  });

  it('writes usage back for a caller of the Messages API: input without reads and writes, writes by life', () => {
    expect(messagesUsage(WRITTEN)).toEqual({
      input_tokens: 50,
      output_tokens: 120,
      cache_creation_input_tokens: 3000,
      cache_read_input_tokens: 0,
      cache_creation: { ephemeral_5m_input_tokens: 2000, ephemeral_1h_input_tokens: 1000 },
    });
    expect(messagesUsage({ promptTokens: 120, completionTokens: 4, cachedTokens: 100 })).toEqual({
      input_tokens: 20,
      output_tokens: 4,
      cache_creation_input_tokens: 0,
      cache_read_input_tokens: 100,
    });
    expect(usageFromAnthropic(messagesUsage(WRITTEN))).toEqual(WRITTEN);
  });

  it('bills the writes at 1.25× and 2× the input price', () => {
    const sonnet = { input: 3, output: 15, cachedInput: 0.3, cacheWriteInput: 3.75, cacheWrite1hInput: 6 };
    // 50 × $3 + 2,000 × $3.75 + 1,000 × $6 + 120 × $15 = $15,450 per million
    expect(costOf(WRITTEN, sonnet)).toBeCloseTo(0.01545, 12);
  });
});
