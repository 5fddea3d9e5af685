/**
 * Provider families price prompt caching by rule, as multiples of a model's input price.
 * Anthropic's Claude (at Anthropic, on Bedrock, through OpenRouter): a cache read costs 0.1×
 * input, a 5-minute cache write 1.25×, a 1-hour write 2×. OpenAI and Gemini publish a cached
 * price per model (the catalogue has it) and charge nothing extra for writing to the cache.
 */

export type PriceFamily = 'claude' | 'openai' | 'gemini';

/** Cache prices as multiples of the input price; null: no rule (per model, or no surcharge). */
export interface CacheRatios {
  /** Cache reads; null: the family has no single ratio, the catalogue prices each model. */
  cachedInput: number | null;
  /** 5-minute (or unspecified) cache writes; null: no surcharge, written tokens cost the input price. */
  cacheWriteInput: number | null;
  /** 1-hour cache writes; null: no surcharge. */
  cacheWrite1hInput: number | null;
}

export const FAMILY_RATIOS: Readonly<Record<PriceFamily, Readonly<CacheRatios>>> = {
  claude: { cachedInput: 0.1, cacheWriteInput: 1.25, cacheWrite1hInput: 2 },
  openai: { cachedInput: null, cacheWriteInput: null, cacheWrite1hInput: null },
  gemini: { cachedInput: null, cacheWriteInput: null, cacheWrite1hInput: null },
};

/**
 * The family a provider's model is priced by: Claude wherever it is served (its id names it:
 * `claude-…`, `anthropic.claude-…`, `anthropic/claude-…`), OpenAI's models at OpenAI and Azure,
 * Gemini at Google. Undefined for everything else (open models, self-hosted servers).
 */
export function priceFamily(provider: string, model: string): PriceFamily | undefined {
  const id = model.trim().toLowerCase();
  const vendor = provider.trim().toLowerCase();
  if (vendor === 'anthropic' || id.includes('claude')) return 'claude';
  if (vendor === 'openai' || vendor === 'azure' || (vendor === 'openrouter' && id.startsWith('openai/'))) {
    return 'openai';
  }
  if (vendor === 'gemini' || vendor === 'google' || id.startsWith('gemini') || id.startsWith('google/gemini')) {
    return 'gemini';
  }
  return undefined;
}
