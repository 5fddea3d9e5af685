import type { ProviderAdapter } from '../adapter.ts';
import { errorMessage } from './errors.ts';
import { chatCall } from './request.ts';
import { chatResponse } from './response.ts';
import { anthropic } from './spec.ts';
import { AnthropicChunkDecoder } from './stream.ts';

/** Anthropic's Messages API behind Tollgate's OpenAI-format inside. */
export const anthropicAdapter: ProviderAdapter = {
  spec: anthropic,
  chatRequest: async (body, credential, stream) => chatCall(body, credential, stream),
  chatResponse,
  chatStream: (model) => new AnthropicChunkDecoder(model),
  errorMessage,
};

export { AnthropicStreamError } from './errors.ts';
export { anthropic } from './spec.ts';
export { AnthropicUsageTap, usageFromAnthropic, usageFromAnthropicMessage } from './usage.ts';
