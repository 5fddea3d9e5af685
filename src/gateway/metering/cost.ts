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
 * whole, finite, not negative, and every part within its total (cache reads, then 1-hour
 * writes, then 5-minute writes within the prompt; reasoning within the output). Providers are
 * trusted to count, not to be well formed. Parts that come to 0 are left out.
 */
export function wellFormedUsage(usage: Usage): Usage {
  const promptTokens = count(usage.promptTokens);
  const completionTokens = count(usage.completionTokens);
  const cachedTokens = Math.min(count(usage.cachedTokens), promptTokens);
  const cacheWrite1hTokens = Math.min(count(usage.cacheWrite1hTokens), promptTokens - cachedTokens);
  const cacheWriteTokens = Math.min(count(usage.cacheWriteTokens), promptTokens - cachedTokens - cacheWrite1hTokens);
  const reasoningTokens = Math.min(count(usage.reasoningTokens), completionTokens);
  return {
    promptTokens,
    completionTokens,
    cachedTokens,
    ...(cacheWriteTokens > 0 && { cacheWriteTokens }),
    ...(cacheWrite1hTokens > 0 && { cacheWrite1hTokens }),
    ...(reasoningTokens > 0 && { reasoningTokens }),
    ...((usage.source === 'counted' || usage.source === 'reported') && { source: usage.source }),
  };
}

/** Every cache write, 5-minute and 1-hour together: the usage record's `cache_write_tokens`. */
export const cacheWrites = (usage: Usage): number => (usage.cacheWriteTokens ?? 0) + (usage.cacheWrite1hTokens ?? 0);

/**
 * Cost in USD of a call, per token class (docs/metering.md): plain input at the input price,
 * cache reads at the cached price, 5-minute cache writes at the cache-write price, 1-hour
 * writes at the 1-hour price, output (reasoning included) at the output price. A price the
 * model lacks falls back: cached and 5-minute writes to the input price, 1-hour writes to the
 * 5-minute write price.
 */
export function costOf(usage: Usage, prices: Prices): number {
  const tokens = wellFormedUsage(usage);
  const reads = tokens.cachedTokens;
  const writes5m = tokens.cacheWriteTokens ?? 0;
  const writes1h = tokens.cacheWrite1hTokens ?? 0;
  const plain = tokens.promptTokens - reads - writes5m - writes1h;
  const writePrice = prices.cacheWriteInput ?? prices.input;
  return (
    (plain * prices.input +
      reads * (prices.cachedInput ?? prices.input) +
      writes5m * writePrice +
      writes1h * (prices.cacheWrite1hInput ?? writePrice) +
      tokens.completionTokens * prices.output) /
    1e6
  );
}

type Count = number | null | undefined;

/** OpenAI's `usage` object: Chat Completions, embeddings and the Responses API, with the extensions other servers send. */
export interface OpenAIUsage {
  prompt_tokens?: Count;
  completion_tokens?: Count;
  total_tokens?: Count;
  prompt_tokens_details?: {
    cached_tokens?: Count;
    /** Every cache write (OpenRouter's field; Tollgate writes it too when translating). */
    cache_write_tokens?: Count;
    /** The 1-hour part of `cache_write_tokens` (Tollgate's own, when translating Claude usage). */
    cache_write_1h_tokens?: Count;
  } | null;
  completion_tokens_details?: { reasoning_tokens?: Count } | null;
  /** DeepSeek: prompt tokens served from its cache. */
  prompt_cache_hit_tokens?: Count;
  /** LiteLLM and other proxies of Anthropic: cache writes, inside `prompt_tokens`. */
  cache_creation_input_tokens?: Count;
  /** The Responses API's names. */
  input_tokens?: Count;
  output_tokens?: Count;
  input_tokens_details?: { cached_tokens?: Count } | null;
  output_tokens_details?: { reasoning_tokens?: Count } | null;
}

const number = (value: unknown): number => (typeof value === 'number' && Number.isFinite(value) ? value : 0);

/**
 * Reads an OpenAI `usage` object (Chat Completions, embeddings, or the Responses API's
 * `input_tokens`/`output_tokens`): prompt and output totals, cache reads and writes inside the
 * prompt, reasoning inside the output. Some servers (xAI) count reasoning apart from
 * `completion_tokens`; their `total_tokens` shows it, and the output then includes it.
 */
export function usageFromOpenAI(usage: OpenAIUsage | null | undefined): Usage | undefined {
  if (!usage || typeof usage !== 'object') return undefined;
  const responses = usage.prompt_tokens === undefined && usage.input_tokens !== undefined;
  const prompt = number(responses ? usage.input_tokens : usage.prompt_tokens);
  let completion = number(responses ? usage.output_tokens : usage.completion_tokens);
  const promptDetails = (responses ? usage.input_tokens_details : usage.prompt_tokens_details) ?? undefined;
  const completionDetails = (responses ? usage.output_tokens_details : usage.completion_tokens_details) ?? undefined;
  const reasoning = number(completionDetails?.reasoning_tokens);
  if (reasoning > 0 && !responses && number(usage.total_tokens) === prompt + completion + reasoning) {
    completion += reasoning;
  }
  const details = (promptDetails ?? {}) as NonNullable<OpenAIUsage['prompt_tokens_details']>;
  const cached = number(details.cached_tokens ?? usage.prompt_cache_hit_tokens);
  const writes = number(details.cache_write_tokens ?? usage.cache_creation_input_tokens);
  const writes1h = Math.min(number(details.cache_write_1h_tokens), writes);
  return {
    promptTokens: prompt,
    completionTokens: completion,
    cachedTokens: cached,
    ...(writes - writes1h > 0 && { cacheWriteTokens: writes - writes1h }),
    ...(writes1h > 0 && { cacheWrite1hTokens: writes1h }),
    ...(reasoning > 0 && { reasoningTokens: reasoning }),
  };
}

/**
 * The gateway's usage as OpenAI's Chat Completions `usage` object, as translating providers
 * write it: cache reads in `prompt_tokens_details.cached_tokens`, reasoning in
 * `completion_tokens_details.reasoning_tokens`, and cache writes, which OpenAI does not report,
 * in `prompt_tokens_details.cache_write_tokens` (OpenRouter's name) with the 1-hour part in
 * `cache_write_1h_tokens`, so a door that shows them (Anthropic's) can.
 */
export function openaiUsage(usage: Usage): Record<string, unknown> {
  const writes = cacheWrites(usage);
  return {
    prompt_tokens: usage.promptTokens,
    completion_tokens: usage.completionTokens,
    total_tokens: usage.promptTokens + usage.completionTokens,
    prompt_tokens_details: {
      cached_tokens: usage.cachedTokens,
      ...(writes > 0 && { cache_write_tokens: writes }),
      ...((usage.cacheWrite1hTokens ?? 0) > 0 && { cache_write_1h_tokens: usage.cacheWrite1hTokens }),
    },
    completion_tokens_details: { reasoning_tokens: usage.reasoningTokens ?? 0 },
  };
}
