import { errorBodyMessage } from '../shared/error-body.ts';
import type { GeminiError } from './wire.ts';

function parseError(payload: Uint8Array): GeminiError['error'] | undefined {
  try {
    const parsed = JSON.parse(Buffer.from(payload).toString('utf8')) as GeminiError | GeminiError[];
    // `streamGenerateContent` without `alt=sse` wraps its error in a one-element array.
    const body = Array.isArray(parsed) ? parsed[0] : parsed;
    return body && typeof body.error === 'object' ? body.error : undefined;
  } catch {
    return undefined;
  }
}

/** Google's own message from an error body (`{"error": {"code", "message", "status"}}`). */
export const errorMessage: (payload: Uint8Array) => string | undefined = errorBodyMessage;

/**
 * Whether an error response means the credential is bad rather than the request. Google answers a
 * wrong API key with **400** `INVALID_ARGUMENT` (reason `API_KEY_INVALID`), not 401, so a gateway
 * that reads 400 as "the caller's request was invalid" would blame the caller for an
 * administrator's expired key. A missing key or one without access to the API is 403
 * `PERMISSION_DENIED`; an expired one is 400 with reason `API_KEY_EXPIRED`.
 */
export function isCredentialError(status: number, payload: Uint8Array): boolean {
  if (status === 401 || status === 403) return true;
  const error = parseError(payload);
  return (error?.details ?? []).some((detail) => /^API_KEY_/.test(String(detail.reason ?? '')));
}

/**
 * How long Google asks a rate-limited caller to wait, in whole seconds, for a `retry-after`
 * header. Google sends no such header: a 429 carries `google.rpc.RetryInfo` (`"retryDelay": "7s"`)
 * among its error details instead.
 */
export function retryAfter(payload: Uint8Array): string | undefined {
  for (const detail of parseError(payload)?.details ?? []) {
    const delay = detail.retryDelay;
    const seconds = typeof delay === 'string' ? /^(\d+(?:\.\d+)?)s$/.exec(delay)?.[1] : undefined;
    if (seconds) return String(Math.ceil(Number(seconds)));
  }
  return undefined;
}
