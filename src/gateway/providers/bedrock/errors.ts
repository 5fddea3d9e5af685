import { errorBodyMessage } from '../shared/error-body.ts';

/**
 * Bedrock's own message from an error body: `{"message": "..."}` (some AWS front ends send
 * `Message`). The error's type travels in the `x-amzn-errortype` header, not the body.
 */
export const errorMessage: (payload: Uint8Array) => string | undefined = errorBodyMessage;
