import { randomBytes } from 'node:crypto';
import { TollgateError } from '../../errors.ts';
import { type Usage, usageFromOpenAI } from '../metering/cost.ts';
import type { ChatRequest, OpenAIObject } from '../providers/adapter.ts';
import { urlFromSource } from '../providers/anthropic/images.ts';
import { anthropicStopReason } from '../providers/anthropic/stop-reasons.ts';
import { messagesUsage } from '../providers/anthropic/usage.ts';
import type { AnthropicMessage, AnthropicUsage, ImageSource } from '../providers/anthropic/wire.ts';

/**
 * The Anthropic front door: callers speaking Anthropic's Messages API (the Anthropic SDK,
 * Claude Code) served by any provider. Requests are translated into OpenAI Chat Completions,
 * the gateway's inside language, and answers — whole or chunk by chunk — back into Anthropic
 * messages and events. When the provider is Anthropic itself no translation is needed; the
 * usage readers re-exported at the end serve that fast path.
 */

type Json = Record<string, unknown>;

const invalid = (detail: string) => new TollgateError('TG_ERR_INVALID_REQUEST', detail);
const isObject = (value: unknown): value is Json =>
  value !== null && typeof value === 'object' && !Array.isArray(value);

// ——— Request: Anthropic → OpenAI ———

function textOf(content: unknown, separator: string): string {
  if (typeof content === 'string') return content;
  if (!Array.isArray(content)) return '';
  return (content as Json[])
    .filter((block) => block?.type === 'text' && typeof block.text === 'string')
    .map((block) => block.text as string)
    .join(separator);
}

function imagePart(source: unknown): Json {
  const url = urlFromSource(source as ImageSource | undefined);
  if (!url) throw invalid('an image block needs a base64 or url source');
  return { type: 'image_url', image_url: { url } };
}

/** A document block: inline text stays text; a PDF becomes an OpenAI `file` part. */
function documentPart(block: Json): Json {
  const source = (block.source ?? {}) as Json;
  if (source.type === 'text' && typeof source.data === 'string') return { type: 'text', text: source.data };
  const url = urlFromSource(source as ImageSource);
  if (!url?.startsWith('data:')) throw invalid('only inline (base64 or text) documents can be sent to this model');
  return {
    type: 'file',
    file: { file_data: url, ...(typeof block.title === 'string' ? { filename: block.title } : {}) },
  };
}

/** A user turn: tool results become `tool` messages (first, as OpenAI needs), the rest one user message. */
function userMessages(content: unknown): Json[] {
  if (typeof content === 'string') return [{ role: 'user', content }];
  if (!Array.isArray(content)) throw invalid('message content must be a string or an array of blocks');
  const tools: Json[] = [];
  const parts: Json[] = [];
  for (const block of content as Json[]) {
    switch (block?.type) {
      case 'text':
        parts.push({ type: 'text', text: String(block.text ?? '') });
        break;
      case 'image':
        parts.push(imagePart(block.source));
        break;
      case 'document':
        parts.push(documentPart(block));
        break;
      case 'tool_result': {
        // OpenAI tool messages carry text only: images in a result follow in the user message.
        const inner = Array.isArray(block.content) ? (block.content as Json[]) : [];
        for (const item of inner) if (item?.type === 'image') parts.push(imagePart(item.source));
        tools.push({
          role: 'tool',
          tool_call_id: String(block.tool_use_id ?? ''),
          content: textOf(block.content, '\n'),
        });
        break;
      }
      default:
        throw invalid(`"${String(block?.type)}" content blocks cannot be sent to this model`);
    }
  }
  if (parts.length === 0) return tools;
  const only = parts.length === 1 && parts[0]?.type === 'text' ? (parts[0].text as string) : undefined;
  return [...tools, { role: 'user', content: only ?? parts }];
}

