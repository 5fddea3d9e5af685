import type { ProviderAdapter } from '../adapter.ts';
import { errorMessage } from './errors.ts';
import { chatRequest } from './request.ts';
import { chatResponse } from './response.ts';
import { anthropic } from './spec.ts';
import { chatStream } from './stream.ts';

/** Anthropic's Messages API behind Tollgate's OpenAI-format inside. */
export const anthropicAdapter: ProviderAdapter = {
  spec: anthropic,
  chatRequest,
  chatResponse,
  chatStream,
  errorMessage,
};

export { AnthropicStreamError } from './errors.ts';
export { anthropic } from './spec.ts';
export { AnthropicUsageTap, usageFromAnthropic, usageFromAnthropicMessage } from './usage.ts';
