import type { Dialect, TollgateError } from '../../errors.ts';
import type { Json } from '../admission.ts';
import type { Exchange } from '../exchange.ts';
import type { Usage } from '../metering/cost.ts';
import type { ChatRequest, HttpCall, OpenAIObject } from '../providers/adapter.ts';
import type { Target } from '../routing/model-registry.ts';

/**
 * A front door: one public API format (OpenAI Chat Completions, Anthropic Messages, OpenAI
 * Responses) and everything the one serving flow (`serve.ts`) needs to know about it. Inside,
 * the common language is OpenAI Chat Completions, as for providers: a door turns its body into
 * a chat request, and chat answers (whole or chunk by chunk) back into its own format. When a
 * target speaks the door's own format, the caller's body and the provider's bytes pass through
 * untouched, and the door's tap reads usage and errors on the way.
 *
 * Adding a door is a folder under `doors/` exporting one `FrontDoor`, and one route line.
 */
export interface FrontDoor {
  /** The route, e.g. `/v1/messages`. */
  readonly path: string;
  /** Recorded as the usage record's endpoint: `chat.completions`, `messages`, `responses`. */
  readonly endpoint: string;
  /** The dialect errors are written in. */
  readonly dialect: Dialect;

  /**
   * Checks the caller's body (400 in the door's words on anything invalid) and gives the
   * internal chat request policy and translating providers work on. `model` is the requested
   * public model name.
   */
  toChat(body: Json): ChatRequest;

  /** Whether the target speaks this door's format, so that its body and answer pass through. */
  native(target: Target): boolean;
  /**
   * Why a target that is not native cannot serve this body, when only a native one can (the
   * Responses API's `previous_response_id`, hosted tools): a 400 for that target.
   */
  untranslatable?(body: Json, target: Target): TollgateError | undefined;
  /** The pass-through call: the caller's body with the target's model id and the output cap. */
  nativeRequest(body: Json, target: Target, exchange: Exchange, stream: boolean): Promise<HttpCall>;
  /**
   * Reads a whole native answer (parsed JSON): the usage it reports, its output text (for
   * counting when it reports none), and a provider error it carries instead of an answer.
   */
  nativeAnswer(answer: Json, target: Target): { usage: Usage | undefined; outputText: string; error?: TollgateError };
  /** A tap over a native stream's events, as they pass through. */
  nativeTap(body: Json, target: Target): StreamTap;

  /** A whole chat answer (OpenAI `chat.completion`) in the door's format. */
  fromChat(completion: OpenAIObject, body: Json): Json;
  /**
   * A translator of chat chunks into the door's stream events. `promptTokens` counts the prompt
   * before the answer, for doors whose first event announces it (Anthropic's `message_start`);
   * it is a function so that doors that do not need the count do not pay for it.
   */
  streamFromChat(body: Json, promptTokens: () => number): StreamTranslator;
  /** The event that ends a broken stream, in the door's format. */
  streamError(error: TollgateError): string;
}

/**
 * Watches a native stream event by event. Usage is merged as it arrives, so whatever the
 * provider reported before an abort or an error is kept; text output is kept only for counting
 * when the provider reports no usage.
 */
export interface StreamTap {
  /** One whole SSE event. Returns false when the event is not to be forwarded to the caller. */
  observe(event: string): boolean;
  /** Usage reported so far, or undefined. */
  readonly usage: Usage | undefined;
  /** A provider error the stream reported (an `error` event), if any. */
  readonly error: TollgateError | undefined;
  /** Output text and tool-call arguments seen so far, for counting when no usage comes. */
  readonly outputText: string;
  /** The event that ends a broken stream, when the tap can write a better one than the door (numbered on). */
  streamError?(error: TollgateError): string;
}

export interface StreamTranslator {
  /** One chat chunk in; the door's events out, ready to write. */
  push(chunk: OpenAIObject): string[];
  /** The stream finished: closing events, given the final usage. */
  end(usage: Usage | undefined): string[];
  /** Output text and tool-call arguments seen so far, for counting when no usage comes. */
  readonly outputText: string;
  /** The events that end a broken stream, when the translator can write better ones than the door. */
  streamError?(error: TollgateError): string;
}
