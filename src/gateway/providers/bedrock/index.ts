import type { ProviderAdapter } from '../adapter.ts';
import { chatRequest } from './chat-request.ts';
import { chatResponse } from './chat-response.ts';
import { chatStream } from './chat-stream.ts';
import { errorMessage } from './error-message.ts';
import { bedrock } from './spec.ts';

/** AWS Bedrock through the Converse API: SigV4-signed calls, binary event streams. */
export const bedrockAdapter: ProviderAdapter = {
  spec: bedrock,
  chatRequest,
  chatResponse,
  chatStream,
  errorMessage,
};

export { BedrockStreamError } from './chat-stream.ts';
export { bedrock } from './spec.ts';