/** An assistant turn: text joined, `tool_use` → `tool_calls`; thinking and server-tool blocks are left out. */
function assistantMessage(content: unknown): Json {
  if (typeof content === 'string') return { role: 'assistant', content };
  if (!Array.isArray(content)) throw invalid('message content must be a string or an array of blocks');
  const calls = (content as Json[])
    .filter((block) => block?.type === 'tool_use')
    .map((block) => ({
      id: String(block.id ?? ''),
      type: 'function',
      function: { name: String(block.name ?? ''), arguments: JSON.stringify(block.input ?? {}) },
    }));
  const text = textOf(content, '');
  const message: Json = { role: 'assistant', content: text === '' && calls.length > 0 ? null : text };
  if (calls.length > 0) message.tool_calls = calls;
  return message;
}

function chatTools(tools: unknown): Json[] | undefined {
  if (!Array.isArray(tools)) return undefined;
  // Server tools (web search, bash, text editor, …) run at Anthropic and have no schema: left out.
  const custom = (tools as Json[]).filter((tool) => isObject(tool) && isObject(tool.input_schema));
  if (custom.length === 0) return undefined;
  return custom.map((tool) => ({
    type: 'function',
    function: {
      name: tool.name,
      ...(typeof tool.description === 'string' ? { description: tool.description } : {}),
      parameters: tool.input_schema,
    },
  }));
}

function chatToolChoice(choice: unknown): unknown {
  if (!isObject(choice)) return undefined;
  if (choice.type === 'auto') return 'auto';
  if (choice.type === 'any') return 'required';
  if (choice.type === 'none') return 'none';
  if (choice.type === 'tool') return { type: 'function', function: { name: String(choice.name ?? '') } };
  return undefined;
}

/**
 * An Anthropic Messages request → an OpenAI chat request. `top_k`, `thinking` and cache
 * markers have no OpenAI equivalent and are dropped; a stream asks for usage so that the
 * closing `message_delta` can report it.
 */
export function messagesToChat(body: Json): ChatRequest {
  if (!Array.isArray(body.messages)) throw invalid('"messages" must be an array');
  const messages: Json[] = [];
  const system = textOf(body.system, '\n\n');
  if (system !== '') messages.push({ role: 'system', content: system });
  for (const message of body.messages as Json[]) {
    if (message?.role === 'user') messages.push(...userMessages(message.content));
    else if (message?.role === 'assistant') messages.push(assistantMessage(message.content));
    else if (message?.role === 'system') messages.push({ role: 'system', content: textOf(message.content, '\n\n') });
    else throw invalid(`messages must have the role "user" or "assistant", not "${String(message?.role)}"`);
  }
  const chat: ChatRequest = { model: String(body.model ?? ''), messages };
  if (typeof body.max_tokens === 'number') chat.max_tokens = body.max_tokens;
  if (typeof body.temperature === 'number') chat.temperature = body.temperature;
  if (typeof body.top_p === 'number') chat.top_p = body.top_p;
  if (Array.isArray(body.stop_sequences) && body.stop_sequences.length > 0) chat.stop = body.stop_sequences;
  const tools = chatTools(body.tools);
  if (tools) {
    chat.tools = tools;
    const choice = chatToolChoice(body.tool_choice);
    if (choice !== undefined) chat.tool_choice = choice;
    if (isObject(body.tool_choice) && body.tool_choice.disable_parallel_tool_use === true) {
      chat.parallel_tool_calls = false;
    }
  }
  const userId = isObject(body.metadata) ? body.metadata.user_id : undefined;
  if (typeof userId === 'string' && userId !== '') chat.user = userId;
  if (body.stream === true) {
    chat.stream = true;
    chat.stream_options = { include_usage: true };
  }
  return chat;
}

// ——— Response: OpenAI → Anthropic ———

/** Anthropic counts cache reads and writes apart from `input_tokens`; OpenAI counts them inside the prompt. */
function anthropicUsage(usage: Usage | undefined): AnthropicUsage {
  return messagesUsage(usage ?? { promptTokens: 0, completionTokens: 0, cachedTokens: 0 });
}

