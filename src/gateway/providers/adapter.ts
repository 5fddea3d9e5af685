import type { Usage } from '../metering/cost.ts';
import type { ProviderSpec, ResolvedCredential } from './types.ts';

/**
 * The contract every provider adapter fulfils. Inside Tollgate the common language is OpenAI
 * Chat Completions: an adapter turns an OpenAI-format request into its provider's native call
 * and the native answer (whole, or streamed event by event) back into OpenAI format.
 * Adapters are pure translation plus "how to reach it": no retries, no policy, no I/O other
 * than what authentication needs (e.g. fetching an Entra ID token).
 */

/** An OpenAI Chat Completions request body. Loosely typed: unknown fields are kept. */
export type ChatRequest = Record<string, unknown> & {
  /** Already the provider's own model id (the target's upstream model). */
  model: string;
  messages: Array<Record<string, unknown>>;
};

/** An OpenAI `chat.completion` or `chat.completion.chunk` object, or an embeddings list. */
export type OpenAIObject = Record<string, unknown>;

/** One HTTP call to the provider, ready to send. */
export interface HttpCall {
  url: string;
  headers: Record<string, string>;
  body: string | Uint8Array;
}

export interface TranslatedResponse {
  /** The answer in OpenAI format. */
  body: OpenAIObject;
  usage: Usage | undefined;
}

/**
 * Turns a provider's stream into OpenAI `chat.completion.chunk` objects, event by event:
 * every `push` returns the chunks that the bytes so far complete — never holding back a
 * chunk it could already emit. The last chunk of a stream that reported usage is a
 * usage-only chunk (`choices: []`, `usage: {...}`), as OpenAI sends with
 * `stream_options.include_usage`; the gateway drops it when the caller did not ask for it.
 */
export interface ChunkDecoder {
  push(bytes: Uint8Array): OpenAIObject[];
  /** The stream ended: whatever completes now (e.g. the usage chunk). */
  end(): OpenAIObject[];
  /** Usage as reported so far, in the gateway's terms. */
  readonly usage: Usage | undefined;
}

export interface ProviderAdapter {
  spec: ProviderSpec;
  /** The upstream call for a chat request; `stream` asks for the provider's streaming form. */
  chatRequest(body: ChatRequest, credential: ResolvedCredential, stream: boolean): Promise<HttpCall>;
  /** A whole (non-streaming) native response → OpenAI `chat.completion`. */
  chatResponse(payload: Uint8Array, model: string): TranslatedResponse;
  /** A decoder for the native stream of one call. */
  chatStream(model: string): ChunkDecoder;
  /** Embeddings, for providers that have them: OpenAI-format body in, OpenAI list out. */
  embeddingsRequest?(body: Record<string, unknown>, credential: ResolvedCredential): Promise<HttpCall>;
  /** `request` is the caller's OpenAI body (encoding_format, input) for providers whose answer lacks it. */
  embeddingsResponse?(payload: Uint8Array, model: string, request?: Record<string, unknown>): TranslatedResponse;
  /**
   * A Responses API call (`POST …/responses`), for providers that serve that API themselves
   * (`endpoints` has `responses`): the body is the caller's, already naming the upstream model.
   */
  responsesRequest?(body: Record<string, unknown>, credential: ResolvedCredential): Promise<HttpCall>;
  /** The provider's own error message from an error response body, if it has one. */
  errorMessage(payload: Uint8Array): string | undefined;
  /** For providers that report a bad credential with a status other than 401/403 (Gemini: 400). */
  isCredentialError?(status: number, payload: Uint8Array): boolean;
  /** Seconds to wait after a 429, for providers that say so in the body instead of `retry-after`. */
  retryAfter?(payload: Uint8Array): string | undefined;
}
