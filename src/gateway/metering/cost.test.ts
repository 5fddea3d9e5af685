import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { costOf, openaiUsage, usageFromOpenAI, wellFormedUsage } from './cost.ts';

describe('cost', () => {
  it('prices prompt and completion tokens per million', () => {
    expect(
      costOf(
        { promptTokens: 1_000_000, completionTokens: 500_000, cachedTokens: 0 },
        { input: 2.5, output: 10, cachedInput: null },
      ),
    ).toBeCloseTo(7.5);
  });

  it('prices cached prompt tokens at the cached price, or the input price when none is set', () => {
    const usage = { promptTokens: 1000, completionTokens: 0, cachedTokens: 400 };
    expect(costOf(usage, { input: 2, output: 0, cachedInput: 0.5 })).toBeCloseTo((600 * 2 + 400 * 0.5) / 1e6);
    expect(costOf(usage, { input: 2, output: 0, cachedInput: null })).toBeCloseTo((1000 * 2) / 1e6);
  });

  it('reads OpenAI usage including cached tokens', () => {
    expect(
      usageFromOpenAI({ prompt_tokens: 10, completion_tokens: 5, prompt_tokens_details: { cached_tokens: 3 } }),
    ).toEqual({
      promptTokens: 10,
      completionTokens: 5,
      cachedTokens: 3,
    });
    expect(usageFromOpenAI({ prompt_tokens: 7 })).toEqual({ promptTokens: 7, completionTokens: 0, cachedTokens: 0 });
    expect(usageFromOpenAI(null)).toBeUndefined();
  });
});

/** The worked examples of docs/metering.md, to the last digit. */
describe('cost per token class (docs/metering.md)', () => {
  const sonnet = { input: 3, output: 15, cachedInput: 0.3, cacheWriteInput: 3.75, cacheWrite1hInput: 6 };

  it('bills a Claude call: plain input, cache reads 0.1×, 5-minute writes 1.25×, 1-hour writes 2×, output', () => {
    // Anthropic reported input_tokens 1,000, cache_read_input_tokens 20,000, cache_creation_input_tokens
    // 6,000 of which ephemeral_5m 4,000 and ephemeral_1h 2,000, output_tokens 500.
    const usage = {
      promptTokens: 27_000,
      completionTokens: 500,
      cachedTokens: 20_000,
      cacheWriteTokens: 4_000,
      cacheWrite1hTokens: 2_000,
    };
    // 1,000 × $3 + 20,000 × $0.30 + 4,000 × $3.75 + 2,000 × $6 + 500 × $15 = $43,500 per million = $0.0435
    expect(costOf(usage, sonnet)).toBeCloseTo(0.0435, 12);
    // Before cache-write prices, the same call cost $0.0345: every write at the input price.
    expect(costOf(usage, { input: 3, output: 15, cachedInput: 0.3 })).toBeCloseTo(0.0345, 12);
  });

  it('bills an OpenAI call: cached input at the cached price, reasoning as output', () => {
    const usage = usageFromOpenAI({
      prompt_tokens: 10_000,
      completion_tokens: 2_000,
      total_tokens: 12_000,
      prompt_tokens_details: { cached_tokens: 8_000 },
      completion_tokens_details: { reasoning_tokens: 1_500 },
    });
    expect(usage).toEqual({
      promptTokens: 10_000,
      completionTokens: 2_000,
      cachedTokens: 8_000,
      reasoningTokens: 1_500,
    });
    // 2,000 × $2.50 + 8,000 × $0.25 + 2,000 × $15 = $37,000 per million = $0.037
    expect(costOf(usage as never, { input: 2.5, output: 15, cachedInput: 0.25 })).toBeCloseTo(0.037, 12);
  });

  it('bills a model whose input price was given, with cache prices derived from it', () => {
    // claude-sonnet-4-5 at a negotiated $2 input: cached $0.20, writes $2.50 and $4, output $15 (catalogue).
    const prices = { input: 2, output: 15, cachedInput: 0.2, cacheWriteInput: 2.5, cacheWrite1hInput: 4 };
    const usage = { promptTokens: 13_000, completionTokens: 100, cachedTokens: 10_000, cacheWriteTokens: 2_000 };
    // 1,000 × $2 + 10,000 × $0.20 + 2,000 × $2.50 + 100 × $15 = $10,500 per million = $0.0105
    expect(costOf(usage, prices)).toBeCloseTo(0.0105, 12);
  });

  it('falls back: cache reads and 5-minute writes at the input price, 1-hour writes at the 5-minute price', () => {
    const usage = {
      promptTokens: 1000,
      completionTokens: 0,
      cachedTokens: 100,
      cacheWriteTokens: 200,
      cacheWrite1hTokens: 300,
    };
    expect(costOf(usage, { input: 2, output: 0, cachedInput: null })).toBeCloseTo((1000 * 2) / 1e6, 12);
    expect(costOf(usage, { input: 2, output: 0, cachedInput: 1, cacheWriteInput: 3 })).toBeCloseTo(
      (400 * 2 + 100 * 1 + 500 * 3) / 1e6,
      12,
    );
  });

  it('never bills a part beyond its total, nor a malformed count', () => {
    const usage = {
      promptTokens: 100,
      completionTokens: 10,
      cachedTokens: 80,
      cacheWriteTokens: 50,
      cacheWrite1hTokens: 15,
      reasoningTokens: 99,
    };
    expect(wellFormedUsage(usage)).toEqual({
      promptTokens: 100,
      completionTokens: 10,
      cachedTokens: 80,
      cacheWrite1hTokens: 15,
      cacheWriteTokens: 5,
      reasoningTokens: 10,
    });
    expect(costOf(usage, sonnet)).toBeCloseTo((80 * 0.3 + 15 * 6 + 5 * 3.75 + 10 * 15) / 1e6, 12);
    expect(
      wellFormedUsage({
        promptTokens: 5.7,
        completionTokens: -3,
        cachedTokens: Number.NaN,
        cacheWriteTokens: Number.POSITIVE_INFINITY,
        reasoningTokens: 2,
        source: 'counted',
      }),
    ).toEqual({ promptTokens: 5, completionTokens: 0, cachedTokens: 0, source: 'counted' });
  });
});

