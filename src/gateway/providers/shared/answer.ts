import { randomUUID } from 'node:crypto';
import { TollgateError } from '../../../errors.ts';

/**
 * Pieces of the OpenAI `chat.completion` every translating adapter writes, written once: the
 * answer read as JSON, the completion id, a function call, the assistant's message.
 */

type Json = Record<string, unknown>;

/** A whole answer's bytes as a JSON object; anything else is the provider's failure (502). */
export function parseAnswer<T extends object = Json>(payload: Uint8Array, provider: string): T {
  let parsed: unknown;
  try {
    parsed = JSON.parse(Buffer.from(payload).toString('utf8'));
  } catch {
    throw new TollgateError('TG_ERR_PROVIDER_ERROR', provider, 200, 'a body that is not JSON');
  }
  if (!parsed || typeof parsed !== 'object') {
    throw new TollgateError('TG_ERR_PROVIDER_ERROR', provider, 200, 'a body that is not a JSON object');
  }
  return parsed as T;
}

/** `chatcmpl-` + the provider's own answer id, or a fresh one when it sent none. */
export function completionId(providerId?: string): string {
  return `chatcmpl-${providerId ?? randomUUID().replaceAll('-', '')}`;
}

/** One OpenAI `tool_calls` entry: the arguments are the input as a JSON string. */
export function functionCall(id: unknown, name: unknown, input: unknown): Json {
  return { id, type: 'function', function: { name, arguments: JSON.stringify(input ?? {}) } };
}

/**
 * The assistant's `message`: `content` is null when the answer is only tool calls (as OpenAI
 * sends it); thinking text, where a provider shows it, goes in `reasoning_content`.
 */
export function assistantMessage(text: string, toolCalls: Json[], reasoning = ''): Json {
  const message: Json = {
    role: 'assistant',
    content: text === '' && toolCalls.length > 0 ? null : text,
    refusal: null,
  };
  if (toolCalls.length > 0) message.tool_calls = toolCalls;
  if (reasoning !== '') message.reasoning_content = reasoning;
  return message;
}
