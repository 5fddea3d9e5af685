/**
 * Why a generation stopped, in both vocabularies. Anthropic's `pause_turn` (a server tool
 * paused a long turn) has no OpenAI equivalent and reads as a normal stop; `refusal` is the
 * closest thing to OpenAI's `content_filter`.
 */
const TO_OPENAI: Record<string, string> = {
  end_turn: 'stop',
  stop_sequence: 'stop',
  pause_turn: 'stop',
  max_tokens: 'length',
  model_context_window_exceeded: 'length',
  tool_use: 'tool_calls',
  refusal: 'content_filter',
};

const TO_ANTHROPIC: Record<string, string> = {
  stop: 'end_turn',
  length: 'max_tokens',
  tool_calls: 'tool_use',
  function_call: 'tool_use',
  content_filter: 'refusal',
};

export function openaiFinishReason(stopReason: string | null | undefined): string {
  return (stopReason && TO_OPENAI[stopReason]) || 'stop';
}

export function anthropicStopReason(finishReason: string | null | undefined): string {
  return (finishReason && TO_ANTHROPIC[finishReason]) || 'end_turn';
}
