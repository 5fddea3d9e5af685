import type { Usage } from '../../metering/cost.ts';
import { eventData } from '../../sse.ts';
import type { AnthropicUsage } from './wire.ts';

export { openaiUsage } from '../../metering/cost.ts';

const count = (value: unknown): number => (typeof value === 'number' && Number.isFinite(value) ? value : 0);

/**
 * Anthropic's usage in the gateway's terms. Anthropic counts cache reads and cache writes apart
 * from `input_tokens`; the prompt is all three together. Writes are split by life with
 * `cache_creation` (5-minute and 1-hour); writes it does not break down are 5-minute writes.
 * Thinking is part of `output_tokens` and not reported apart.
 */
export function usageFromAnthropic(usage: AnthropicUsage | null | undefined): Usage | undefined {
  if (!usage || typeof usage !== 'object') return undefined;
  const reads = count(usage.cache_read_input_tokens);
  const byLife = usage.cache_creation && typeof usage.cache_creation === 'object' ? usage.cache_creation : {};
  const writes1h = count(byLife.ephemeral_1h_input_tokens);
  const writes = Math.max(count(usage.cache_creation_input_tokens), writes1h + count(byLife.ephemeral_5m_input_tokens));
  const writes5m = writes - writes1h;
  return {
    promptTokens: count(usage.input_tokens) + reads + writes,
    completionTokens: count(usage.output_tokens),
    cachedTokens: reads,
    ...(writes5m > 0 && { cacheWriteTokens: writes5m }),
    ...(writes1h > 0 && { cacheWrite1hTokens: writes1h }),
  };
}

/**
 * The gateway's usage as an Anthropic `usage` object, for answers translated to the Messages
 * API: `input_tokens` is the prompt less cache reads and writes, as Anthropic counts it; the
 * writes are `cache_creation_input_tokens`, broken down by life in `cache_creation` when there
 * are any. The other direction of {@link usageFromAnthropic}.
 */
export function messagesUsage(usage: Usage): AnthropicUsage & {
  input_tokens: number;
  output_tokens: number;
  cache_creation_input_tokens: number;
  cache_read_input_tokens: number;
} {
  const reads = usage.cachedTokens;
  const writes1h = usage.cacheWrite1hTokens ?? 0;
  const writes5m = usage.cacheWriteTokens ?? 0;
  const writes = writes5m + writes1h;
  return {
    input_tokens: Math.max(usage.promptTokens - reads - writes, 0),
    output_tokens: usage.completionTokens,
    cache_creation_input_tokens: writes,
    cache_read_input_tokens: reads,
    ...(writes > 0 && {
      cache_creation: { ephemeral_5m_input_tokens: writes5m, ephemeral_1h_input_tokens: writes1h },
    }),
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
    const byLife = usage.cache_creation;
    if (byLife && typeof byLife === 'object') {
      const kept = { ...merged.cache_creation };
      for (const key of ['ephemeral_5m_input_tokens', 'ephemeral_1h_input_tokens'] as const) {
        if (typeof byLife[key] === 'number') kept[key] = byLife[key];
      }
      merged.cache_creation = kept;
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
