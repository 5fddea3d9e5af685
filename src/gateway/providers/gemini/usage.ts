import type { Usage } from '../../metering/cost.ts';
import type { UsageMetadata } from './wire.ts';

/**
 * Gemini's `usageMetadata` in the gateway's terms. Thinking tokens are billed as output, so they
 * count as completion tokens; prompt tokens include the cached ones (as `Usage` wants) and any
 * tool-use prompt tokens, which are billed as input.
 */
export function usageOf(metadata: UsageMetadata | undefined): Usage | undefined {
  if (!metadata || typeof metadata !== 'object') return undefined;
  return {
    promptTokens: (metadata.promptTokenCount ?? 0) + (metadata.toolUsePromptTokenCount ?? 0),
    completionTokens: (metadata.candidatesTokenCount ?? 0) + (metadata.thoughtsTokenCount ?? 0),
    cachedTokens: metadata.cachedContentTokenCount ?? 0,
  };
}

/** The same usage as an OpenAI `usage` object, reasoning tokens broken out as OpenAI does. */
export function openaiUsageOf(usage: Usage, metadata: UsageMetadata): Record<string, unknown> {
  return {
    prompt_tokens: usage.promptTokens,
    completion_tokens: usage.completionTokens,
    total_tokens: usage.promptTokens + usage.completionTokens,
    prompt_tokens_details: { cached_tokens: usage.cachedTokens },
    completion_tokens_details: { reasoning_tokens: metadata.thoughtsTokenCount ?? 0 },
  };
}
