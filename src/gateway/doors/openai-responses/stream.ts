import { ERRORS, publicCode, type TollgateError } from '../../../errors.ts';
import type { Json } from '../../admission.ts';
import { type Usage, usageFromOpenAI } from '../../metering/cost.ts';
import type { OpenAIObject } from '../../providers/adapter.ts';
import { chatOutputText } from '../chunk-text.ts';
import type { StreamTranslator } from '../door.ts';
import { customInput, endOf, newId, responseFor, toolCall } from './response.ts';
import { type ToolName, toolNames } from './tool-names.ts';
import type {
  CustomToolCallItem,
  FunctionCallItem,
  ItemStatus,
  MessageItem,
  OutputItem,
  ResponseObject,
} from './wire.ts';

/** One server-sent event as OpenAI writes it: the `event:` name repeats the data's `type`. */
export function responsesEvent(type: string, sequence: number, data: Json): string {
  return `event: ${type}\ndata: ${JSON.stringify({ type, ...data, sequence_number: sequence })}\n\n`;
}

/**
 * The `error` event that ends a broken stream, as OpenAI sends it (the error nested under
 * `error`, which the OpenAI SDK raises as an `APIError`). `sequence` continues the stream's
 * numbering when the writer of the stream knows it.
 */
export function errorEvent(error: TollgateError, sequence = 0): string {
  const { type } = ERRORS[error.code];
  return responsesEvent('error', sequence, {
    error: { type, code: publicCode(error.code), message: error.message, param: null },
  });
}

/** The message item being written and its open content part. */
interface OpenMessage {
  index: number;
  item: MessageItem;
  part: { kind: 'text' | 'refusal'; text: string } | undefined;
}

/**
 * OpenAI `chat.completion.chunk` objects → the Responses API's typed events, as they come:
 * `response.created` and `response.in_progress` with the first chunk; a `message` item with an
 * `output_text` part (or a `refusal` part) for content, its deltas as `response.output_text.delta`;
 * a `function_call` item per tool call, its arguments as `response.function_call_arguments.delta`
 * (a `custom_tool_call` for a custom tool, its input given whole when the call ends);
 * every item closed (`….done` events) when the answer finishes or the next item begins; then
 * `response.completed` (or `response.incomplete`, when the output cap or a filter cut it short)
 * with the whole response and its usage, once both the finish reason and the usage are known —
 * or at {@link end}. Events are numbered by `sequence_number` from 0.
 */
export class ChunksToResponseEvents implements StreamTranslator {
  readonly #body: Json;
  readonly #names: Map<string, ToolName>;
  readonly #id = newId('resp');
  #createdAt = Math.floor(Date.now() / 1000);
  #sequence = 0;
  #started = false;
  #finished = false;
  readonly #output: OutputItem[] = [];
  #message: OpenMessage | undefined;
  /** Tool call items still open, by the chat stream's tool call index, with their arguments so far. */
  readonly #calls = new Map<number, { index: number; item: FunctionCallItem | CustomToolCallItem; args: string }>();
  #finishReason: unknown;
  #usage: Usage | undefined;
  outputText = '';

  constructor(body: Json) {
    this.#body = body;
    this.#names = toolNames(body.tools);
  }

