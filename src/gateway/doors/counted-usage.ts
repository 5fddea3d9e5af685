import type { Usage } from '../metering/cost.ts';
import { countChatTokens } from '../metering/token-count.ts';
import type { ChatRequest } from '../providers/adapter.ts';

/**
 * Usage counted with the tokenizer, for an answer whose provider reported none (a server that
 * ignores `stream_options`, a stream cut short): the prompt as sent, and the output as far as
 * it went. The record says the figures are counted.
 */
export function countedUsage(chat: ChatRequest, outputText: string): Usage {
  const counted = countChatTokens(chat.messages, outputText, { tools: chat.tools, functions: chat.functions });
  return { ...counted, cachedTokens: 0, source: 'counted' };
}

/** The prompt's size as counted, before any answer: for doors that announce it up front. */
export function countedPromptTokens(chat: ChatRequest): number {
  return countChatTokens(chat.messages, '', { tools: chat.tools, functions: chat.functions }).promptTokens;
}

/** Nothing reported and nothing to count: a provider failure before any usage. */
export const NO_USAGE: Usage = { promptTokens: 0, completionTokens: 0, cachedTokens: 0 };

/**
 * A stream the client left: the provider's report so far, with the output streamed so far
 * where it counts more than the report (Anthropic reports output only at the end).
 */
export function withStreamedOutput(reported: Usage | undefined, counted: Usage): Usage {
  if (!reported) return counted;
  return { ...reported, completionTokens: Math.max(reported.completionTokens, counted.completionTokens) };
}
