import type { Json } from '../admission.ts';

/**
 * The output an OpenAI chat chunk or completion carries — text, refusals, tool names and
 * arguments — as text to count when the provider reports no usage.
 */
export function chatOutputText(object: Json): string {
  let text = '';
  for (const choice of Array.isArray(object.choices) ? (object.choices as Json[]) : []) {
    const part = (choice.delta ?? choice.message ?? {}) as Json;
    if (typeof part.content === 'string') text += part.content;
    if (typeof part.refusal === 'string') text += part.refusal;
    for (const call of Array.isArray(part.tool_calls) ? (part.tool_calls as Json[]) : []) {
      const fn = (call.function ?? {}) as Json;
      if (typeof fn.name === 'string') text += fn.name;
      if (typeof fn.arguments === 'string') text += fn.arguments;
    }
  }
  return text;
}
