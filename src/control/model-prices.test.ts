import { describe, expect, it } from 'vitest';
import { givenPrices, priceNotes, resolvePrices, storedSources } from './model-prices.ts';

const sonnet = { provider: 'anthropic', upstreamModel: 'claude-sonnet-4-5-20250929' };
const bedrockSonnet = { provider: 'bedrock', upstreamModel: 'us.anthropic.claude-sonnet-4-5-20250929-v1:0' };
const gpt4o = { provider: 'openai', upstreamModel: 'gpt-4o' };

describe('resolvePrices', () => {
  it("takes every price from the catalogue when none is given, with Claude's write prices by rule", () => {
    for (const target of [sonnet, bedrockSonnet]) {
      const { prices, sources } = resolvePrices({}, target);
      expect(prices).toEqual({
        inputPrice: 3,
        outputPrice: 15,
        cachedInputPrice: 0.3,
        cacheWriteInputPrice: 3.75,
        cacheWrite1hInputPrice: 6,
      });
      expect(Object.values(sources)).toEqual(Array(5).fill('catalogue'));
    }
  });

  it("derives cache prices from a given input price by the provider's ratios, never the catalogue's absolute price", () => {
    const { prices, sources } = resolvePrices({ inputPrice: 2 }, sonnet);
    expect(prices).toEqual({
      inputPrice: 2,
      outputPrice: 15,
      cachedInputPrice: 0.2,
      cacheWriteInputPrice: 2.5,
      cacheWrite1hInputPrice: 4,
    });
    expect(sources).toEqual({
      inputPrice: 'given',
      outputPrice: 'catalogue',
      cachedInputPrice: 'derived',
      cacheWriteInputPrice: 'derived',
      cacheWrite1hInputPrice: 'derived',
    });
  });

  it("uses the catalogue model's own cached ratio for OpenAI, and no write surcharge", () => {
    // gpt-4o: $2.50 input, $1.25 cached (0.5×).
    const { prices, sources } = resolvePrices({ inputPrice: 2, outputPrice: 8 }, gpt4o);
    expect(prices).toMatchObject({ cachedInputPrice: 1, cacheWriteInputPrice: null, cacheWrite1hInputPrice: null });
    expect(sources).toMatchObject({ cachedInputPrice: 'derived', cacheWriteInputPrice: 'none' });
  });

  it("derives a Claude model the catalogue does not know by the family's rule", () => {
    const { prices } = resolvePrices(
      { inputPrice: 10, outputPrice: 50 },
      { provider: 'anthropic', upstreamModel: 'claude-nova-9' },
    );
    expect(prices).toMatchObject({ cachedInputPrice: 1, cacheWriteInputPrice: 12.5, cacheWrite1hInputPrice: 20 });
  });

  it('leaves an unknown model without cache prices, and says that cached tokens cost the full input price', () => {
    const target = { provider: 'openai-compatible', upstreamModel: 'llama-local' };
    const { prices, sources } = resolvePrices({ inputPrice: 1, outputPrice: 2 }, target);
    expect(prices).toMatchObject({ cachedInputPrice: null, cacheWriteInputPrice: null, cacheWrite1hInputPrice: null });
    expect(sources.cachedInputPrice).toBe('none');
    const notes = priceNotes(prices, sources, target);
    expect(notes.join('\n')).toMatch(/cached prompt tokens are billed at the full input price \(\$1\)/);
    expect(notes.join('\n')).toMatch(/written to the prompt cache are billed at the input price/);
  });

  it('keeps given cache prices, a null one included (none on purpose)', () => {
    const { prices, sources } = resolvePrices(
      { inputPrice: 2, cachedInputPrice: null, cacheWriteInputPrice: 3 },
      sonnet,
    );
    expect(prices).toMatchObject({ cachedInputPrice: null, cacheWriteInputPrice: 3, cacheWrite1hInputPrice: 4 });
    expect(sources).toMatchObject({ cachedInputPrice: 'given', cacheWriteInputPrice: 'given' });
  });

  it('on an update, keeps what was given and derives the rest again from the new input price', () => {
    const first = resolvePrices({ inputPrice: 2, cacheWrite1hInputPrice: 5 }, sonnet);
    const kept = givenPrices(first.prices, first.sources);
    expect(kept).toEqual({ inputPrice: 2, cacheWrite1hInputPrice: 5 });
    const second = resolvePrices({ ...kept, inputPrice: 4 }, sonnet, first);
    expect(second.prices).toMatchObject({
      inputPrice: 4,
      cachedInputPrice: 0.4,
      cacheWriteInputPrice: 5,
      cacheWrite1hInputPrice: 5,
    });
  });

  it('refuses a model it cannot price', () => {
    expect(() => resolvePrices({}, { provider: 'openai-compatible', upstreamModel: 'x' })).toThrow(/no price is known/);
  });

  it('explains derived prices in the notes', () => {
    const { prices, sources } = resolvePrices({ inputPrice: 2 }, sonnet);
    expect(priceNotes(prices, sources, sonnet)).toEqual([
      "Cached input (cache reads): $0.2, derived from the input price by the provider's ratio (0.1×).",
      "5-minute cache writes: $2.5, derived from the input price by the provider's ratio (1.25×).",
      "1-hour cache writes: $4, derived from the input price by the provider's ratio (2×).",
    ]);
  });
});

describe('storedSources', () => {
  it('reads models published before sources were kept: prices as given, backfilled write prices as derived', () => {
    const prices = {
      inputPrice: 3,
      outputPrice: 15,
      cachedInputPrice: 0.3,
      cacheWriteInputPrice: 3.75,
      cacheWrite1hInputPrice: 6,
    };
    expect(storedSources(null, prices)).toEqual({
      inputPrice: 'given',
      outputPrice: 'given',
      cachedInputPrice: 'given',
      cacheWriteInputPrice: 'derived',
      cacheWrite1hInputPrice: 'derived',
    });
  });
});
