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
export function errorMessage(payload: Uint8Array | string): string | undefined {
  try {
    const text = typeof payload === 'string' ? payload : Buffer.from(payload).toString('utf8');
    const parsed = JSON.parse(text) as { error?: { message?: unknown } | string; message?: unknown };
    if (typeof parsed.error === 'string') return parsed.error;
    if (typeof parsed.error?.message === 'string') return parsed.error.message;
    if (typeof parsed.message === 'string') return parsed.message;
  } catch {
    // Not JSON (a proxy's HTML page, say): no message to pass on.
  }
  return undefined;
}
