import type { OpenAIObject } from '../providers/adapter.ts';
import { eventData } from '../sse.ts';
import type { Usage } from './cost.ts';
import { countChatTokens, countEmbeddingTokens } from './token-count.ts';

/**
 * When a provider reports no usage (a server that ignores `stream_options`, a stream cut
 * short), tokens are counted so the cost is never silently zero. Nothing here runs when the
 * provider did report usage: a stream keeps only what it needs to count later.
 */
export class CompletionText {
  #text = '';
  #toolCalls: Array<Record<string, unknown>> = [];

  /** An OpenAI chunk or completion object. */
  add(object: OpenAIObject): void {
    const choices = Array.isArray(object.choices) ? (object.choices as Array<Record<string, unknown>>) : [];
    for (const choice of choices) {
      const part = (choice.delta ?? choice.message) as { content?: unknown; tool_calls?: unknown } | undefined;
      if (typeof part?.content === 'string') this.#text += part.content;
      if (Array.isArray(part?.tool_calls)) this.#toolCalls.push(...(part.tool_calls as Array<Record<string, unknown>>));
    }
  }

  /** A raw OpenAI SSE event, as passed through. */
  addEvent(event: string): void {
    const data = eventData(event) as OpenAIObject | undefined;
    if (data) this.add(data);
  }

  usage(request: Record<string, unknown>): Usage {
    const messages = Array.isArray(request.messages) ? (request.messages as Array<Record<string, unknown>>) : [];
    const counted = countChatTokens(messages, this.#text, {
      tools: request.tools,
      completionToolCalls: this.#toolCalls,
    });
    return { promptTokens: counted.promptTokens, completionTokens: counted.completionTokens, cachedTokens: 0 };
  }
}

export function embeddingsUsage(request: Record<string, unknown>): Usage {
  return { promptTokens: countEmbeddingTokens(request.input), completionTokens: 0, cachedTokens: 0 };
}
