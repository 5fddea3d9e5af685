import type { Usage } from '../../metering/cost.ts';
import { eventData } from '../../sse.ts';
import type { AnthropicUsage } from './wire.ts';

const count = (value: unknown): number => (typeof value === 'number' && Number.isFinite(value) ? value : 0);

/**
 * Anthropic's usage in the gateway's terms. Anthropic counts cache reads and cache writes
 * apart from `input_tokens`; the prompt is all three together (cache writes are billed here at
 * the plain input price).
 */
export function usageFromAnthropic(usage: AnthropicUsage | null | undefined): Usage | undefined {
  if (!usage || typeof usage !== 'object') return undefined;
  const cached = count(usage.cache_read_input_tokens);
  return {
    promptTokens: count(usage.input_tokens) + cached + count(usage.cache_creation_input_tokens),
    completionTokens: count(usage.output_tokens),
    cachedTokens: cached,
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

/**
 * Usage across a stream: `message_start` carries the input counts, `message_delta` the
 * output count, and — from newer API versions — cumulative input counts too. Counts given
 * later replace earlier ones; counts left out (or null) keep what was known.
 */
export class StreamUsage {
  #usage: AnthropicUsage | undefined;

  add(usage: AnthropicUsage | null | undefined): void {
    if (!usage || typeof usage !== 'object') return;
    const merged: AnthropicUsage = { ...this.#usage };
    for (const key of [
      'input_tokens',
      'output_tokens',
      'cache_read_input_tokens',
      'cache_creation_input_tokens',
    ] as const) {
      if (typeof usage[key] === 'number') merged[key] = usage[key];
    }
    this.#usage = merged;
  }

  get usage(): Usage | undefined {
    return usageFromAnthropic(this.#usage);
  }
}

/**
 * Reads usage from a native Anthropic stream as its events pass through unchanged (the
 * Anthropic front door served by an Anthropic provider). Only `message_start` and
 * `message_delta` events are parsed; every other event costs one substring search.
 */
export class AnthropicUsageTap {
  readonly #usage = new StreamUsage();

  /** One whole SSE event, as `SseSplitter` returns it. */
  observe(event: string): void {
    if (!event.includes('message_start') && !event.includes('message_delta')) return;
    const data = eventData(event) as { type?: unknown; message?: { usage?: AnthropicUsage }; usage?: AnthropicUsage };
    if (data?.type === 'message_start') this.#usage.add(data.message?.usage);
    else if (data?.type === 'message_delta') this.#usage.add(data.usage);
  }

  get usage(): Usage | undefined {
    return this.#usage.usage;
  }
}

/** Usage of a whole (non-streaming) Anthropic `message` object, given parsed or as bytes. */
export function usageFromAnthropicMessage(message: unknown): Usage | undefined {
  let parsed = message;
  if (message instanceof Uint8Array || typeof message === 'string') {
    try {
      parsed = JSON.parse(typeof message === 'string' ? message : Buffer.from(message).toString('utf8'));
    } catch {
      return undefined;
    }
  }
  if (!parsed || typeof parsed !== 'object') return undefined;
  return usageFromAnthropic((parsed as { usage?: AnthropicUsage }).usage);
}
