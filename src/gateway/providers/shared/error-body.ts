/**
 * The provider's own message from an error body, in the shapes providers answer with:
 * `{"error": {"message": "…"}}` (OpenAI, Anthropic, Gemini), `{"error": "…"}`, `{"message": "…"}`
 * (Bedrock; some AWS front ends send `Message`), or any of these as the one element of an array
 * (Gemini's `streamGenerateContent` without `alt=sse`). Undefined when the body is not JSON (a
 * proxy's HTML page, say) or carries no message.
 */
export function errorBodyMessage(payload: Uint8Array | string): string | undefined {
  let parsed: unknown;
  try {
    parsed = JSON.parse(typeof payload === 'string' ? payload : Buffer.from(payload).toString('utf8'));
  } catch {
    return undefined;
  }
  const body = (Array.isArray(parsed) ? parsed[0] : parsed) as
    | { error?: { message?: unknown } | string; message?: unknown; Message?: unknown }
    | null
    | undefined;
  if (!body || typeof body !== 'object') return undefined;
  const error = body.error;
  const message = typeof error === 'string' ? error : (error?.message ?? body.message ?? body.Message);
  return typeof message === 'string' && message !== '' ? message : undefined;
}
