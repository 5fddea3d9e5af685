import type { ProviderAdapter, TranslatedResponse } from '../adapter.ts';
import { geminiEmbeddingsRequest, geminiEmbeddingsResponse } from './embeddings.ts';
import { geminiErrorMessage, geminiRetryAfter, isGeminiCredentialError } from './errors.ts';
import { geminiChatRequest } from './request.ts';
import { geminiChatResponse } from './response.ts';
import { gemini } from './spec.ts';
import { GeminiChunkDecoder } from './stream.ts';

export { geminiRetryAfter, isGeminiCredentialError } from './errors.ts';
export { toGenerateContentRequest } from './request.ts';
export { gemini } from './spec.ts';
export { GeminiChunkDecoder } from './stream.ts';

/**
 * Google Gemini behind OpenAI's Chat Completions and Embeddings: `generateContent`,
 * `streamGenerateContent?alt=sse` and `batchEmbedContents` of the Generative Language API.
 *
 * `embeddingsResponse` takes the OpenAI request as an optional third argument: Gemini's answer
 * alone says neither which encoding the caller asked for nor how long the input was.
 */
export const geminiAdapter: ProviderAdapter & {
  embeddingsResponse(payload: Uint8Array, model: string, request?: Record<string, unknown>): TranslatedResponse;
  isCredentialError(status: number, payload: Uint8Array): boolean;
} = {
  spec: gemini,
  chatRequest: geminiChatRequest,
  chatResponse: geminiChatResponse,
  chatStream: (model) => new GeminiChunkDecoder(model),
  embeddingsRequest: geminiEmbeddingsRequest,
  embeddingsResponse: geminiEmbeddingsResponse,
  errorMessage: geminiErrorMessage,
  isCredentialError: isGeminiCredentialError,
  retryAfter: geminiRetryAfter,
};
