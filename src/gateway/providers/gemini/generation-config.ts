import type { GeminiGenerationConfig } from './wire.ts';

type Body = Record<string, unknown>;

function numberOf(body: Body, key: string): number | undefined {
  const value = body[key];
  return typeof value === 'number' ? value : undefined;
}

function stopSequences(stop: unknown): string[] | undefined {
  if (typeof stop === 'string') return [stop];
  if (Array.isArray(stop) && stop.length > 0) return stop.map(String);
  return undefined;
}

function responseFormat(format: unknown): Pick<GeminiGenerationConfig, 'responseMimeType' | 'responseJsonSchema'> {
  const { type, json_schema } = (format ?? {}) as { type?: unknown; json_schema?: { schema?: unknown } };
  if (type === 'json_object') return { responseMimeType: 'application/json' };
  if (type === 'json_schema') {
    const schema = json_schema?.schema;
    return schema === undefined
      ? { responseMimeType: 'application/json' }
      : { responseMimeType: 'application/json', responseJsonSchema: schema };
  }
  return {};
}

/**
 * Sampling and output settings → `generationConfig`. `max_completion_tokens` wins over the older
 * `max_tokens`; `n` asks for that many candidates; `response_format` asks for JSON output.
 * Settings Gemini has no counterpart for (logit_bias, logprobs, parallel_tool_calls, user, …)
 * are dropped.
 */
export function toGenerationConfig(body: Body): GeminiGenerationConfig | undefined {
  const config: GeminiGenerationConfig = {
    temperature: numberOf(body, 'temperature'),
    topP: numberOf(body, 'top_p'),
    maxOutputTokens: numberOf(body, 'max_completion_tokens') ?? numberOf(body, 'max_tokens'),
    stopSequences: stopSequences(body.stop),
    candidateCount: numberOf(body, 'n'),
    presencePenalty: numberOf(body, 'presence_penalty'),
    frequencyPenalty: numberOf(body, 'frequency_penalty'),
    seed: numberOf(body, 'seed'),
    ...responseFormat(body.response_format),
  };
  const set = Object.entries(config).filter(([, value]) => value !== undefined);
  return set.length > 0 ? (Object.fromEntries(set) as GeminiGenerationConfig) : undefined;
}