  push(chunk: OpenAIObject): string[] {
    if (this.#finished) return [];
    const out: string[] = [];
    this.#start(out, chunk.created);
    this.outputText += chatOutputText(chunk as Json);
    const usage = usageFromOpenAI(chunk.usage as never);
    if (usage) this.#usage = usage;
    const choices = Array.isArray(chunk.choices) ? (chunk.choices as Json[]) : [];
    const choice = choices.find((candidate) => (candidate.index ?? 0) === 0);
    if (choice) {
      const delta = (choice.delta ?? {}) as Json;
      if (typeof delta.content === 'string' && delta.content !== '') this.#part(out, 'text', delta.content);
      if (typeof delta.refusal === 'string' && delta.refusal !== '') this.#part(out, 'refusal', delta.refusal);
      if (Array.isArray(delta.tool_calls)) {
        for (const [position, call] of (delta.tool_calls as Json[]).entries()) this.#call(out, call, position);
      }
      if (choice.finish_reason !== undefined && choice.finish_reason !== null) {
        this.#finishReason = choice.finish_reason;
        this.#closeAll(out);
      }
    }
    if (this.#finishReason !== undefined && this.#usage) this.#finish(out);
    return out;
  }

  /** The provider's stream ended; `usage` is what is billed (reported, or counted when none was). */
  end(usage: Usage | undefined): string[] {
    if (this.#finished) return [];
    const out: string[] = [];
    this.#start(out, undefined);
    this.#closeAll(out);
    this.#usage = usage ?? this.#usage;
    this.#finish(out);
    return out;
  }

  /**
   * The events that end a stream that broke: OpenAI's `error` event, then `response.failed`
   * with the output so far and the usage reported so far, numbered after the events already sent.
   */
  streamError(error: TollgateError): string {
    if (this.#finished) return errorEvent(error, this.#sequence);
    this.#finished = true;
    const failed: ResponseObject = {
      ...this.#response('failed'),
      error: { code: publicCode(error.code), message: error.message },
    };
    return errorEvent(error, this.#sequence++) + this.#event('response.failed', { response: failed });
  }

  #event(type: string, data: Json): string {
    return responsesEvent(type, this.#sequence++, data);
  }

  #response(status: ResponseObject['status']): ResponseObject {
    return responseFor(this.#body, this.#id, this.#createdAt, status, this.#output, this.#usage);
  }

  #start(out: string[], created: unknown): void {
    if (this.#started) return;
    this.#started = true;
    if (typeof created === 'number') this.#createdAt = created;
    const response = this.#response('in_progress');
    out.push(this.#event('response.created', { response }));
    out.push(this.#event('response.in_progress', { response }));
  }

  #part(out: string[], kind: 'text' | 'refusal', delta: string): void {
    let message = this.#message;
    if (!message) {
      this.#closeCalls(out, 'completed');
      const item: MessageItem = {
        id: newId('msg'),
        type: 'message',
        status: 'in_progress',
        role: 'assistant',
        content: [],
      };
      message = { index: this.#output.length, item, part: undefined };
      this.#message = message;
      this.#output.push(item);
      out.push(this.#event('response.output_item.added', { output_index: message.index, item }));
    }
    if (message.part?.kind !== kind) {
      this.#closePart(out, message);
      message.part = { kind, text: '' };
      out.push(this.#event('response.content_part.added', { ...this.#where(message), part: this.#partOf(message) }));
    }
    message.part = { kind, text: (message.part?.text ?? '') + delta };
    const type = kind === 'text' ? 'response.output_text.delta' : 'response.refusal.delta';
    out.push(this.#event(type, { ...this.#where(message), delta, ...(kind === 'text' && { logprobs: [] }) }));
  }

  /** Where the open part sits: its item, the item's place in the output, the part's place in the item. */
  #where(message: OpenMessage): Json {
    return { item_id: message.item.id, output_index: message.index, content_index: message.item.content.length };
  }

  #partOf(message: OpenMessage): MessageItem['content'][number] {
    const text = message.part?.text ?? '';
    return message.part?.kind === 'refusal'
      ? { type: 'refusal', refusal: text }
      : { type: 'output_text', text, annotations: [], logprobs: [] };
  }

  #closePart(out: string[], message: OpenMessage): void {
    if (!message.part) return;
    const where = this.#where(message);
    const part = this.#partOf(message);
    if (part.type === 'output_text') {
      out.push(this.#event('response.output_text.done', { ...where, text: part.text, logprobs: [] }));
    } else {
      out.push(this.#event('response.refusal.done', { ...where, refusal: part.refusal }));
    }
    out.push(this.#event('response.content_part.done', { ...where, part }));
    message.item.content.push(part);
    message.part = undefined;
  }

  #closeMessage(out: string[], status: ItemStatus): void {
    const message = this.#message;
    if (!message) return;
    this.#closePart(out, message);
    message.item.status = status;
    out.push(this.#event('response.output_item.done', { output_index: message.index, item: message.item }));
    this.#message = undefined;
  }

  #call(out: string[], call: Json, position: number): void {
    const key = typeof call.index === 'number' ? call.index : position;
    const fn = (call.function ?? {}) as Json;
    let open = this.#calls.get(key);
    if (!open) {
      this.#closeMessage(out, 'completed');
      const item = toolCall({ ...call, function: { ...fn, arguments: '' } }, this.#names, 'in_progress');
      open = { index: this.#output.length, item, args: '' };
      this.#calls.set(key, open);
      this.#output.push(item);
      out.push(this.#event('response.output_item.added', { output_index: open.index, item }));
    }
    if (typeof fn.arguments !== 'string' || fn.arguments === '') return;
    open.args += fn.arguments;
    // A custom tool's input is inside the JSON the chat model writes: it is given whole, at the end.
    if (open.item.type === 'custom_tool_call') return;
    open.item.arguments = open.args;
    const where = { item_id: open.item.id, output_index: open.index };
    out.push(this.#event('response.function_call_arguments.delta', { ...where, delta: fn.arguments }));
  }

  #closeCalls(out: string[], status: ItemStatus): void {
    for (const { index, item, args } of this.#calls.values()) {
      const where = { item_id: item.id, output_index: index };
      if (item.type === 'custom_tool_call') {
        item.input = customInput(args);
        if (item.input !== '') {
          out.push(this.#event('response.custom_tool_call_input.delta', { ...where, delta: item.input }));
        }
        out.push(this.#event('response.custom_tool_call_input.done', { ...where, input: item.input }));
      } else {
        out.push(
          this.#event('response.function_call_arguments.done', {
            ...where,
            name: item.name,
            arguments: item.arguments,
          }),
        );
      }
      item.status = status;
      out.push(this.#event('response.output_item.done', { output_index: index, item }));
    }
    this.#calls.clear();
  }

  #closeAll(out: string[]): void {
    const status = endOf(this.#finishReason).status === 'incomplete' ? 'incomplete' : 'completed';
    this.#closeMessage(out, status);
    this.#closeCalls(out, 'completed');
  }

  #finish(out: string[]): void {
    this.#finished = true;
    const end = endOf(this.#finishReason);
    const response = { ...this.#response(end.status), ...end };
    out.push(this.#event(end.status === 'incomplete' ? 'response.incomplete' : 'response.completed', { response }));
  }
}
