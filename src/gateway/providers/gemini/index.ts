import type { ProviderAdapter, TranslatedResponse } from '../adapter.ts';
import { embeddingsRequest, embeddingsResponse } from './embeddings.ts';
import { errorMessage, isCredentialError, retryAfter } from './errors.ts';
import { chatRequest } from './request.ts';
import { chatResponse } from './response.ts';
import { gemini } from './spec.ts';
import { chatStream } from './stream.ts';

export { toGeminiRequest } from './request.ts';
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
  chatRequest,
  chatResponse,
  chatStream,
  embeddingsRequest,
  embeddingsResponse,
  errorMessage,
  isCredentialError,
  retryAfter,
};
