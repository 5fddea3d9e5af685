import type { Usage } from '../../metering/cost.ts';
import { eventData, SseSplitter } from '../../sse.ts';
import type { ChunkDecoder, OpenAIObject } from '../adapter.ts';
import { AnthropicStreamError } from './errors.ts';
import { openaiFinishReason } from './stop-reasons.ts';
import { openaiUsage, StreamUsage } from './usage.ts';
import type { StreamEvent } from './wire.ts';

interface ToolBlock {
  /** The call's position in OpenAI's `tool_calls`. */
  index: number;
  /** Whether any argument text was sent; a call without any gets `{}`. */
  hasArguments: boolean;
}

/**
 * Anthropic's stream → OpenAI `chat.completion.chunk` objects, event by event:
 *
 * - `message_start` → a chunk with `role: assistant`
 * - `text_delta` → `content`; `thinking_delta` → `reasoning_content`
 * - a `tool_use` block start → a `tool_calls` entry with id, name and empty arguments, then
 *   each `input_json_delta` → an arguments fragment for that entry
 * - `message_delta` → a chunk with `finish_reason`
 * - `message_stop` → the usage-only chunk (`choices: []`)
 * - `error` → throws an {@link AnthropicStreamError} carrying Anthropic's message
 *
 * `ping`, signatures, citations and unknown events are skipped.
 */
export function chatStream(model: string): ChunkDecoder {
  return new AnthropicChunkDecoder(model);
}

export class AnthropicChunkDecoder implements ChunkDecoder {
  readonly #splitter = new SseSplitter();
  readonly #usage = new StreamUsage();
  readonly #tools = new Map<number, ToolBlock>();
  readonly #created = Math.floor(Date.now() / 1000);
  #id = '';
  #model: string;
  #usageSent = false;
  #started = false;
  /** An error event that followed chunks in the same read: thrown on the next call. */
  #pendingError: AnthropicStreamError | undefined;

  constructor(model: string) {
    this.#model = model;
  }

  get usage(): Usage | undefined {
    return this.#usage.usage;
  }

  push(bytes: Uint8Array): OpenAIObject[] {
    if (this.#pendingError) throw this.#pendingError;
    return this.#read(this.#splitter.push(Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength)));
  }

  end(): OpenAIObject[] {
    if (this.#pendingError) throw this.#pendingError;
    const rest = this.#splitter.rest();
    const chunks = rest.trim() === '' ? [] : this.#read([rest]);
    // A stream cut short still reports what it used.
    if (this.#started && !this.#usageSent) chunks.push(...this.#usageChunk());
    return chunks;
  }

  #read(events: string[]): OpenAIObject[] {
    const chunks: OpenAIObject[] = [];
    for (const event of events) {
      const data = eventData(event) as StreamEvent | undefined;
      if (!data || typeof data !== 'object') continue;
      try {
        this.#translate(data, chunks);
      } catch (error) {
        // Chunks completed before the error still go out first.
        if (chunks.length === 0 || !(error instanceof AnthropicStreamError)) throw error;
        this.#pendingError = error;
        break;
      }
    }
    return chunks;
  }

  #chunk(delta: Record<string, unknown>, finishReason: string | null = null): OpenAIObject {
    return {
      id: this.#id,
      object: 'chat.completion.chunk',
      created: this.#created,
      model: this.#model,
      choices: [{ index: 0, delta, logprobs: null, finish_reason: finishReason }],
    };
  }

  #usageChunk(): OpenAIObject[] {
    const usage = this.#usage.usage;
    if (!usage) return [];
    this.#usageSent = true;
    return [
      {
        id: this.#id,
        object: 'chat.completion.chunk',
        created: this.#created,
        model: this.#model,
        choices: [],
        usage: openaiUsage(usage),
      },
    ];
  }

  #toolDelta(tool: ToolBlock, fn: Record<string, unknown>, start?: { id: unknown }): OpenAIObject {
    const entry = start
      ? { index: tool.index, id: start.id, type: 'function', function: fn }
      : { index: tool.index, function: fn };
    return this.#chunk({ tool_calls: [entry] });
  }

  #translate(event: StreamEvent, out: OpenAIObject[]): void {
    switch (event.type) {
      case 'message_start': {
        const message = event.message ?? {};
        this.#id = String(message.id ?? '');
        if (!this.#model && typeof message.model === 'string') this.#model = message.model;
        this.#usage.add(message.usage);
        this.#started = true;
        out.push(this.#chunk({ role: 'assistant', content: '' }));
        return;
      }
      case 'content_block_start': {
        const block = event.content_block;
        if (block.type === 'text' && typeof block.text === 'string' && block.text !== '') {
          out.push(this.#chunk({ content: block.text }));
        } else if (block.type === 'tool_use') {
          const tool = { index: this.#tools.size, hasArguments: false };
          this.#tools.set(event.index, tool);
          out.push(this.#toolDelta(tool, { name: block.name, arguments: '' }, { id: block.id }));
          // Some servers send the whole input up front instead of as deltas.
          const input = block.input as Record<string, unknown> | undefined;
          if (input && typeof input === 'object' && Object.keys(input).length > 0) {
            tool.hasArguments = true;
            out.push(this.#toolDelta(tool, { arguments: JSON.stringify(input) }));
          }
        }
        return;
      }
      case 'content_block_delta': {
        const delta = event.delta;
        if (delta.type === 'text_delta' && delta.text) out.push(this.#chunk({ content: delta.text }));
        else if (delta.type === 'thinking_delta' && delta.thinking) {
          out.push(this.#chunk({ reasoning_content: delta.thinking }));
        } else if (delta.type === 'input_json_delta' && delta.partial_json) {
          const tool = this.#tools.get(event.index);
          if (!tool) return;
          tool.hasArguments = true;
          out.push(this.#toolDelta(tool, { arguments: delta.partial_json }));
        }
        return;
      }
      case 'content_block_stop': {
        const tool = this.#tools.get(event.index);
        // A tool called without arguments still gets valid JSON for them.
        if (tool && !tool.hasArguments) {
          tool.hasArguments = true;
          out.push(this.#toolDelta(tool, { arguments: '{}' }));
        }
        return;
      }
      case 'message_delta':
        this.#usage.add(event.usage);
        if (event.delta?.stop_reason) out.push(this.#chunk({}, openaiFinishReason(event.delta.stop_reason)));
        return;
      case 'message_stop':
        if (!this.#usageSent) out.push(...this.#usageChunk());
        return;
      case 'error':
        throw new AnthropicStreamError(event.error?.type, event.error?.message);
      default:
        return;
    }
  }
}
