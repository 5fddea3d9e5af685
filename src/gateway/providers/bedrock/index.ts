import type { ProviderAdapter } from '../adapter.ts';
import { errorMessage } from './errors.ts';
import { chatRequest } from './request.ts';
import { chatResponse } from './response.ts';
import { bedrock } from './spec.ts';
import { chatStream } from './stream.ts';

/** AWS Bedrock through the Converse API: SigV4-signed calls, binary event streams. */
export const bedrockAdapter: ProviderAdapter = {
  spec: bedrock,
  chatRequest,
  chatResponse,
  chatStream,
  errorMessage,
};

export { bedrock } from './spec.ts';
export { BedrockStreamError } from './stream.ts';
