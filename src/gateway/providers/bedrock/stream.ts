import type { Usage } from '../../metering/cost.ts';
import type { ChunkDecoder, OpenAIObject } from '../adapter.ts';
import { completionId } from '../shared/answer.ts';
import { EventStreamSplitter, headerString, type Message } from './event-stream.ts';
import { finishReason } from './finish-reason.ts';
import { openaiUsage, usageOf } from './usage.ts';
import type { TokenUsage } from './wire.ts';

/** An exception event in a ConverseStream (`:message-type` `exception` or `error`). */
export class BedrockStreamError extends Error {
  /** The exception's type, e.g. `throttlingException`, `modelStreamErrorException`. */
  readonly type: string;
  constructor(type: string, message: string) {
    super(message);
    this.name = 'BedrockStreamError';
    this.type = type;
  }
}

export function chatStream(model: string): ChunkDecoder {
  return new ConverseStreamDecoder(model);
}

interface StreamEvent {
  role?: string;
  contentBlockIndex?: number;
  start?: { toolUse?: { toolUseId?: string; name?: string } };
  delta?: { text?: string; toolUse?: { input?: string } };
  stopReason?: string;
  usage?: TokenUsage;
}

/**
 * ConverseStream's binary event stream → OpenAI `chat.completion.chunk`s, each event translated
 * the moment its last byte arrives: `messageStart` → the role chunk, text deltas → content
 * deltas, a `toolUse` block start → a tool call with its id and name, its input deltas →
 * argument deltas, `messageStop` → the finish chunk, `metadata` (always last) → the usage-only
 * chunk. An exception event throws a {@link BedrockStreamError} with Bedrock's message — after
 * the chunks the same bytes completed before it have been returned.
 */
class ConverseStreamDecoder implements ChunkDecoder {
  readonly #splitter = new EventStreamSplitter();
  readonly #id = completionId();
  readonly #created = Math.floor(Date.now() / 1000);
  readonly #model: string;
  /** Content block index → index among the OpenAI tool calls. */
  readonly #toolCalls = new Map<number, number>();
  #roleSent = false;
  #usage: Usage | undefined;
  #failure: Error | undefined;

  constructor(model: string) {
    this.#model = model;
  }

  get usage(): Usage | undefined {
    return this.#usage;
  }

  push(bytes: Uint8Array): OpenAIObject[] {
    this.#throwFailure();
    const chunks: OpenAIObject[] = [];
    for (const message of this.#splitter.push(bytes)) {
      const kind = headerString(message, ':message-type') ?? 'event';
      if (kind === 'exception' || kind === 'error') {
        const failure = streamError(message);
        if (chunks.length === 0) throw failure;
        this.#failure = failure;
        break;
      }
      chunks.push(...this.#translate(headerString(message, ':event-type'), parse(message)));
    }
    return chunks;
  }

  end(): OpenAIObject[] {
    this.#throwFailure();
    if (this.#splitter.pendingBytes > 0) throw new Error('The AWS Bedrock stream ended in the middle of an event');
    return [];
  }

  #throwFailure(): void {
    if (this.#failure) throw this.#failure;
  }

  #translate(type: string | undefined, event: StreamEvent): OpenAIObject[] {
    switch (type) {
      case 'messageStart':
        return [this.#chunk({ content: '' })];
      case 'contentBlockStart': {
        const toolUse = event.start?.toolUse;
        if (!toolUse) return [];
        const index = this.#toolIndex(event.contentBlockIndex);
        const call = {
          index,
          id: toolUse.toolUseId,
          type: 'function',
          function: { name: toolUse.name, arguments: '' },
        };
        return [this.#chunk({ tool_calls: [call] })];
      }
      case 'contentBlockDelta': {
        const text = event.delta?.text;
        if (typeof text === 'string' && text !== '') return [this.#chunk({ content: text })];
        const input = event.delta?.toolUse?.input;
        if (typeof input === 'string' && input !== '') {
          const index = this.#toolIndex(event.contentBlockIndex);
          return [this.#chunk({ tool_calls: [{ index, function: { arguments: input } }] })];
        }
        return [];
      }
      case 'messageStop':
        return [this.#chunk({}, finishReason(event.stopReason))];
      case 'metadata': {
        this.#usage = usageOf(event.usage);
        if (!this.#usage) return [];
        return [{ ...this.#head(), choices: [], usage: openaiUsage(this.#usage) }];
      }
      default:
        // contentBlockStop, and event types newer than this adapter (e.g. reasoning), add nothing.
        return [];
    }
  }

  #toolIndex(block: number | undefined): number {
    const key = block ?? -1;
    let index = this.#toolCalls.get(key);
    if (index === undefined) {
      index = this.#toolCalls.size;
      this.#toolCalls.set(key, index);
    }
    return index;
  }

  #head() {
    return { id: this.#id, object: 'chat.completion.chunk', created: this.#created, model: this.#model };
  }

  #chunk(delta: Record<string, unknown>, finish: string | null = null): OpenAIObject {
    const withRole = this.#roleSent ? delta : { role: 'assistant', ...delta };
    this.#roleSent = true;
    return { ...this.#head(), choices: [{ index: 0, delta: withRole, logprobs: null, finish_reason: finish }] };
  }
}

function parse(message: Message): StreamEvent {
  if (message.body.byteLength === 0) return {};
  try {
    return JSON.parse(decodeText(message.body)) as StreamEvent;
  } catch {
    throw new Error(`AWS Bedrock sent a ${headerString(message, ':event-type') ?? 'stream'} event that is not JSON`);
  }
}

function streamError(message: Message): BedrockStreamError {
  const type = headerString(message, ':exception-type') ?? headerString(message, ':error-code') ?? 'exception';
  let text = headerString(message, ':error-message');
  if (!text && message.body.byteLength > 0) {
    try {
      const body = JSON.parse(decodeText(message.body)) as { message?: unknown; Message?: unknown };
      const found = body.message ?? body.Message;
      if (typeof found === 'string') text = found;
    } catch {
      // Not JSON: the type alone says what happened.
    }
  }
  return new BedrockStreamError(type, text || `AWS Bedrock stream failed with ${type}`);
}

const decoder = new TextDecoder();
function decodeText(bytes: Uint8Array): string {
  return decoder.decode(bytes);
}