function messageId(id: unknown): string {
  if (typeof id === 'string' && id.startsWith('msg_')) return id;
  return typeof id === 'string' && id !== '' ? `msg_${id}` : `msg_${randomBytes(12).toString('hex')}`;
}

/** Tool arguments as the object Anthropic's `input` must be; unparseable arguments give `{}`. */
function toolInput(args: unknown): Json {
  if (typeof args !== 'string' || args.trim() === '') return {};
  try {
    const parsed = JSON.parse(args) as unknown;
    return isObject(parsed) ? parsed : {};
  } catch {
    return {};
  }
}

/** An OpenAI `chat.completion` → an Anthropic `message`, named after the model the caller asked for. */
export function chatToMessages(completion: OpenAIObject, requestedModel: string): AnthropicMessage {
  const choice = ((completion.choices as Json[] | undefined) ?? [])[0] ?? {};
  const message = (choice.message ?? {}) as Json;
  const content: AnthropicMessage['content'] = [];
  const text = typeof message.content === 'string' ? message.content : textOf(message.content, '');
  if (text !== '') content.push({ type: 'text', text });
  else if (typeof message.refusal === 'string' && message.refusal !== '') {
    content.push({ type: 'text', text: message.refusal });
  }
  const calls = Array.isArray(message.tool_calls) ? (message.tool_calls as Json[]) : [];
  for (const call of calls) {
    const fn = (call.function ?? {}) as Json;
    content.push({
      type: 'tool_use',
      id: String(call.id ?? ''),
      name: String(fn.name ?? ''),
      input: toolInput(fn.arguments),
    });
  }
  const stopReason = anthropicStopReason(choice.finish_reason as string | undefined);
  return {
    id: messageId(completion.id),
    type: 'message',
    role: 'assistant',
    model: requestedModel,
    content,
    // Some providers say `stop` after calling tools; Anthropic callers look for `tool_use`.
    stop_reason: calls.length > 0 && stopReason === 'end_turn' ? 'tool_use' : stopReason,
    stop_sequence: null,
    usage: anthropicUsage(usageFromOpenAI(completion.usage as never)),
  };
}

// ——— Stream: OpenAI chunks → Anthropic events ———

/** One server-sent event as Anthropic writes it: the `event:` name repeats the data's `type`. */
export function anthropicEvent(type: string, data: Json): string {
  return `event: ${type}\ndata: ${JSON.stringify({ type, ...data })}\n\n`;
}

/**
 * OpenAI `chat.completion.chunk` objects → Anthropic stream events, as they come:
 * `message_start` with the first chunk; a text block for content; a `tool_use` block per tool
 * call with its arguments as `input_json_delta`s; each block stopped when the next begins or
 * the choice finishes; then `message_delta` (stop reason and usage) and `message_stop` as soon
 * as both the finish reason and the usage are known — or at {@link end}.
 *
 * Reasoning text (`reasoning_content`) is not forwarded: Anthropic thinking blocks need a
 * signature that no other provider can give.
 */
export class ChunksToMessageEvents {
  readonly #model: string;
  readonly #inputTokens: number;
  #id = '';
  #started = false;
  #finished = false;
  /** Index of the open content block, or -1. */
  #open = -1;
  #openKind: 'text' | 'tool' | undefined;
  #nextIndex = 0;
  /** OpenAI tool call index → Anthropic block index. */
  readonly #tools = new Map<number, number>();
  #finishReason: string | undefined;
  #usage: Usage | undefined;

  /** `inputTokens`: an estimate for `message_start`, which comes before the provider's count. */
  constructor(requestedModel: string, options: { inputTokens?: number } = {}) {
    this.#model = requestedModel;
    this.#inputTokens = options.inputTokens ?? 0;
  }

  /** Usage as the provider reported it so far. */
  get usage(): Usage | undefined {
    return this.#usage;
  }

