import { openaiUsage, type Usage } from '../../metering/cost.ts';
import type { UsageMetadata } from './wire.ts';

const count = (value: unknown): number => (typeof value === 'number' && Number.isFinite(value) ? value : 0);

/**
 * Gemini's `usageMetadata` in the gateway's terms. Gemini counts thinking apart from the answer
 * (`totalTokenCount` = prompt + candidates + thoughts), and bills it as output: the completion
 * is candidates plus thoughts, the thoughts its reasoning part. The prompt includes the cached
 * tokens (`promptTokenCount` already does) and any tool-use prompt tokens, billed as input.
 * Gemini reports no cache writes: an explicit cache is created (and paid for by the hour) apart.
 */
export function usageOf(metadata: UsageMetadata | undefined): Usage | undefined {
  if (!metadata || typeof metadata !== 'object') return undefined;
  const thoughts = count(metadata.thoughtsTokenCount);
  return {
    promptTokens: count(metadata.promptTokenCount) + count(metadata.toolUsePromptTokenCount),
    completionTokens: count(metadata.candidatesTokenCount) + thoughts,
    cachedTokens: count(metadata.cachedContentTokenCount),
    ...(thoughts > 0 && { reasoningTokens: thoughts }),
  };
}

/** The same usage as an OpenAI `usage` object, reasoning tokens broken out as OpenAI does. */
export function openaiUsageOf(usage: Usage, _metadata?: UsageMetadata): Record<string, unknown> {
  return openaiUsage(usage);
}
