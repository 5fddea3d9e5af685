import type { Usage } from '../../metering/cost.ts';
import type { TokenUsage } from './wire.ts';

/**
 * Converse usage → the gateway's. Bedrock counts tokens read from and written to the prompt
 * cache apart from `inputTokens`; the gateway's prompt tokens include them, and the ones read
 * from the cache are its cached tokens.
 */
export function usageOf(usage: TokenUsage | undefined): Usage | undefined {
  if (!usage || typeof usage !== 'object') return undefined;
  const cacheRead = usage.cacheReadInputTokens ?? 0;
  return {
    promptTokens: (usage.inputTokens ?? 0) + cacheRead + (usage.cacheWriteInputTokens ?? 0),
    completionTokens: usage.outputTokens ?? 0,
    cachedTokens: cacheRead,
  };
}

/** The gateway's usage as OpenAI's `usage` object. */
export function openaiUsage(usage: Usage): Record<string, unknown> {
  return {
    prompt_tokens: usage.promptTokens,
    completion_tokens: usage.completionTokens,
    total_tokens: usage.promptTokens + usage.completionTokens,
    prompt_tokens_details: { cached_tokens: usage.cachedTokens },
  };
}
