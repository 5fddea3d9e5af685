/** Gemini stops that mean "withheld by a filter" (safety, blocklists, PII, recitation of sources). */
const FILTERED = new Set([
  'SAFETY',
  'RECITATION',
  'LANGUAGE',
  'BLOCKLIST',
  'PROHIBITED_CONTENT',
  'SPII',
  'IMAGE_SAFETY',
  'IMAGE_PROHIBITED_CONTENT',
  'IMAGE_RECITATION',
  'MODEL_ARMOR',
]);

/**
 * A Gemini `finishReason` → OpenAI `finish_reason`. Gemini says STOP after function calls too,
 * so whether the turn called tools decides between "stop" and "tool_calls". Other endings
 * (OTHER, MALFORMED_FUNCTION_CALL, unknown future values) read as "stop": the text so far is all
 * there is.
 */
export function finishReasonOf(reason: string, calledTools: boolean): string {
  if (reason === 'MAX_TOKENS') return 'length';
  if (FILTERED.has(reason)) return 'content_filter';
  return calledTools ? 'tool_calls' : 'stop';
}
