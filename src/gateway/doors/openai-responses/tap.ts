import type { TollgateError } from '../../../errors.ts';
import type { Json } from '../../admission.ts';
import { type Usage, usageFromOpenAI } from '../../metering/cost.ts';
import { eventData } from '../../sse.ts';
import type { StreamTap } from '../door.ts';
import { providerErrorIn } from '../provider-error.ts';
import { errorEvent } from './stream.ts';
import { isObject } from './wire.ts';

/** Events whose `delta` is output: text, refusals, tool arguments. */
const OUTPUT_DELTAS = new Set([
  'response.output_text.delta',
  'response.refusal.delta',
  'response.function_call_arguments.delta',
  'response.custom_tool_call_input.delta',
]);

/** The SSE `event:` field of one event (OpenAI names every Responses event), or undefined. */
function eventName(event: string): string | undefined {
  for (const line of event.split(/\r?\n/)) {
    if (line.startsWith('event:')) return line.slice(line[6] === ' ' ? 7 : 6).trim();
  }
  return undefined;
}

/**
 * The text a whole response carries — output text, refusals, function names and arguments —
 * for counting when the provider reports no usage.
 */
export function responseOutputText(response: Json): string {
  let text = '';
  for (const item of Array.isArray(response.output) ? (response.output as Json[]) : []) {
    if (!isObject(item)) continue;
    if (item.type === 'function_call') text += `${String(item.name ?? '')}${String(item.arguments ?? '')}`;
    if (item.type === 'custom_tool_call') text += `${String(item.name ?? '')}${String(item.input ?? '')}`;
    for (const part of Array.isArray(item.content) ? (item.content as Json[]) : []) {
      if (typeof part?.text === 'string') text += part.text;
      if (typeof part?.refusal === 'string') text += part.refusal;
    }
  }
  return text;
}

/** A whole native answer: its usage, its output for counting, or the failure it reports. */
export function readResponse(
  answer: Json,
  provider: string,
): { usage: Usage | undefined; outputText: string; error?: TollgateError } {
  if (answer.status === 'failed' || (answer.error && answer.object !== 'response')) {
    return {
      usage: usageFromOpenAI(answer.usage as never),
      outputText: '',
      error: providerErrorIn(provider, answer.error, 'an error'),
    };
  }
  return { usage: usageFromOpenAI(answer.usage as never), outputText: responseOutputText(answer) };
}

/**
 * Reads a Responses API stream as it passes through untouched. Every event is parsed except
 * output deltas, which are kept as they came and read only if no usage arrives; usage comes
 * from `response.completed`, `response.incomplete` or `response.failed`, errors from `error`
 * and `response.failed` events. Every event is forwarded: the provider's own error event is
 * already in the caller's format.
 */
export class ResponsesStreamTap implements StreamTap {
  usage: Usage | undefined;
  error: TollgateError | undefined;
  #deltas: string[] = [];
  /** The sequence number the next event would carry. */
  #next = 0;

  constructor(private readonly provider: string) {}

  observe(event: string): boolean {
    // Deltas are most of a stream; a delta's JSON is only read if it has to be counted. The
    // event's name is read from its `event:` field, never from its JSON text.
    if (OUTPUT_DELTAS.has(eventName(event) ?? '')) {
      this.#deltas.push(event);
      this.#next++;
      return true;
    }
    const data = eventData(event);
    if (!isObject(data)) return true;
    if (typeof data.sequence_number === 'number') this.#next = data.sequence_number + 1;
    switch (data.type) {
      case 'response.output_text.delta':
      case 'response.refusal.delta':
      case 'response.function_call_arguments.delta':
      case 'response.custom_tool_call_input.delta':
        // A server that leaves out the `event:` line.
        this.#deltas.push(event);
        break;
      case 'response.completed':
      case 'response.incomplete':
      case 'response.failed': {
        const response = isObject(data.response) ? data.response : {};
        this.usage = usageFromOpenAI(response.usage as never) ?? this.usage;
        if (data.type === 'response.failed')
          this.error ??= providerErrorIn(this.provider, response.error, 'an error event');
        break;
      }
      case 'error':
        // OpenAI nests the error under `error`; its reference shows it flat.
        this.error ??= providerErrorIn(this.provider, isObject(data.error) ? data.error : data, 'an error event');
        break;
    }
    return true;
  }

  get outputText(): string {
    let text = '';
    for (const event of this.#deltas) {
      const data = eventData(event);
      if (isObject(data) && OUTPUT_DELTAS.has(String(data.type)) && typeof data.delta === 'string') text += data.delta;
    }
    return text;
  }

  /** OpenAI's `error` event, numbered after the events that went through. */
  streamError(error: TollgateError): string {
    return errorEvent(error, this.#next);
  }
}
