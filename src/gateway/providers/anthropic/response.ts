import { TollgateError } from '../../../errors.ts';
import type { TranslatedResponse } from '../adapter.ts';
import { assistantMessage, functionCall, parseAnswer } from '../shared/answer.ts';
import { openaiFinishReason } from './stop-reasons.ts';
import { openaiUsage, usageFromAnthropic } from './usage.ts';
import type { AnthropicMessage } from './wire.ts';

type Json = Record<string, unknown>;

/**
 * An Anthropic `message` → an OpenAI `chat.completion`. Text blocks are joined into
 * `message.content`, `tool_use` blocks become `tool_calls`, and thinking text is carried as
 * `reasoning_content` (the field DeepSeek, vLLM and others use). Server-tool blocks (web
 * search and the like) have no OpenAI equivalent and are left out.
 */
export function toChatCompletion(message: AnthropicMessage, model: string): TranslatedResponse {
  let text = '';
  let reasoning = '';
  const toolCalls: Json[] = [];
  for (const block of Array.isArray(message.content) ? (message.content as Json[]) : []) {
    if (block.type === 'text' && typeof block.text === 'string') text += block.text;
    else if (block.type === 'thinking' && typeof block.thinking === 'string') reasoning += block.thinking;
    else if (block.type === 'tool_use') {
      toolCalls.push(functionCall(block.id, block.name, block.input));
    }
  }
  const usage = usageFromAnthropic(message.usage);
  const reply = assistantMessage(text, toolCalls, reasoning);
  const body: Json = {
    id: message.id,
    object: 'chat.completion',
    created: Math.floor(Date.now() / 1000),
    model: model || message.model,
    choices: [{ index: 0, message: reply, logprobs: null, finish_reason: openaiFinishReason(message.stop_reason) }],
  };
  if (usage) body.usage = openaiUsage(usage);
  return { body, usage };
}

/** The bytes of a non-streaming answer → OpenAI format. */
export function chatResponse(payload: Uint8Array, model: string): TranslatedResponse {
  const message = parseAnswer<AnthropicMessage>(payload, 'anthropic');
  if (message.type !== 'message') {
    throw new TollgateError('TG_ERR_PROVIDER_ERROR', 'anthropic', 200, 'a body that is not a message');
  }
  return toChatCompletion(message, model);
}
