import type { OpenAIObject, TranslatedResponse } from '../adapter.ts';
import { assistantMessage, completionId, functionCall, parseAnswer } from '../shared/answer.ts';
import { finishReasonOf } from './finish-reason.ts';
import { newToolCallId } from './tool-call-id.ts';
import { openaiUsageOf, usageOf } from './usage.ts';
import type { GeminiCandidate, GeminiPart, GenerateContentResponse } from './wire.ts';

/** `chatcmpl-` + Gemini's response id, or a fresh one when Gemini sent none. */
export function geminiCompletionId(response: GenerateContentResponse): string {
  return completionId(response.responseId);
}

/** Answer text: thought summaries (`thought: true`) are the model's reasoning, not its answer. */
export function isAnswerText(part: GeminiPart): part is GeminiPart & { text: string } {
  return typeof part.text === 'string' && part.text !== '' && part.thought !== true;
}

/** A `functionCall` part → an OpenAI tool call whose id carries the part's thought signature. */
export function toolCallOf(part: GeminiPart): Record<string, unknown> {
  const call = part.functionCall as NonNullable<GeminiPart['functionCall']>;
  return functionCall(newToolCallId(part.thoughtSignature), call.name, call.args);
}

function choiceOf(candidate: GeminiCandidate, position: number): OpenAIObject {
  const parts = candidate.content?.parts ?? [];
  const text = parts
    .filter(isAnswerText)
    .map((part) => part.text)
    .join('');
  const toolCalls = parts.filter((part) => part.functionCall).map(toolCallOf);
  const message = assistantMessage(text, toolCalls);
  return {
    index: candidate.index ?? position,
    message,
    logprobs: null,
    finish_reason: finishReasonOf(candidate.finishReason ?? 'STOP', toolCalls.length > 0),
  };
}

/** A `generateContent` response → an OpenAI `chat.completion`. */
export function chatResponse(payload: Uint8Array, model: string): TranslatedResponse {
  const response = parseAnswer<GenerateContentResponse>(payload, 'gemini');
  const candidates = response.candidates ?? [];
  const choices = candidates.map(choiceOf);
  if (choices.length === 0 && response.promptFeedback?.blockReason) {
    // The prompt itself was blocked: Gemini sends no candidate at all.
    choices.push({
      index: 0,
      message: { role: 'assistant', content: '', refusal: null },
      logprobs: null,
      finish_reason: 'content_filter',
    });
  }
  const usage = usageOf(response.usageMetadata);
  const body: OpenAIObject = {
    id: geminiCompletionId(response),
    object: 'chat.completion',
    created: Math.floor(Date.now() / 1000),
    model: response.modelVersion ?? model,
    choices,
  };
  if (usage && response.usageMetadata) body.usage = openaiUsageOf(usage, response.usageMetadata);
  return { body, usage };
}
