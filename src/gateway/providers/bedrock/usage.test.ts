import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { usageFromOpenAI } from '../../metering/cost.ts';
import { messagesUsage } from '../anthropic/usage.ts';
import { chatResponse } from './response.ts';
import { usageOf } from './usage.ts';

const fixture = (name: string) => readFileSync(new URL(`../../../../test/fixtures/bedrock/${name}`, import.meta.url));

describe('Bedrock usage', () => {
  it('splits cache writes by life with `cacheDetails`, reads as cached', () => {
    const { body, usage } = chatResponse(fixture('converse-cache-write.json'), 'claude');
    const expected = {
      promptTokens: 12 + 200 + 3000,
      completionTokens: 18,
      cachedTokens: 200,
      cacheWriteTokens: 2000,
      cacheWrite1hTokens: 1000,
    };
    expect(usage).toEqual(expected);
    expect(usageFromOpenAI(body.usage as never)).toEqual(expected);
  });

  it('takes writes without details as 5-minute writes', () => {
    expect(
      usageOf({ inputTokens: 12, outputTokens: 18, cacheReadInputTokens: 1800, cacheWriteInputTokens: 248 }),
    ).toEqual({ promptTokens: 2060, completionTokens: 18, cachedTokens: 1800, cacheWriteTokens: 248 });
    expect(usageOf({ inputTokens: 3, outputTokens: 1, cacheDetails: [] })).toEqual({
      promptTokens: 3,
      completionTokens: 1,
      cachedTokens: 0,
    });
  });

  it('gives a caller of the Messages API the real cache writes, not 0', () => {
    const { body } = chatResponse(fixture('converse-cache-write.json'), 'claude');
    expect(messagesUsage(usageFromOpenAI(body.usage as never) as never)).toEqual({
      input_tokens: 12,
      output_tokens: 18,
      cache_creation_input_tokens: 3000,
      cache_read_input_tokens: 200,
      cache_creation: { ephemeral_5m_input_tokens: 2000, ephemeral_1h_input_tokens: 1000 },
    });
  });
});