  push(chunk: OpenAIObject): string[] {
    if (this.#finished) return [];
    const out: string[] = [];
    this.#start(out, chunk.id);
    const usage = usageFromOpenAI(chunk.usage as never);
    if (usage) this.#usage = usage;
    const choice = (Array.isArray(chunk.choices) ? (chunk.choices as Json[]) : [])[0];
    if (choice) {
      const delta = (choice.delta ?? {}) as Json;
      const text = typeof delta.content === 'string' && delta.content !== '' ? delta.content : delta.refusal;
      if (typeof text === 'string' && text !== '') this.#text(out, text);
      if (Array.isArray(delta.tool_calls)) {
        for (const [position, call] of (delta.tool_calls as Json[]).entries()) this.#tool(out, call, position);
      }
      if (typeof choice.finish_reason === 'string') {
        this.#finishReason = choice.finish_reason;
        this.#close(out);
      }
    }
    if (this.#finishReason !== undefined && this.#usage) this.#finish(out);
    return out;
  }

  /** The provider's stream ended; `usage` stands in when it reported none (e.g. a tokenizer count). */
  end(usage?: Usage): string[] {
    if (this.#finished) return [];
    const out: string[] = [];
    this.#start(out, undefined);
    this.#close(out);
    this.#usage ??= usage;
    this.#finish(out);
    return out;
  }

  #start(out: string[], id: unknown): void {
    if (this.#started) return;
    this.#started = true;
    this.#id = messageId(id);
    out.push(
      anthropicEvent('message_start', {
        message: {
          id: this.#id,
          type: 'message',
          role: 'assistant',
          model: this.#model,
          content: [],
          stop_reason: null,
          stop_sequence: null,
          usage: { ...anthropicUsage(undefined), input_tokens: this.#inputTokens },
        },
      }),
    );
  }

  #close(out: string[]): void {
    if (this.#open === -1) return;
    out.push(anthropicEvent('content_block_stop', { index: this.#open }));
    this.#open = -1;
    this.#openKind = undefined;
  }

  #begin(out: string[], kind: 'text' | 'tool', block: Json): number {
    this.#close(out);
    this.#open = this.#nextIndex++;
    this.#openKind = kind;
    out.push(anthropicEvent('content_block_start', { index: this.#open, content_block: block }));
    return this.#open;
  }

  #text(out: string[], text: string): void {
    if (this.#openKind !== 'text') this.#begin(out, 'text', { type: 'text', text: '' });
    out.push(anthropicEvent('content_block_delta', { index: this.#open, delta: { type: 'text_delta', text } }));
  }

  #tool(out: string[], call: Json, position: number): void {
    const key = typeof call.index === 'number' ? call.index : position;
    const fn = (call.function ?? {}) as Json;
    let index = this.#tools.get(key);
    if (index === undefined) {
      const id = typeof call.id === 'string' && call.id !== '' ? call.id : `toolu_${randomBytes(12).toString('hex')}`;
      index = this.#begin(out, 'tool', { type: 'tool_use', id, name: String(fn.name ?? ''), input: {} });
      this.#tools.set(key, index);
    }
    if (typeof fn.arguments === 'string' && fn.arguments !== '') {
      out.push(
        anthropicEvent('content_block_delta', {
          index,
          delta: { type: 'input_json_delta', partial_json: fn.arguments },
        }),
      );
    }
  }

  #finish(out: string[]): void {
    this.#finished = true;
    const stopReason = anthropicStopReason(this.#finishReason);
    out.push(
      anthropicEvent('message_delta', {
        delta: {
          stop_reason: this.#tools.size > 0 && stopReason === 'end_turn' ? 'tool_use' : stopReason,
          stop_sequence: null,
        },
        usage: anthropicUsage(this.#usage),
      }),
    );
    out.push(anthropicEvent('message_stop', {}));
  }
}

// ——— Same-format fast path (Anthropic door → Anthropic provider) ———

export { AnthropicUsageTap, usageFromAnthropicMessage } from '../providers/anthropic/usage.ts';

// ——— Errors in the caller's dialect ———

export { anthropicError, anthropicErrorEvent, anthropicErrorType } from '../providers/anthropic/errors.ts';
