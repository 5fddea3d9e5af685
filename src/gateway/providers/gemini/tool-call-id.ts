import { randomBytes } from 'node:crypto';

/**
 * Tool call ids that carry Gemini's thought signatures.
 *
 * Gemini 3 answers 400 when a function call it made comes back in the history without the
 * `thoughtSignature` it was sent with, and OpenAI's tool calls have no field for one. Every client
 * echoes the tool call id, though, so the signature travels inside it:
 * `call_<random>__thought__<signature as base64url>` (base64url keeps the id to `[A-Za-z0-9_-]`,
 * which Anthropic-format clients require of tool ids). The `__thought__` separator is the one
 * LiteLLM uses, so histories written through either gateway read back the same.
 */
const SEPARATOR = '__thought__';

/**
 * Google's documented stand-in for a signature Tollgate does not have (history written by another
 * model or client): it tells Gemini 3 to skip the check instead of failing the request.
 */
export const SKIP_SIGNATURE = 'skip_thought_signature_validator';

export function newToolCallId(thoughtSignature?: string): string {
  const id = `call_${randomBytes(18).toString('base64url')}`;
  if (!thoughtSignature) return id;
  return `${id}${SEPARATOR}${toBase64Url(thoughtSignature)}`;
}

/** The thought signature inside a tool call id made by `newToolCallId`, as Gemini sent it. */
export function thoughtSignatureOf(toolCallId: string): string | undefined {
  const at = toolCallId.indexOf(SEPARATOR);
  if (at === -1) return undefined;
  const encoded = toolCallId.slice(at + SEPARATOR.length);
  return encoded === '' ? undefined : fromBase64Url(encoded);
}

/**
 * Standard base64 ↔ base64url by character, not by decoding, so the signature comes back byte for
 * byte as Gemini sent it (padding is restored from the length, as Google always pads).
 */
function toBase64Url(base64: string): string {
  return base64.replace(/\+/g, '-').replace(/\//g, '_').replace(/=+$/, '');
}

function fromBase64Url(encoded: string): string {
  const base64 = encoded.replace(/-/g, '+').replace(/_/g, '/');
  return base64 + '='.repeat((4 - (base64.length % 4)) % 4);
}
