import type { TranslatedResponse } from '../adapter.ts';
import { assistantMessage, completionId, functionCall, parseAnswer } from '../shared/answer.ts';
import { finishReason } from './finish-reason.ts';
import { openaiUsage, usageOf } from './usage.ts';
import type { ConverseResponse } from './wire.ts';

/** A Converse response → OpenAI `chat.completion`. Bedrock sends no response id: one is made. */
export function chatResponse(payload: Uint8Array, model: string): TranslatedResponse {
  const response = parseAnswer<ConverseResponse>(payload, 'bedrock');
  const blocks = response.output?.message?.content ?? [];
  const text = blocks.flatMap((block) => (typeof block.text === 'string' ? [block.text] : [])).join('');
  const toolCalls = blocks.flatMap((block) =>
    block.toolUse ? [functionCall(block.toolUse.toolUseId, block.toolUse.name, block.toolUse.input)] : [],
  );
  const message = assistantMessage(text, toolCalls);
  const usage = usageOf(response.usage);
  return {
    body: {
      id: completionId(),
      object: 'chat.completion',
      created: Math.floor(Date.now() / 1000),
      model,
      choices: [{ index: 0, message, logprobs: null, finish_reason: finishReason(response.stopReason) }],
      ...(usage ? { usage: openaiUsage(usage) } : {}),
    },
    usage,
  };
}
