import { errorBodyMessage } from '../shared/error-body.ts';

/** An `error` event in the middle of an Anthropic stream (e.g. `overloaded_error`). */
export class AnthropicStreamError extends Error {
  override readonly name = 'AnthropicStreamError';
  /** Anthropic's error type: `overloaded_error`, `api_error`, `rate_limit_error`, … */
  readonly type: string;
  constructor(type: string | undefined, message: string | undefined) {
    super(message || 'Anthropic stream error');
    this.type = type || 'api_error';
  }
}

/**
 * The provider's message from an Anthropic error body,
 * `{"type":"error","error":{"type":"…","message":"…"}}`; undefined if it is not one.
 */
export const errorMessage: (payload: Uint8Array | string) => string | undefined = errorBodyMessage;

const ERROR_TYPES: Record<number, string> = {
  400: 'invalid_request_error',
  401: 'authentication_error',
  402: 'billing_error',
  403: 'permission_error',
  404: 'not_found_error',
  413: 'request_too_large',
  429: 'rate_limit_error',
  500: 'api_error',
  529: 'overloaded_error',
};

/** The Anthropic error type that goes with an HTTP status. */
export function anthropicErrorType(status: number): string {
  return ERROR_TYPES[status] ?? (status >= 500 ? 'api_error' : 'invalid_request_error');
}

/** An error in Anthropic's shape; the type follows from the status when not given. */
export function anthropicError(
  status: number,
  type: string | undefined,
  message: string,
): { status: number; body: string } {
  return {
    status,
    body: JSON.stringify({ type: 'error', error: { type: type || anthropicErrorType(status), message } }),
  };
}

/** The `error` event that ends a stream whose headers are already sent. */
export function anthropicErrorEvent(type: string, message: string): string {
  return `event: error\ndata: ${JSON.stringify({ type: 'error', error: { type, message } })}\n\n`;
}
