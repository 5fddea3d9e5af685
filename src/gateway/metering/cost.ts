import type { Prices } from '../routing/model-registry.ts';

export interface Usage {
  /** Every input token: plain, cache reads and cache writes together. */
  promptTokens: number;
  /** Every output token, reasoning included. */
  completionTokens: number;
  /** Prompt tokens served from the provider's cache (cache reads); part of `promptTokens`. */
  cachedTokens: number;
  /** Prompt tokens written to the cache with a 5-minute life (or unspecified); part of `promptTokens`. */
  cacheWriteTokens?: number;
  /** Prompt tokens written to the cache with a 1-hour life; part of `promptTokens`. */
  cacheWrite1hTokens?: number;
  /** Output tokens spent on reasoning; part of `completionTokens`, recorded apart. */
  reasoningTokens?: number;
  /** Whether the provider reported these figures or Tollgate counted them. Default: reported. */
  source?: 'reported' | 'counted';
}

/** The largest count a usage record holds (a PostgreSQL integer). */
const MAX_COUNT = 2_147_483_647;
const count = (value: unknown) =>
  typeof value === 'number' && Number.isFinite(value) && value > 0 ? Math.min(Math.floor(value), MAX_COUNT) : 0;

/**
 * A provider's usage as counts the ledger, the rate limiter and a usage record can take:
 * whole, finite, not negative. Providers are trusted to count, not to be well formed.
 */
export function wellFormedUsage(usage: Usage): Usage {
  return {
    promptTokens: count(usage.promptTokens),
    completionTokens: count(usage.completionTokens),
    cachedTokens: count(usage.cachedTokens),
  };
}

/** Cost in USD of a call: tokens × price per million, cached prompt tokens at the cached price. */
export function costOf(usage: Usage, prices: Prices): number {
  const cached = Math.min(usage.cachedTokens, usage.promptTokens);
  const cachedPrice = prices.cachedInput ?? prices.input;
  return (
    ((usage.promptTokens - cached) * prices.input + cached * cachedPrice + usage.completionTokens * prices.output) / 1e6
  );
}

interface OpenAIUsage {
  prompt_tokens?: number;
  completion_tokens?: number;
  prompt_tokens_details?: { cached_tokens?: number } | null;
}

/** Reads OpenAI's `usage` object (chat and embeddings alike). */
export function usageFromOpenAI(usage: OpenAIUsage | null | undefined): Usage | undefined {
  if (!usage || typeof usage !== 'object') return undefined;
  return {
    promptTokens: usage.prompt_tokens ?? 0,
    completionTokens: usage.completion_tokens ?? 0,
    cachedTokens: usage.prompt_tokens_details?.cached_tokens ?? 0,
  };
}
