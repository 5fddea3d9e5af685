import { describe, expect, it } from 'vitest';
import { CATALOG_CHECKED, CATALOG_PROVIDERS, catalogEntries, lookupPrice, normalizeModelId } from './index.ts';

describe('price catalogue data', () => {
  it('is dated and covers every provider it names', () => {
    expect(CATALOG_CHECKED).toMatch(/^\d{4}-\d{2}-\d{2}$/);
    const providers = new Set(catalogEntries().map((entry) => entry.provider));
    expect([...providers].sort()).toEqual([...CATALOG_PROVIDERS].sort());
  });

  it('prices cached input below input and output at or above input for chat models', () => {
    for (const entry of catalogEntries()) {
      if (entry.cachedInput !== null) expect(entry.cachedInput, entry.model).toBeLessThan(entry.input);
      if (entry.maxOutputTokens !== null && entry.contextWindow !== null) {
        expect(entry.maxOutputTokens, entry.model).toBeLessThanOrEqual(entry.contextWindow);
      }
    }
  });

  it('finds every entry by its own id', () => {
    for (const entry of catalogEntries()) expect(lookupPrice(entry.provider, entry.model)).toBe(entry);
  });
});

describe('lookupPrice', () => {
  it('matches exact ids, in any case', () => {
    expect(lookupPrice('openai', 'gpt-4o')).toMatchObject({ input: 2.5, output: 10, cachedInput: 1.25 });
    expect(lookupPrice('together', 'meta-llama/llama-3.3-70b-instruct-turbo')?.model).toBe(
      'meta-llama/Llama-3.3-70B-Instruct-Turbo',
    );
  });

  it('matches dated snapshots to their model', () => {
    expect(lookupPrice('openai', 'gpt-4o-2024-08-06')?.model).toBe('gpt-4o');
    expect(lookupPrice('openai', 'gpt-4o-mini-2024-07-18')?.model).toBe('gpt-4o-mini');
    expect(lookupPrice('openai', 'gpt-5.4-2026-03-05')?.model).toBe('gpt-5.4');
    expect(lookupPrice('anthropic', 'claude-sonnet-4-5-20250929')?.model).toBe('claude-sonnet-4-5');
    expect(lookupPrice('anthropic', 'claude-haiku-4-5-20251001')).toMatchObject({ input: 1, output: 5 });
    expect(lookupPrice('xai', 'grok-4')?.model).toBe('grok-4-0709');
    expect(lookupPrice('xai', 'grok-4.20-reasoning')?.model).toBe('grok-4.20-0309-reasoning');
  });

  it('matches aliases and versions', () => {
    expect(lookupPrice('mistral', 'mistral-large-2512')?.model).toBe('mistral-large-latest');
    expect(lookupPrice('mistral', 'mistral-large-2411')).toMatchObject({ input: 2, output: 6 });
    expect(lookupPrice('gemini', 'gemini-3.1-flash-lite-preview')?.model).toBe('gemini-3.1-flash-lite');
    expect(lookupPrice('gemini', 'models/gemini-2.5-flash')?.model).toBe('gemini-2.5-flash');
    expect(lookupPrice('gemini', 'gemini-2.5-flash-preview-09-2025')?.model).toBe('gemini-2.5-flash');
    expect(lookupPrice('gemini', 'gemini-3-flash')?.model).toBe('gemini-3-flash-preview');
    expect(lookupPrice('google', 'gemini-2.5-pro')?.model).toBe('gemini-2.5-pro');
    expect(lookupPrice('fireworks', 'gpt-oss-120b')?.model).toBe('accounts/fireworks/models/gpt-oss-120b');
  });

  it('matches Bedrock ids with versions and cross-region inference profiles', () => {
    expect(lookupPrice('bedrock', 'anthropic.claude-sonnet-4-5-20250929-v1:0')).toMatchObject({ input: 3 });
    expect(lookupPrice('bedrock', 'us.anthropic.claude-sonnet-4-5-20250929-v1:0')?.model).toBe(
      'anthropic.claude-sonnet-4-5-20250929-v1:0',
    );
    expect(lookupPrice('bedrock', 'global.anthropic.claude-haiku-4-5-20251001-v1:0')).toMatchObject({ output: 5 });
    expect(lookupPrice('bedrock', 'eu.amazon.nova-pro-v1:0')).toMatchObject({ input: 0.8, output: 3.2 });
    expect(lookupPrice('bedrock', 'us.meta.llama4-maverick-17b-instruct-v1:0')).toMatchObject({ input: 0.24 });
    expect(lookupPrice('bedrock', 'apac.amazon.nova-micro-v1:0')?.model).toBe('amazon.nova-micro-v1:0');
  });

  it("falls back to Anthropic's price for Claude models the Bedrock list lacks", () => {
    const sonnet5 = lookupPrice('bedrock', 'us.anthropic.claude-sonnet-5');
    expect(sonnet5).toMatchObject({ provider: 'anthropic', model: 'claude-sonnet-5', input: 3, output: 15 });
  });

  it("prices Azure OpenAI and OpenRouter models at the vendor's list price", () => {
    expect(lookupPrice('azure', 'gpt-4.1-mini')?.model).toBe('gpt-4.1-mini');
    expect(lookupPrice('openrouter', 'anthropic/claude-sonnet-4.5')?.model).toBe('claude-sonnet-4-5');
    expect(lookupPrice('openrouter', 'openai/gpt-5.5')?.model).toBe('gpt-5.5');
    expect(lookupPrice('openrouter', 'meta-llama/llama-3.3-70b-instruct:free')).toMatchObject({ free: true });
  });

  it('prices self-hosted servers at zero', () => {
    expect(lookupPrice('ollama', 'llama3.2')).toMatchObject({ input: 0, output: 0, free: true });
    expect(lookupPrice('vllm', 'anything')?.free).toBe(true);
  });

  it('returns undefined for unknown models and providers, never a neighbour', () => {
    expect(lookupPrice('openai', 'gpt-4o-audio-preview')).toBeUndefined();
    expect(lookupPrice('openai', 'claude-sonnet-4-5')).toBeUndefined();
    expect(lookupPrice('anthropic', 'claude-sonnet-9')).toBeUndefined();
    expect(lookupPrice('openai-compatible', 'gpt-4o')).toBeUndefined();
    expect(lookupPrice('nobody', 'x')).toBeUndefined();
    expect(lookupPrice('azure', 'my-own-deployment')).toBeUndefined();
    // Asking twice gives the same answer (the second from the memo).
    expect(lookupPrice('openai', 'gpt-4o-audio-preview')).toBeUndefined();
  });
});