describe('OpenAI usage objects', () => {
  const fixture = (name: string) =>
    JSON.parse(readFileSync(new URL(`../../../test/fixtures/openai/${name}`, import.meta.url), 'utf8'));

  it('reads cached input and reasoning from recorded answers', () => {
    expect(usageFromOpenAI(fixture('chat-completion-reasoning.json').usage)).toEqual({
      promptTokens: 2048,
      completionTokens: 1500,
      cachedTokens: 1024,
      reasoningTokens: 1280,
    });
    expect(usageFromOpenAI(fixture('chat-completion.json').usage)).toEqual({
      promptTokens: 19,
      completionTokens: 10,
      cachedTokens: 0,
    });
    expect(usageFromOpenAI(fixture('responses.json').usage)).toEqual({
      promptTokens: 1187,
      completionTokens: 73,
      cachedTokens: 384,
      reasoningTokens: 17,
    });
  });

  it('reads the Responses API names', () => {
    expect(
      usageFromOpenAI({
        input_tokens: 328,
        output_tokens: 52,
        total_tokens: 380,
        input_tokens_details: { cached_tokens: 256 },
        output_tokens_details: { reasoning_tokens: 40 },
      }),
    ).toEqual({ promptTokens: 328, completionTokens: 52, cachedTokens: 256, reasoningTokens: 40 });
  });

  it("adds reasoning to the output when the server counts it apart (xAI's total shows it)", () => {
    // xAI: completion_tokens 9 excludes 94 reasoning tokens; total 135 = 32 + 9 + 94.
    expect(
      usageFromOpenAI({
        prompt_tokens: 32,
        completion_tokens: 9,
        total_tokens: 135,
        completion_tokens_details: { reasoning_tokens: 94 },
      }),
    ).toEqual({ promptTokens: 32, completionTokens: 103, cachedTokens: 0, reasoningTokens: 94 });
  });

  it("reads DeepSeek's cache hits and OpenRouter's cache writes", () => {
    expect(usageFromOpenAI({ prompt_tokens: 100, completion_tokens: 1, prompt_cache_hit_tokens: 64 } as never)).toEqual(
      { promptTokens: 100, completionTokens: 1, cachedTokens: 64 },
    );
    expect(
      usageFromOpenAI({
        prompt_tokens: 194,
        completion_tokens: 2,
        prompt_tokens_details: { cached_tokens: 0, cache_write_tokens: 100 },
      }),
    ).toEqual({ promptTokens: 194, completionTokens: 2, cachedTokens: 0, cacheWriteTokens: 100 });
  });

  it('writes every class, and reads back what it wrote', () => {
    const usage = {
      promptTokens: 27_000,
      completionTokens: 500,
      cachedTokens: 20_000,
      cacheWriteTokens: 4_000,
      cacheWrite1hTokens: 2_000,
      reasoningTokens: 120,
    };
    const written = openaiUsage(usage);
    expect(written).toEqual({
      prompt_tokens: 27_000,
      completion_tokens: 500,
      total_tokens: 27_500,
      prompt_tokens_details: { cached_tokens: 20_000, cache_write_tokens: 6_000, cache_write_1h_tokens: 2_000 },
      completion_tokens_details: { reasoning_tokens: 120 },
    });
    expect(usageFromOpenAI(written as never)).toEqual(usage);
  });
});
