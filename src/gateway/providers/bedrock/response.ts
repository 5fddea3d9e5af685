import { randomUUID } from 'node:crypto';
import type { TranslatedResponse } from '../adapter.ts';
import { finishReason } from './finish-reason.ts';
import { openaiUsage, usageOf } from './usage.ts';
import type { ConverseResponse } from './wire.ts';

/** A Converse response → OpenAI `chat.completion`. Bedrock sends no response id: one is made. */
export function chatResponse(payload: Uint8Array, model: string): TranslatedResponse {
  const response = parse(payload);
  const blocks = response.output?.message?.content ?? [];
  const text = blocks.flatMap((block) => (typeof block.text === 'string' ? [block.text] : [])).join('');
  const toolCalls = blocks.flatMap((block) =>
    block.toolUse
      ? [
          {
            id: block.toolUse.toolUseId,
            type: 'function',
            function: { name: block.toolUse.name, arguments: JSON.stringify(block.toolUse.input ?? {}) },
          },
        ]
      : [],
  );
  const message: Record<string, unknown> = {
    role: 'assistant',
    content: text === '' && toolCalls.length > 0 ? null : text,
    refusal: null,
  };
  if (toolCalls.length > 0) message.tool_calls = toolCalls;
  const usage = usageOf(response.usage);
  return {
    body: {
      id: chatCompletionId(),
      object: 'chat.completion',
      created: Math.floor(Date.now() / 1000),
      model,
      choices: [{ index: 0, message, logprobs: null, finish_reason: finishReason(response.stopReason) }],
      ...(usage ? { usage: openaiUsage(usage) } : {}),
    },
    usage,
  };
}

export function chatCompletionId(): string {
  return `chatcmpl-${randomUUID().replaceAll('-', '')}`;
}

function parse(payload: Uint8Array): ConverseResponse {
  let parsed: unknown;
  try {
    parsed = JSON.parse(new TextDecoder().decode(payload));
  } catch {
    throw new Error('AWS Bedrock answered with a body that is not JSON');
  }
  if (!parsed || typeof parsed !== 'object') throw new Error('AWS Bedrock answered with an unexpected body');
  return parsed as ConverseResponse;
}