describe('normalizeModelId', () => {
  it.each([
    ['claude-opus-4-5-20251101', 'anthropic', 'claude-opus-4-5'],
    ['us.anthropic.claude-opus-4-5-20251101-v1:0', 'bedrock', 'anthropic.claude-opus-4-5'],
    ['gpt-4o-2024-11-20', 'openai', 'gpt-4o'],
    ['o3-2025-04-16', 'openai', 'o3'],
    ['gemini-2.0-flash-001', 'gemini', 'gemini-2.0-flash'],
    ['claude-sonnet-4-5@20250929', 'anthropic', 'claude-sonnet-4-5'],
    ['text-embedding-3-small', 'openai', 'text-embedding-3-small'],
    ['accounts/fireworks/models/llama-v3p3-70b-instruct', 'fireworks', 'llama-v3p3-70b-instruct'],
    ['openai/gpt-oss-120b', 'groq', 'openai/gpt-oss-120b'],
  ])('%s (%s) → %s', (id, provider, expected) => {
    expect(normalizeModelId(id, provider)).toBe(expected);
  });
});

describe('cache-write prices', () => {
  it("prices Claude's cache writes at 1.25× (5 minutes) and 2× (1 hour) input, at Anthropic and on Bedrock", () => {
    for (const [provider, model] of [
      ['anthropic', 'claude-sonnet-4-5'],
      ['bedrock', 'us.anthropic.claude-haiku-4-5-20251001-v1:0'],
      ['openrouter', 'anthropic/claude-opus-4.5'],
    ] as const) {
      const entry = lookupPrice(provider, model);
      expect(entry, model).toBeDefined();
      expect(entry?.cacheWriteInput).toBeCloseTo((entry?.input ?? 0) * 1.25, 12);
      expect(entry?.cacheWrite1hInput).toBeCloseTo((entry?.input ?? 0) * 2, 12);
      expect(entry?.cachedInput).toBeCloseTo((entry?.input ?? 0) * 0.1, 12);
    }
  });

  it('charges nothing extra for cache writes at OpenAI and Gemini', () => {
    expect(lookupPrice('openai', 'gpt-4o')).toMatchObject({ cacheWriteInput: null, cacheWrite1hInput: null });
    expect(lookupPrice('gemini', 'gemini-2.5-pro')).toMatchObject({ cacheWriteInput: null, cacheWrite1hInput: null });
  });
});
