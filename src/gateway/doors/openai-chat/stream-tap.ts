import type { TollgateError } from '../../../errors.ts';
import type { Json } from '../../admission.ts';
import { type Usage, usageFromOpenAI } from '../../metering/cost.ts';
import { eventData } from '../../sse.ts';
import { chatOutputText } from '../chunk-text.ts';
import type { StreamTap } from '../door.ts';
import { providerErrorIn } from '../provider-error.ts';

/** The usage-only chunk at a stream's end: empty (or, from vLLM, null or no) choices. */
export function isUsageOnly(chunk: Json): boolean {
  return !!chunk.usage && !(Array.isArray(chunk.choices) && chunk.choices.length > 0);
}

/**
 * Reads an OpenAI-format stream as it passes through untouched. Only events that mention
 * `"usage"` or `"error"` are parsed (JSON keys are quoted, so no such event is missed, whatever
 * the whitespace); the usage-only chunk is held back unless the caller asked for it. Events are
 * kept as text until usage arrives, so a stream that ends without it can still be counted.
 */
export class OpenAIStreamTap implements StreamTap {
  usage: Usage | undefined;
  error: TollgateError | undefined;
  #events: string[] = [];

  constructor(
    private readonly provider: string,
    private readonly callerWantsUsage: boolean,
  ) {}

  observe(event: string): boolean {
    if (this.usage === undefined) this.#events.push(event);
    if (!event.includes('"usage"') && !event.includes('"error"')) return true;
    const data = eventData(event) as Json | undefined;
    if (!data || typeof data !== 'object') return true;
    if (data.error && !Array.isArray(data.choices)) {
      this.error = providerErrorIn(this.provider, data.error, 'an error event');
      return true;
    }
    const usage = usageFromOpenAI(data.usage as never);
    if (usage) {
      this.usage = usage;
      this.#events = [];
      if (!this.callerWantsUsage && isUsageOnly(data)) return false;
    }
    return true;
  }

  get outputText(): string {
    let text = '';
    for (const event of this.#events) {
      const data = eventData(event);
      if (data && typeof data === 'object') text += chatOutputText(data as Json);
    }
    return text;
  }
}
