import { describe, expect, it } from 'vitest';
import { costOf, usageFromOpenAI } from './cost.ts';

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

describe('usage in a raw OpenAI response', async () => {
  const { usageIn } = await import('../serve-openai.ts');
  it('reads the usage object without the rest, including cached tokens', () => {
    const text = JSON.stringify({
      id: 'x',
      choices: [{ message: { content: 'a "usage": {"prompt_tokens": 99} trap' } }],
      usage: { prompt_tokens: 12, completion_tokens: 3, prompt_tokens_details: { cached_tokens: 2 } },
    });
    expect(usageIn(text)).toEqual({ promptTokens: 12, completionTokens: 3, cachedTokens: 2 });
    expect(usageIn('{"usage": null}')).toBeUndefined();
    expect(usageIn('{"choices": []}')).toBeUndefined();
    expect(usageIn('{"usage":\n {"prompt_tokens": 1}}')).toEqual({
      promptTokens: 1,
      completionTokens: 0,
      cachedTokens: 0,
    });
  });
});
