import { TollgateError } from '../../errors.ts';
import type { Json } from '../admission.ts';

/**
 * A provider's error object in an answer whose HTTP status said 200 (`{"error": {...}}` in
 * OpenAI's format, `{"type": "error", "error": {...}}` in Anthropic's), or in a stream's error
 * event: a 502 `provider_error` carrying the provider's message, cut short.
 */
export function providerErrorIn(provider: string, error: unknown, where: 'an error' | 'an error event'): TollgateError {
  const detail = error && typeof error === 'object' ? (error as Json).message : undefined;
  const message = typeof detail === 'string' ? detail.slice(0, 300) : 'no message';
  return new TollgateError('TG_ERR_PROVIDER_ERROR', provider, 200, `${where}: ${message}`);
}
