import { TollgateError } from '../../../errors.ts';
import type { Usage } from '../../metering/cost.ts';
import { eventData, SseSplitter } from '../../sse.ts';
import type { ChunkDecoder, OpenAIObject } from '../adapter.ts';
import { finishReasonOf } from './finish-reason.ts';
import { geminiCompletionId, isAnswerText, toolCallOf } from './response.ts';
import { openaiUsageOf, usageOf } from './usage.ts';
import type { GeminiError, GenerateContentResponse, UsageMetadata } from './wire.ts';

/**
 * Reads `streamGenerateContent?alt=sse` — a server-sent event per partial
 * `GenerateContentResponse` — into OpenAI `chat.completion.chunk`s as each event completes:
 * a role chunk when a candidate first appears, a content chunk per text part, a complete tool
 * call per `functionCall` part (Gemini never splits one across events), a finish chunk when the
 * candidate's `finishReason` arrives, and at the end a usage-only chunk from the last
 * `usageMetadata` (Gemini repeats the running totals on every event).
 *
 * Gemini 3 may send `finishReason` in an event after the function calls it ends, so whether a
 * candidate called tools is remembered across events.
 */
export function chatStream(model: string): ChunkDecoder {
  return new GeminiChunkDecoder(model);
}

export class GeminiChunkDecoder implements ChunkDecoder {
  readonly #splitter = new SseSplitter();
  readonly #created = Math.floor(Date.now() / 1000);
  readonly #requestedModel: string;
  #id: string | undefined;
  #model: string | undefined;
  /** Tool calls sent so far, per candidate that has started (its role chunk was sent). */
  readonly #toolCalls = new Map<number, number>();
  readonly #finished = new Set<number>();
  #metadata: UsageMetadata | undefined;
  usage: Usage | undefined;

  constructor(model: string) {
    this.#requestedModel = model;
  }

  push(bytes: Uint8Array): OpenAIObject[] {
    return this.#read(this.#splitter.push(Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength)));
  }

  end(): OpenAIObject[] {
    const rest = this.#splitter.rest();
    const chunks = rest.trim() === '' ? [] : this.#read([rest]);
    if (this.usage && this.#metadata) {
      chunks.push({ ...this.#base(), choices: [], usage: openaiUsageOf(this.usage, this.#metadata) });
    }
    return chunks;
  }

  #read(events: string[]): OpenAIObject[] {
    const chunks: OpenAIObject[] = [];
    for (const event of events) {
      const data = eventData(event) as (GenerateContentResponse & GeminiError) | undefined;
      if (!data || typeof data !== 'object') continue;
      if (data.error) {
        const { code, status, message } = data.error;
        const detail = `an error mid-stream (${status ?? 'error'}: ${String(message ?? '').slice(0, 200)})`;
        throw new TollgateError('TG_ERR_PROVIDER_ERROR', 'gemini', typeof code === 'number' ? code : 500, detail);
      }
      chunks.push(...this.#translate(data));
    }
    return chunks;
  }

  #translate(response: GenerateContentResponse): OpenAIObject[] {
    this.#id ??= geminiCompletionId(response);
    this.#model ??= response.modelVersion ?? this.#requestedModel;
    if (response.usageMetadata) {
      this.#metadata = response.usageMetadata;
      this.usage = usageOf(response.usageMetadata);
    }
    const chunks: OpenAIObject[] = [];
    const candidates = response.candidates ?? [];
    if (candidates.length === 0 && response.promptFeedback?.blockReason) {
      this.#start(0, chunks);
      this.#finish(0, 'content_filter', chunks);
    }
    candidates.forEach((candidate, position) => {
      const index = candidate.index ?? position;
      this.#start(index, chunks);
      for (const part of candidate.content?.parts ?? []) {
        if (isAnswerText(part)) {
          chunks.push(this.#chunk(index, { content: part.text }));
        } else if (part.functionCall) {
          const count = this.#toolCalls.get(index) ?? 0;
          this.#toolCalls.set(index, count + 1);
          chunks.push(this.#chunk(index, { tool_calls: [{ index: count, ...toolCallOf(part) }] }));
        }
      }
      if (candidate.finishReason) {
        const calledTools = (this.#toolCalls.get(index) ?? 0) > 0;
        this.#finish(index, finishReasonOf(candidate.finishReason, calledTools), chunks);
      }
    });
    return chunks;
  }

  #start(index: number, chunks: OpenAIObject[]): void {
    if (this.#toolCalls.has(index)) return;
    this.#toolCalls.set(index, 0);
    chunks.push(this.#chunk(index, { role: 'assistant', content: '' }));
  }

  #finish(index: number, reason: string, chunks: OpenAIObject[]): void {
    if (this.#finished.has(index)) return;
    this.#finished.add(index);
    chunks.push(this.#chunk(index, {}, reason));
  }

  #base(): OpenAIObject {
    return { id: this.#id, object: 'chat.completion.chunk', created: this.#created, model: this.#model };
  }

  #chunk(index: number, delta: Record<string, unknown>, finishReason: string | null = null): OpenAIObject {
    return { ...this.#base(), choices: [{ index, delta, logprobs: null, finish_reason: finishReason }] };
  }
}
