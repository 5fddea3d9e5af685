import type { TollgateError } from '../../../errors.ts';
import type { Json } from '../../admission.ts';
import type { Usage } from '../../metering/cost.ts';
import { AnthropicUsageTap } from '../../providers/anthropic/usage.ts';
import { eventData } from '../../sse.ts';
import type { StreamTap } from '../door.ts';
import { providerErrorIn } from '../provider-error.ts';

/**
 * Reads an Anthropic stream as it passes through untouched: usage from `message_start` and
 * `message_delta` (merged as it comes), the provider's `error` event, and the text and tool
 * input streamed so far, for counting what went out when the stream ends early.
 */
export class AnthropicStreamTap implements StreamTap {
  readonly #usage = new AnthropicUsageTap();
  error: TollgateError | undefined;
  #deltas: string[] = [];

  constructor(private readonly provider: string) {}

  observe(event: string): boolean {
    if (event.includes('content_block_delta')) {
      this.#deltas.push(event);
      return true;
    }
    this.#usage.observe(event);
    if (event.includes('error')) {
      const data = eventData(event) as Json | undefined;
      if (data?.type === 'error') {
        this.error = providerErrorIn(this.provider, data.error, 'an error event');
      }
    }
    return true;
  }

  get usage(): Usage | undefined {
    return this.#usage.usage;
  }

  get outputText(): string {
    let text = '';
    for (const event of this.#deltas) {
      const delta = ((eventData(event) as Json | undefined)?.delta ?? {}) as Json;
      if (typeof delta.text === 'string') text += delta.text;
      if (typeof delta.partial_json === 'string') text += delta.partial_json;
    }
    return text;
  }
}

/** The text and tool input of a whole Anthropic message, for counting. */
export function messageOutputText(message: Json): string {
  let text = '';
  for (const block of Array.isArray(message.content) ? (message.content as Json[]) : []) {
    if (typeof block.text === 'string') text += block.text;
    if (block.type === 'tool_use') text += `${String(block.name ?? '')}${JSON.stringify(block.input ?? {})}`;
  }
  return text;
}
